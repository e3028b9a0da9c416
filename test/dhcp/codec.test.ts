import { describe, expect, it } from 'vitest';
import { decapsulate, decodeMessage, encapsulate, encodeReply, text, u8 } from '../../server/dhcp/codec.ts';
import { MessageType, Option } from '../../server/dhcp/options.ts';
import { formatUuid, parseUserClasses, readRequest } from '../../server/dhcp/request.ts';
import { clientPacket, macBytes } from './helpers/packets.ts';

const MAC = '52:54:00:aa:bb:01';

function corrupt(bytes: Buffer, edit: (b: Buffer) => Buffer): Buffer {
  return edit(Buffer.from(bytes));
}

describe('decodeMessage', () => {
  const good = clientPacket({ type: MessageType.DISCOVER, mac: MAC, vendorClass: 'PXEClient:Arch:00007:UNDI:003016', archCode: 7 });

  it('reads the header and the options of a PXE DISCOVER', () => {
    const decoded = decodeMessage(good);
    expect(decoded.ok).toBe(true);
    if (!decoded.ok) return;
    expect(decoded.message.xid).toBe(0x12345678);
    expect(decoded.message.chaddr.subarray(0, 6).toString('hex')).toBe('525400aabb01');
    expect(decoded.message.options.get(Option.VENDOR_CLASS)?.toString()).toBe('PXEClient:Arch:00007:UNDI:003016');
  });

  it.each([
    ['truncated header', good.subarray(0, 200), /truncated/],
    ['bad magic cookie', corrupt(good, (b) => (b.writeUInt32BE(0xdeadbeef, 236), b)), /magic cookie/],
    ['option overrunning the datagram', Buffer.concat([good.subarray(0, 240), Buffer.of(53, 1, 1, 60, 200, 65, 66)]), /overruns/],
    ['option with no length byte', Buffer.concat([good.subarray(0, 240), Buffer.of(53, 1, 1, 60)]), /no length/],
    ['hardware address longer than 16', corrupt(good, (b) => ((b[2] = 17), b)), /hardware address length/],
    ['datagram larger than any client sends', Buffer.concat([good, Buffer.alloc(9000)]), /oversized/],
  ])('drops a %s', (_name, bytes, reason) => {
    const decoded = decodeMessage(bytes);
    expect(decoded.ok).toBe(false);
    if (!decoded.ok) expect(decoded.reason).toMatch(reason);
  });

  it('joins thousands of repeats of one option in linear time', () => {
    const repeats = Buffer.alloc(2900 * 3);
    for (let i = 0; i < 2900; i++) repeats.set([12, 1, 97], i * 3);
    const decoded = decodeMessage(Buffer.concat([good.subarray(0, 240), Buffer.of(53, 1, 1), repeats, Buffer.of(255)]));
    expect(decoded.ok && decoded.message.options.get(Option.HOSTNAME)?.length).toBe(2900);
  });

  it('concatenates a repeated option (RFC 3396) and tolerates a missing END', () => {
    const bytes = Buffer.concat([good.subarray(0, 240), Buffer.of(53, 1, 1, 12, 2, 97, 98, 12, 1, 99)]);
    const decoded = decodeMessage(bytes);
    expect(decoded.ok && decoded.message.options.get(Option.HOSTNAME)?.toString()).toBe('abc');
  });
});

describe('readRequest', () => {
  const read = (bytes: Buffer) => {
    const decoded = decodeMessage(bytes);
    if (!decoded.ok) throw new Error(decoded.reason);
    return readRequest(decoded.message);
  };

  it('reads PXE facts: options 60, 77, 93, 94, 97 and relay option 82', () => {
    const result = read(
      clientPacket({
        type: MessageType.DISCOVER,
        mac: MAC,
        vendorClass: 'PXEClient:Arch:00007',
        userClass: 'iPXE',
        archCode: 7,
        uuid: '00112233-4455-6677-8899-aabbccddeeff',
        giaddr: '10.231.11.1',
        relayCircuitId: 'rack1-port7',
        extra: [[Option.CLIENT_NDI, Buffer.of(1, 3, 16)]],
      }),
    );
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const r = result.request;
    expect(r).toMatchObject({ type: MessageType.DISCOVER, mac: MAC, vendorClass: 'PXEClient:Arch:00007', userClasses: ['iPXE'], archCode: 7 });
    expect(r.uuid).toBe('00112233-4455-6677-8899-aabbccddeeff');
    expect(r.networkInterface).toEqual({ type: 1, major: 3, minor: 16 });
    expect(decapsulate(r.relayAgentInfo!)?.get(1)?.toString()).toBe('rack1-port7');
  });

  it.each([
    ['a reply (op 2)', (b: Buffer) => ((b[0] = 2), b), /not a request/],
    ['a non-Ethernet hardware type', (b: Buffer) => ((b[1] = 6), b), /not Ethernet/],
  ])('refuses %s', (_name, edit, reason) => {
    const result = read(edit(clientPacket({ type: MessageType.DISCOVER, mac: MAC })));
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toMatch(reason);
  });

  it.each([
    ['no message type (BOOTP)', [] as [number, Buffer][], /no message type/],
    ['a server message type', [[Option.MESSAGE_TYPE, u8(MessageType.OFFER)]] as [number, Buffer][], /not a client message/],
    ['a 3-byte requested address', [[Option.MESSAGE_TYPE, u8(1)], [Option.REQUESTED_ADDRESS, Buffer.of(1, 2, 3)]] as [number, Buffer][], /wrong length/],
  ])('refuses %s', (_name, options, reason) => {
    const bytes = encodeReply({ op: 1, xid: 1, flags: 0, ciaddr: 0, yiaddr: 0, siaddr: 0, giaddr: 0, htype: 1, hlen: 6, chaddr: macBytes(MAC), options })!;
    const result = read(bytes);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toMatch(reason);
  });

  it.each([
    [Buffer.from('iPXE'), ['iPXE']],
    [Buffer.concat([Buffer.of(4), Buffer.from('iPXE'), Buffer.of(3), Buffer.from('lab')]), ['iPXE', 'lab']],
    [Buffer.of(9, 65), ['\tA']],
  ])('parses user class %s (RFC 3004 instances or a bare string)', (bytes, expected) => {
    expect(parseUserClasses(bytes)).toEqual(expected);
  });

  it('formats a GUID', () => {
    expect(formatUuid(Buffer.from('00112233445566778899aabbccddeeff', 'hex'))).toBe('00112233-4455-6677-8899-aabbccddeeff');
  });
});

describe('encodeReply', () => {
  const base = { xid: 7, flags: 0x8000, ciaddr: 0, yiaddr: 0x0a000005, siaddr: 0x0a000001, giaddr: 0, htype: 1, hlen: 6, chaddr: macBytes(MAC) };

  it('writes a reply that decodes to the same fields, padded to 300 bytes', () => {
    const bytes = encodeReply({ ...base, file: 'ipxe.efi', options: [[Option.MESSAGE_TYPE, u8(2)], [Option.BOOTFILE, text('ipxe.efi')]] })!;
    expect(bytes.length).toBe(300);
    const decoded = decodeMessage(bytes);
    expect(decoded.ok).toBe(true);
    if (!decoded.ok) return;
    expect(decoded.message).toMatchObject({ op: 2, xid: 7, flags: 0x8000, yiaddr: 0x0a000005, siaddr: 0x0a000001, file: 'ipxe.efi' });
  });

  it('splits an option longer than 255 bytes and the decoder joins it back', () => {
    const long = Buffer.alloc(600, 0x41);
    const bytes = encodeReply({ ...base, options: [[Option.MESSAGE_TYPE, u8(2)], [Option.BOOTFILE, long]] })!;
    const decoded = decodeMessage(bytes);
    expect(decoded.ok && decoded.message.options.get(Option.BOOTFILE)?.equals(long)).toBe(true);
  });

  it('refuses a reply larger than the client accepts', () => {
    expect(encodeReply({ ...base, options: [[Option.BOOTFILE, Buffer.alloc(700)]] }, 576)).toBeNull();
  });

  it('encapsulates sub-options (option 175.176 = 1)', () => {
    expect(encapsulate([[176, u8(1)]]).toString('hex')).toBe('b00101');
    expect(decapsulate(Buffer.of(176, 1, 1, 177, 5, 1))).toBeNull();
  });
});
