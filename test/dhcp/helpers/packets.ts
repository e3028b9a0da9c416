// Crafted client datagrams for tests: a DISCOVER/REQUEST/... with the options a PXE ROM, iPXE or a relay sends.
import { encodeReply, encapsulate, text, u16, u32, u8, decodeMessage, type DhcpMessage } from '../../../server/dhcp/codec.ts';
import { BOOTREQUEST, Option } from '../../../server/dhcp/options.ts';
import { parseIpv4 } from '../../../server/domain/ipv4.ts';

export interface ClientPacket {
  type: number;
  mac: string;
  xid?: number;
  flags?: number;
  ciaddr?: string;
  giaddr?: string;
  requestedAddress?: string;
  serverId?: string;
  vendorClass?: string;
  /** Sent as iPXE does: the bare string. */
  userClass?: string;
  archCode?: number;
  uuid?: string;
  hostname?: string;
  relayCircuitId?: string;
  extra?: [number, Buffer][];
}

export function macBytes(mac: string): Buffer {
  const chaddr = Buffer.alloc(16);
  Buffer.from(mac.replace(/:/g, ''), 'hex').copy(chaddr);
  return chaddr;
}

export function clientPacket(packet: ClientPacket): Buffer {
  const options: [number, Buffer][] = [[Option.MESSAGE_TYPE, u8(packet.type)]];
  if (packet.requestedAddress) options.push([Option.REQUESTED_ADDRESS, u32(parseIpv4(packet.requestedAddress))]);
  if (packet.serverId) options.push([Option.SERVER_ID, u32(parseIpv4(packet.serverId))]);
  if (packet.hostname) options.push([Option.HOSTNAME, text(packet.hostname)]);
  if (packet.vendorClass) options.push([Option.VENDOR_CLASS, text(packet.vendorClass)]);
  if (packet.userClass) options.push([Option.USER_CLASS, text(packet.userClass)]);
  if (packet.archCode !== undefined) options.push([Option.CLIENT_ARCH, u16(packet.archCode)]);
  if (packet.uuid) options.push([Option.CLIENT_UUID, Buffer.concat([Buffer.of(0), Buffer.from(packet.uuid.replace(/-/g, ''), 'hex')])]);
  options.push([Option.PARAMETER_LIST, Buffer.of(1, 3, 6, 12, 15, 43, 60, 66, 67, 175)]);
  options.push(...(packet.extra ?? []));
  if (packet.relayCircuitId) options.push([Option.RELAY_AGENT_INFO, encapsulate([[1, text(packet.relayCircuitId)]])]);
  return encodeReply({
    op: BOOTREQUEST,
    xid: packet.xid ?? 0x1234_5678,
    flags: packet.flags ?? 0,
    ciaddr: packet.ciaddr ? parseIpv4(packet.ciaddr) : 0,
    yiaddr: 0,
    siaddr: 0,
    giaddr: packet.giaddr ? parseIpv4(packet.giaddr) : 0,
    htype: 1,
    hlen: 6,
    chaddr: macBytes(packet.mac),
    options,
  })!;
}

/** A decoded reply in test-friendly form. */
export interface SeenReply {
  op: number;
  type: number;
  xid: number;
  yiaddr: string;
  siaddr: string;
  giaddr: string;
  file: string;
  options: Record<number, string>;
}

const ip = (value: number) => [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join('.');

export function describeReply(bytes: Buffer): SeenReply {
  const decoded = decodeMessage(bytes);
  if (!decoded.ok) throw new Error(`reply does not decode: ${decoded.reason}`);
  const m: DhcpMessage = decoded.message;
  const options: Record<number, string> = {};
  for (const [code, value] of m.options) options[code] = value.toString('hex');
  return { op: m.op, type: m.options.get(Option.MESSAGE_TYPE)![0]!, xid: m.xid, yiaddr: ip(m.yiaddr), siaddr: ip(m.siaddr), giaddr: ip(m.giaddr), file: m.file, options };
}

export const hexText = (hex: string | undefined) => (hex === undefined ? undefined : Buffer.from(hex, 'hex').toString('latin1'));
export const hexIp = (hex: string | undefined) => (hex === undefined ? undefined : ip(Buffer.from(hex, 'hex').readUInt32BE(0)));
