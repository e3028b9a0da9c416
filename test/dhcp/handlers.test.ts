import { afterEach, describe, expect, it } from 'vitest';
import type { AppContext } from '../../server/context.ts';
import type { EngineResult } from '../../server/dhcp/engine.ts';
import { MessageType, Option } from '../../server/dhcp/options.ts';
import { buildDhcpEngine, type DhcpParts } from '../../server/dhcp/service.ts';
import { clientPacket, describeReply, hexIp, hexText, type ClientPacket } from './helpers/packets.ts';
import { memoryContext, SERVER } from './helpers/app.ts';

const KNOWN = '52:54:00:10:00:01';
const UNKNOWN = '52:54:00:10:00:99';
const PXE_UEFI = { vendorClass: 'PXEClient:Arch:00007:UNDI:003016', archCode: 7 };
const PXE_BIOS = { vendorClass: 'PXEClient:Arch:00000:UNDI:002001', archCode: 0 };

let ctx: AppContext;
let parts: DhcpParts;
let clock = 1_800_000_000_000;

function setup(extra: Record<string, unknown> = {}) {
  ctx = memoryContext(extra);
  ctx.services.nodes.add(KNOWN, { hostname: 'node1', managementAddress: '10.231.10.20' }, 'test');
  parts = buildDhcpEngine(ctx, ctx.log, { now: () => clock, flushIntervalMs: 0 });
}

afterEach(() => {
  parts?.leases.close();
  parts?.recorder.close();
  ctx?.store.close();
});

let xid = 1;
/** Each datagram gets its own xid unless the test sets one (the engine drops a repeat as a duplicate). */
function send(packet: ClientPacket, source = '0.0.0.0', door: 'dhcp' | 'proxy-boot-server' = 'dhcp'): EngineResult {
  return parts.engine.handle(clientPacket({ xid: xid++, ...packet }), source, 68, door);
}

function reply(packet: ClientPacket, source?: string, door?: 'dhcp' | 'proxy-boot-server') {
  const result = send(packet, source, door);
  if (result.kind !== 'send') throw new Error(`expected a reply, got ${JSON.stringify(result)}`);
  return { ...describeReply(result.bytes), to: result.to };
}

/** DISCOVER then REQUEST for the offered address: the ACK. */
function bind(packet: Omit<ClientPacket, 'type'>) {
  const offer = reply({ ...packet, type: MessageType.DISCOVER });
  return reply({ ...packet, type: MessageType.REQUEST, requestedAddress: offer.yiaddr, serverId: SERVER });
}

describe('authoritative handler', () => {
  it('offers a known node its reservation with the network options, broadcast', () => {
    setup();
    const offer = reply({ type: MessageType.DISCOVER, mac: KNOWN, ...PXE_BIOS });
    expect(offer.type).toBe(MessageType.OFFER);
    expect(offer.yiaddr).toBe('10.231.10.20');
    expect(offer.to).toEqual({ address: '255.255.255.255', port: 68 });
    expect(hexIp(offer.options[Option.SUBNET_MASK])).toBe('255.255.255.0');
    expect(hexIp(offer.options[Option.ROUTER])).toBe('10.231.10.254');
    expect(hexIp(offer.options[Option.DNS])).toBe('10.231.10.53');
    expect(hexIp(offer.options[Option.SERVER_ID])).toBe(SERVER);
    expect(hexText(offer.options[Option.HOSTNAME])).toBe('node1');
    expect(hexText(offer.options[Option.DOMAIN_NAME])).toBe('cluster.local');
    expect(parseInt(offer.options[Option.LEASE_TIME]!, 16)).toBe(3600);
  });

  it.each([
    ['BIOS', PXE_BIOS, 'undionly.kpxe'],
    ['x86-64 UEFI (arch 7)', PXE_UEFI, 'ipxe.efi'],
    ['x86-64 UEFI (arch 9)', { vendorClass: 'PXEClient:Arch:00009', archCode: 9 }, 'ipxe.efi'],
    ['arm64 UEFI (arch 11)', { vendorClass: 'PXEClient:Arch:00011', archCode: 11 }, 'ipxe-arm64.efi'],
  ])('hands a %s client its loader over TFTP (siaddr, file, 66, 67, 175.176)', (_name, facts, file) => {
    setup({ 'dhcp.arm64Loader': 'ipxe-arm64.efi' });
    const offer = reply({ type: MessageType.DISCOVER, mac: KNOWN, ...facts });
    expect(offer.siaddr).toBe(SERVER);
    expect(offer.file).toBe(file);
    expect(hexText(offer.options[Option.TFTP_SERVER])).toBe(SERVER);
    expect(hexText(offer.options[Option.BOOTFILE])).toBe(file);
    expect(offer.options[Option.IPXE_ENCAPSULATED]).toBe('b00101');
    expect(offer.options[Option.VENDOR_CLASS]).toBeUndefined();
  });

  it('hands iPXE (user class iPXE) the HTTP URL of its boot script', () => {
    setup();
    const offer = reply({ type: MessageType.DISCOVER, mac: KNOWN, ...PXE_BIOS, userClass: 'iPXE' });
    expect(offer.file).toBe(`http://${SERVER}:8080/boot.ipxe?mac=${KNOWN}`);
    expect(hexText(offer.options[Option.BOOTFILE])).toBe(`http://${SERVER}:8080/boot.ipxe?mac=${KNOWN}`);
    expect(offer.options[Option.IPXE_ENCAPSULATED]).toBe('b00101');
  });

  it('hands UEFI HTTP boot (arch 16) a URL and echoes option 60 HTTPClient', () => {
    setup();
    const offer = reply({ type: MessageType.DISCOVER, mac: KNOWN, vendorClass: 'HTTPClient:Arch:00016:UNDI:003001', archCode: 16 });
    expect(offer.file).toBe(`http://${SERVER}:8080/boot/ipxe.efi`);
    expect(hexText(offer.options[Option.VENDOR_CLASS])).toBe('HTTPClient');
  });

  it('gives a plain client of a known node no boot file', () => {
    setup();
    const offer = reply({ type: MessageType.DISCOVER, mac: KNOWN });
    expect(offer.file).toBe('');
    expect(offer.options[Option.BOOTFILE]).toBeUndefined();
  });

  it('ACKs the offered address and persists the lease; records an unknown PXE MAC as discovered once', () => {
    setup();
    const ack = bind({ mac: UNKNOWN, ...PXE_UEFI });
    expect(ack.type).toBe(MessageType.ACK);
    expect(ack.yiaddr).toBe('10.231.10.100');
    bind({ mac: UNKNOWN, ...PXE_UEFI });
    parts.leases.flush();
    parts.recorder.flush();
    expect(ctx.store.leases.get('10.231.10.100')).toMatchObject({ mac: UNKNOWN, state: 'bound', expiresAt: clock + 3600_000 });
    const node = ctx.services.nodes.findByMac(UNKNOWN);
    expect(node?.state).toBe('discovered');
    expect(node?.facts).toMatchObject({ archCode: 7, firmware: 'uefi-x64' });
    // Discovered once, and the boot decision DHCP handed out written once (the DISCOVER's and REQUEST's are one).
    const events = ctx.store.db.prepare('SELECT kind, node_id AS nodeId, message FROM events WHERE mac = ? ORDER BY id').all(UNKNOWN) as { kind: string; nodeId: number; message: string }[];
    expect(events.map((event) => event.kind)).toEqual(['transition', 'boot']);
    expect(events[1]!.nodeId).toBe(node!.id);
    expect(events[1]!.message).toMatch(/^DHCP: uefi-x64 client gets ipxe\.efi over TFTP; plan: .*own disk/);
  });

  it('gives a MAC the same pool address again, after release too', () => {
    setup();
    const first = bind({ mac: UNKNOWN, ...PXE_BIOS });
    send({ type: MessageType.RELEASE, mac: UNKNOWN, ciaddr: first.yiaddr, serverId: SERVER });
    expect(parts.leases.at(0x0ae70a64)?.state).toBe('released');
    expect(bind({ mac: UNKNOWN, ...PXE_BIOS }).yiaddr).toBe(first.yiaddr);
  });

  it('refuses the 4th client of a pool of 3 (counted, no hang), and serves again when a lease expires', () => {
    setup();
    const macs = ['52:54:00:20:00:01', '52:54:00:20:00:02', '52:54:00:20:00:03'];
    expect(macs.map((mac) => bind({ mac, ...PXE_BIOS }).yiaddr)).toEqual(['10.231.10.100', '10.231.10.101', '10.231.10.102']);
    const fourth = send({ type: MessageType.DISCOVER, mac: '52:54:00:20:00:04', ...PXE_BIOS });
    expect(fourth).toMatchObject({ kind: 'drop', why: 'poolFull' });
    expect(send({ type: MessageType.DISCOVER, mac: '52:54:00:20:00:04', ...PXE_BIOS })).toMatchObject({ kind: 'drop', why: 'poolFull' });
    expect(parts.engine.counters.poolFull).toBe(2);
    expect(reply({ type: MessageType.DISCOVER, mac: KNOWN, ...PXE_BIOS }).yiaddr).toBe('10.231.10.20');
    clock += 3600_000 + 1;
    expect(reply({ type: MessageType.DISCOVER, mac: '52:54:00:20:00:04', ...PXE_BIOS }).type).toBe(MessageType.OFFER);
  });

  it('never ACKs a REQUEST for another server, and withdraws its own offer', () => {
    setup();
    const offer = reply({ type: MessageType.DISCOVER, mac: UNKNOWN, ...PXE_BIOS });
    const result = send({ type: MessageType.REQUEST, mac: UNKNOWN, ...PXE_BIOS, requestedAddress: offer.yiaddr, serverId: '10.231.10.2' });
    expect(result).toMatchObject({ kind: 'drop', why: 'otherServer' });
    expect(parts.leases.holds(parts.leases.at(0x0ae70a64)!)).toBe(false);
  });

  it.each([
    ['an address on another network (even with no record of the client)', UNKNOWN, false, '192.0.2.10', /not on this network/],
    ['an address outside the pool instead of its lease', UNKNOWN, true, '10.231.10.50', /this client's address is 10\.231\.10\.100/],
    ['another node reservation instead of its own', KNOWN, false, '10.231.10.100', /this client's address is 10\.231\.10\.20/],
  ])('NAKs a REQUEST (INIT-REBOOT) for %s', (_name, mac, bound, address, message) => {
    setup();
    if (bound) bind({ mac, ...PXE_BIOS });
    const nak = reply({ type: MessageType.REQUEST, mac, ...PXE_BIOS, requestedAddress: address });
    expect(nak.type).toBe(MessageType.NAK);
    expect(nak.yiaddr).toBe('0.0.0.0');
    expect(hexText(nak.options[Option.MESSAGE])).toMatch(message);
    expect(nak.to.address).toBe('255.255.255.255');
  });

  it('NAKs a REQUEST naming this server for an address it offered another MAC, and binds nothing', () => {
    setup();
    const taken = bind({ mac: '52:54:00:20:00:01', ...PXE_BIOS });
    const nak = reply({ type: MessageType.REQUEST, mac: UNKNOWN, ...PXE_BIOS, requestedAddress: taken.yiaddr, serverId: SERVER });
    expect(nak.type).toBe(MessageType.NAK);
    expect(hexText(nak.options[Option.MESSAGE])).toMatch(/no offer of 10\.231\.10\.100 was made to this client/);
    expect(parts.engine.counters.refusedNoOffer).toBe(1);
    expect(parts.leases.at(0x0ae70a64)!.mac).toBe('52:54:00:20:00:01');
  });

  it('stays silent on INIT-REBOOT from a client it has no record of (RFC 2131 4.3.2) and binds nothing', () => {
    setup();
    const result = send({ type: MessageType.REQUEST, mac: UNKNOWN, ...PXE_BIOS, requestedAddress: '10.231.10.101' });
    expect(result).toMatchObject({ kind: 'drop', why: 'refusedInitRebootUnknown' });
    expect(parts.engine.counters.refusedInitRebootUnknown).toBe(1);
    expect(parts.leases.at(0x0ae70a65)).toBeNull();
  });

  it('stays silent on a renewal of an address it never bound to that client', () => {
    setup();
    const result = send({ type: MessageType.REQUEST, mac: UNKNOWN, ...PXE_BIOS, ciaddr: '10.231.10.101' }, '10.231.10.101');
    expect(result).toMatchObject({ kind: 'drop', why: 'refusedRenewUnknown' });
    expect(parts.leases.at(0x0ae70a65)).toBeNull();
  });

  it('refuses a multicast or broadcast chaddr, counted', () => {
    setup();
    expect(send({ type: MessageType.DISCOVER, mac: 'ff:ff:ff:ff:ff:ff', ...PXE_BIOS })).toMatchObject({ kind: 'drop', why: 'refusedGroupMac' });
    expect(send({ type: MessageType.DISCOVER, mac: '01:00:5e:00:00:01', ...PXE_BIOS })).toMatchObject({ kind: 'drop', why: 'refusedGroupMac' });
    expect(parts.engine.counters.refusedGroupMac).toBe(2);
  });

  it('renews a lease by unicast to ciaddr', () => {
    setup();
    const ack = bind({ mac: UNKNOWN, ...PXE_BIOS });
    const renewed = reply({ type: MessageType.REQUEST, mac: UNKNOWN, ciaddr: ack.yiaddr }, ack.yiaddr);
    expect(renewed.type).toBe(MessageType.ACK);
    expect(renewed.to).toEqual({ address: ack.yiaddr, port: 68 });
  });

  it('answers INFORM without an address or lease time', () => {
    setup();
    const ack = reply({ type: MessageType.INFORM, mac: KNOWN, ciaddr: '10.231.10.20' }, '10.231.10.20');
    expect(ack).toMatchObject({ type: MessageType.ACK, yiaddr: '0.0.0.0', to: { address: '10.231.10.20', port: 68 } });
    expect(ack.options[Option.LEASE_TIME]).toBeUndefined();
    expect(hexIp(ack.options[Option.SUBNET_MASK])).toBe('255.255.255.0');
  });

  it('quarantines a declined address and offers the client another', () => {
    setup();
    const ack = bind({ mac: UNKNOWN, ...PXE_BIOS });
    expect(send({ type: MessageType.DECLINE, mac: UNKNOWN, requestedAddress: ack.yiaddr, serverId: SERVER })).toMatchObject({ kind: 'done' });
    const next = reply({ type: MessageType.DISCOVER, mac: UNKNOWN, ...PXE_BIOS, requestedAddress: ack.yiaddr });
    expect(next.yiaddr).not.toBe(ack.yiaddr);
    expect(reply({ type: MessageType.DISCOVER, mac: '52:54:00:20:00:07', ...PXE_BIOS }).yiaddr).not.toBe(ack.yiaddr);
  });

  it('answers a relayed request to the relay on port 67 from the relayed pool, echoing option 82', () => {
    setup();
    const offer = reply({ type: MessageType.DISCOVER, mac: UNKNOWN, ...PXE_BIOS, giaddr: '10.231.11.1', relayCircuitId: 'rack2' }, '10.231.11.1');
    expect(offer.to).toEqual({ address: '10.231.11.1', port: 67 });
    expect(offer.giaddr).toBe('10.231.11.1');
    expect(offer.yiaddr).toBe('10.231.11.100');
    expect(hexIp(offer.options[Option.ROUTER])).toBe('10.231.11.1');
    expect(hexText(offer.options[Option.RELAY_AGENT_INFO])).toBe('\u0001\u0005rack2');
  });

  it.each([
    ['a relay outside the served subnets', { giaddr: '192.0.2.1' }, '192.0.2.1'],
    ['an unrelayed source on another network', {}, '192.168.77.5'],
  ])('ignores %s', (_name, fields, source) => {
    setup();
    expect(send({ type: MessageType.DISCOVER, mac: UNKNOWN, ...PXE_BIOS, ...fields }, source)).toMatchObject({ kind: 'drop', why: 'foreign' });
  });

  it.each([
    ['pxe-clients', { pxeUnknown: true, plainUnknown: false, plainKnown: true }],
    ['known-macs', { pxeUnknown: false, plainUnknown: false, plainKnown: true }],
    ['all', { pxeUnknown: true, plainUnknown: true, plainKnown: true }],
  ])('answer policy %s', (answer, expected) => {
    setup({ 'dhcp.answer': answer });
    const answered = (packet: ClientPacket) => send(packet).kind === 'send';
    expect({
      pxeUnknown: answered({ type: MessageType.DISCOVER, mac: UNKNOWN, ...PXE_BIOS }),
      plainUnknown: answered({ type: MessageType.DISCOVER, mac: '52:54:00:30:00:01' }),
      plainKnown: answered({ type: MessageType.DISCOVER, mac: KNOWN }),
    }).toEqual(expected);
  });

  it('reloads persisted leases at start', () => {
    setup();
    const ack = bind({ mac: UNKNOWN, ...PXE_BIOS });
    parts.leases.close();
    parts = buildDhcpEngine(ctx, ctx.log, { now: () => clock, flushIntervalMs: 0 });
    // The reloaded lease is a record: its client gets it again at INIT-REBOOT, another client's SELECTING is refused.
    expect(reply({ type: MessageType.REQUEST, mac: UNKNOWN, ...PXE_BIOS, requestedAddress: ack.yiaddr })).toMatchObject({ type: MessageType.ACK, yiaddr: ack.yiaddr });
    const nak = reply({ type: MessageType.REQUEST, mac: '52:54:00:20:00:01', ...PXE_BIOS, requestedAddress: ack.yiaddr, serverId: SERVER });
    expect(nak.type).toBe(MessageType.NAK);
  });
});

describe('proxyDHCP handler', () => {
  it('offers a PXE client its boot file without an address, with 60 PXEClient and 43', () => {
    setup({ 'dhcp.mode': 'proxy' });
    const offer = reply({ type: MessageType.DISCOVER, mac: UNKNOWN, ...PXE_UEFI, uuid: '00112233-4455-6677-8899-aabbccddeeff' });
    expect(offer).toMatchObject({ type: MessageType.OFFER, yiaddr: '0.0.0.0', siaddr: SERVER, file: 'ipxe.efi' });
    expect(offer.to).toEqual({ address: '255.255.255.255', port: 68 });
    expect(hexText(offer.options[Option.VENDOR_CLASS])).toBe('PXEClient');
    expect(offer.options[Option.VENDOR_SPECIFIC]).toBe('060108');
    expect(offer.options[Option.CLIENT_UUID]).toBe('00' + '00112233445566778899aabbccddeeff');
    expect(offer.options[Option.LEASE_TIME]).toBeUndefined();
  });

  it('answers a port-4011 REQUEST straight back to the client', () => {
    setup({ 'dhcp.mode': 'proxy' });
    const result = send({ type: MessageType.REQUEST, mac: UNKNOWN, ...PXE_BIOS, userClass: 'iPXE', ciaddr: '10.231.10.60' }, '10.231.10.60', 'proxy-boot-server');
    if (result.kind !== 'send') throw new Error(JSON.stringify(result));
    expect(result.to).toEqual({ address: '10.231.10.60', port: 68 });
    expect(describeReply(result.bytes)).toMatchObject({ type: MessageType.ACK, file: `http://${SERVER}:8080/boot.ipxe?mac=${UNKNOWN}` });
  });

  it('ignores plain clients and REQUESTs on port 67', () => {
    setup({ 'dhcp.mode': 'proxy' });
    expect(send({ type: MessageType.DISCOVER, mac: KNOWN })).toMatchObject({ kind: 'drop', why: 'policy' });
    expect(send({ type: MessageType.REQUEST, mac: KNOWN, ...PXE_BIOS, requestedAddress: '10.231.10.20' })).toMatchObject({ kind: 'drop', why: 'unsupported' });
  });
});

describe('engine edge cases', () => {
  it('NAKs a relayed REQUEST to the relay with the broadcast flag set', () => {
    setup();
    const nak = reply({ type: MessageType.REQUEST, mac: UNKNOWN, ...PXE_BIOS, giaddr: '10.231.11.1', requestedAddress: '10.231.10.100' }, '10.231.11.1');
    expect(nak.type).toBe(MessageType.NAK);
    expect(nak.to).toEqual({ address: '10.231.11.1', port: 67 });
    const result = send({ type: MessageType.REQUEST, mac: UNKNOWN, ...PXE_BIOS, giaddr: '10.231.11.1', requestedAddress: '10.231.10.100' }, '10.231.11.1');
    expect(result.kind === 'send' && result.bytes.readUInt16BE(10) & 0x8000).toBe(0x8000);
  });

  it('records a booting MAC once per interval however often it asks', () => {
    setup();
    for (let i = 0; i < 5; i++) bind({ mac: UNKNOWN, ...PXE_BIOS });
    parts.recorder.flush();
    for (let i = 0; i < 5; i++) bind({ mac: UNKNOWN, ...PXE_BIOS, userClass: 'iPXE' });
    parts.recorder.flush();
    expect(ctx.services.nodes.findByMac(UNKNOWN)?.facts.userClass).toBeUndefined();
    clock += 60_001;
    bind({ mac: UNKNOWN, ...PXE_BIOS, userClass: 'iPXE' });
    parts.recorder.flush();
    expect(ctx.services.nodes.findByMac(UNKNOWN)?.facts.userClass).toBe('iPXE');
    expect(ctx.store.db.prepare("SELECT COUNT(*) AS n FROM events WHERE kind = 'transition' AND mac = ?").get(UNKNOWN)).toEqual({ n: 1 });
    // Two decisions: the plain PXE ROM's (a loader over TFTP) and, a boot later, iPXE's (its script URL).
    const boots = ctx.store.db.prepare("SELECT message FROM events WHERE kind = 'boot' AND mac = ? ORDER BY id").all(UNKNOWN) as { message: string }[];
    expect(boots.map((boot) => boot.message)).toEqual([expect.stringMatching(/gets undionly\.kpxe over TFTP/), expect.stringMatching(/gets http:\/\/\S+\/boot\.ipxe\?mac=/)]);
  });

  it('drops a second copy of the same datagram (two paths to one segment), not a later retransmission', () => {
    setup();
    const packet = { type: MessageType.DISCOVER, mac: UNKNOWN, xid: 0xabc, ...PXE_BIOS };
    expect(send(packet).kind).toBe('send');
    expect(send(packet)).toMatchObject({ kind: 'drop', why: 'duplicate' });
    clock += 1000;
    expect(send(packet).kind).toBe('send');
    expect(parts.engine.counters.duplicate).toBe(1);
  });

  it('records a rack of new machines in small batches, not in one long transaction', () => {
    setup({ 'provisioning.pool': { start: '10.231.10.100', end: '10.231.10.199' } });
    const macs = Array.from({ length: 50 }, (_, i) => `52:54:00:50:00:${i.toString(16).padStart(2, '0')}`);
    for (const mac of macs) bind({ mac, ...PXE_BIOS });
    const discovered = () => macs.filter((mac) => ctx.services.nodes.findByMac(mac)).length;
    parts.recorder.flush();
    expect(discovered()).toBe(20);
    parts.recorder.flush(true);
    expect(discovered()).toBe(50);
  });

  it('turns a failing store into a counted handler error, never a throw', () => {
    setup();
    ctx.store.nodes.getByMac = () => {
      throw new Error('database is locked');
    };
    const result = send({ type: MessageType.DISCOVER, mac: UNKNOWN, ...PXE_BIOS });
    expect(result.kind).toBe('error');
    expect(parts.engine.counters.handlerErrors).toBe(1);
  });
});

