// What a client asks for, read from a decoded datagram: the message type, addresses, and the PXE facts
// (options 60, 77, 93, 94, 97) the boot plan needs. Returns the reason when the datagram is not a usable request.
import type { DhcpMessage } from './codec.ts';
import { BOOTREQUEST, MessageType, Option, type MessageTypeCode } from './options.ts';

export interface ClientRequest {
  message: DhcpMessage;
  type: MessageTypeCode;
  mac: string;
  requestedAddress: number | null;
  serverId: number | null;
  clientHostname: string | null;
  /** Option 57, at least 576. */
  maxMessageSize: number;
  vendorClass: string | null;
  userClasses: string[];
  archCode: number | null;
  /** Option 94: interface type and UNDI version. */
  networkInterface: { type: number; major: number; minor: number } | null;
  /** Option 97 as a UUID string, and its raw bytes (echoed to PXE clients). */
  uuid: string | null;
  uuidRaw: Buffer | null;
  /** Option 82, echoed verbatim in replies to a relay (RFC 3046 2.2). */
  relayAgentInfo: Buffer | null;
}

/** `52:54:00:12:34:56` from chaddr; the same form as domain/mac.ts, without its regular expressions. */
function macOf(chaddr: Buffer): string {
  const hex = chaddr.toString('hex', 0, 6);
  return `${hex.slice(0, 2)}:${hex.slice(2, 4)}:${hex.slice(4, 6)}:${hex.slice(6, 8)}:${hex.slice(8, 10)}:${hex.slice(10, 12)}`;
}

export type RequestResult = { ok: true; request: ClientRequest } | { ok: false; reason: string };

function address(value: Buffer | undefined): number | null | undefined {
  if (value === undefined) return null;
  return value.length === 4 ? value.readUInt32BE(0) : undefined;
}

/**
 * RFC 3004 user class: a list of (length, data) instances. iPXE and some ROMs send a bare string instead; when
 * the bytes do not parse as instances they are taken as one string.
 */
export function parseUserClasses(value: Buffer): string[] {
  const instances: string[] = [];
  let offset = 0;
  while (offset < value.length) {
    const length = value[offset]!;
    if (length === 0 || offset + 1 + length > value.length) return [value.toString('latin1')];
    instances.push(value.toString('latin1', offset + 1, offset + 1 + length));
    offset += 1 + length;
  }
  return instances;
}

export function formatUuid(bytes: Buffer): string {
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export function readRequest(message: DhcpMessage): RequestResult {
  if (message.op !== BOOTREQUEST) return { ok: false, reason: `op ${message.op} is not a request` };
  if (message.htype !== 1 || message.hlen !== 6) return { ok: false, reason: `hardware type ${message.htype}/${message.hlen} is not Ethernet` };
  const typeOption = message.options.get(Option.MESSAGE_TYPE);
  if (!typeOption || typeOption.length !== 1) return { ok: false, reason: 'no message type (BOOTP is not served)' };
  const type = typeOption[0]!;
  if (type < MessageType.DISCOVER || type > MessageType.INFORM || type === MessageType.OFFER || type === MessageType.ACK || type === MessageType.NAK) {
    return { ok: false, reason: `message type ${type} is not a client message` };
  }
  const requestedAddress = address(message.options.get(Option.REQUESTED_ADDRESS));
  const serverId = address(message.options.get(Option.SERVER_ID));
  if (requestedAddress === undefined || serverId === undefined) return { ok: false, reason: 'address option of the wrong length' };
  const maxSizeOption = message.options.get(Option.MAX_MESSAGE_SIZE);
  const maxMessageSize = maxSizeOption?.length === 2 ? Math.max(576, maxSizeOption.readUInt16BE(0)) : 576;
  const hostname = message.options.get(Option.HOSTNAME);
  const vendorClass = message.options.get(Option.VENDOR_CLASS);
  const userClass = message.options.get(Option.USER_CLASS);
  const arch = message.options.get(Option.CLIENT_ARCH);
  const ndi = message.options.get(Option.CLIENT_NDI);
  const uuid = message.options.get(Option.CLIENT_UUID);
  return {
    ok: true,
    request: {
      message,
      type: type as MessageTypeCode,
      mac: macOf(message.chaddr),
      requestedAddress,
      serverId,
      clientHostname: hostname && hostname.length > 0 ? hostname.toString('latin1') : null,
      maxMessageSize,
      vendorClass: vendorClass && vendorClass.length > 0 ? vendorClass.toString('latin1') : null,
      userClasses: userClass && userClass.length > 0 ? parseUserClasses(userClass) : [],
      archCode: arch && arch.length >= 2 ? arch.readUInt16BE(0) : null,
      networkInterface: ndi?.length === 3 ? { type: ndi[0]!, major: ndi[1]!, minor: ndi[2]! } : null,
      uuid: uuid?.length === 17 && uuid[0] === 0 ? formatUuid(uuid.subarray(1)) : null,
      uuidRaw: uuid?.length === 17 ? uuid : null,
      relayAgentInfo: message.options.get(Option.RELAY_AGENT_INFO) ?? null,
    },
  };
}

/** The user class the boot plan understands: `iPXE` when any instance says so, else the first instance. */
export function userClassForPlan(request: ClientRequest): string | undefined {
  return request.userClasses.includes('iPXE') ? 'iPXE' : request.userClasses[0];
}
