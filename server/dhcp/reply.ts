// A decision becomes a reply here: network options, lease times, the boot step of the boot plan, and where the
// reply goes (RFC 2131 4.1). Handlers decide; this file only writes.
import type { ServedSubnet } from '../domain/address-plan.ts';
import { formatIpv4, prefixMask } from '../domain/ipv4.ts';
import type { NodeBootPlan } from '../services/boot.ts';
import { addresses, encapsulate, text, u32, u8, type DhcpReply } from './codec.ts';
import { BROADCAST_FLAG, IPXE_NO_PXEDHCP, MessageType, Option, PXE_DISCOVERY_CONTROL } from './options.ts';
import type { ClientRequest } from './request.ts';
import type { DhcpSettings } from './settings.ts';

export interface Destination {
  address: string;
  port: number;
}

export const LIMITED_BROADCAST = '255.255.255.255';
const IPXE_OPTIONS = encapsulate([[IPXE_NO_PXEDHCP, u8(1)]]);
/** PXE_DISCOVERY_CONTROL = 8: boot the file named in this reply, no boot server discovery or menu. */
const PXE_VENDOR_OPTIONS = encapsulate([[PXE_DISCOVERY_CONTROL, u8(8)]]);
const MESSAGE_TYPES = Array.from({ length: 9 }, (_, type) => u8(type));
const PXE_CLIENT = text('PXEClient');
const HTTP_CLIENT = text('HTTPClient');

// Option values that are the same for every reply in a subnet are encoded once (the packet path allocates little).
const subnetOptions = new WeakMap<ServedSubnet, [number, Buffer][]>();
const leaseTimeOptions = new Map<number, [number, Buffer][]>();
const serverIds = new Map<number, Buffer>();

export function startReply(request: ClientRequest, type: number, yiaddr: number, settings: DhcpSettings): DhcpReply {
  const m = request.message;
  return {
    xid: m.xid,
    flags: type === MessageType.NAK && m.giaddr !== 0 ? m.flags | BROADCAST_FLAG : m.flags,
    ciaddr: type === MessageType.NAK ? 0 : m.ciaddr,
    yiaddr,
    siaddr: 0,
    giaddr: m.giaddr,
    htype: m.htype,
    hlen: m.hlen,
    chaddr: m.chaddr,
    options: [
      [Option.MESSAGE_TYPE, MESSAGE_TYPES[type]!],
      [Option.SERVER_ID, serverIdOption(settings.serverAddress)],
    ],
  };
}

function serverIdOption(address: number): Buffer {
  let value = serverIds.get(address);
  if (!value) serverIds.set(address, (value = u32(address)));
  return value;
}

function networkOptionsOf(subnet: ServedSubnet, settings: DhcpSettings): [number, Buffer][] {
  let options = subnetOptions.get(subnet);
  if (options) return options;
  options = [[Option.SUBNET_MASK, u32(prefixMask(subnet.subnet.prefix))]];
  if (subnet.gateway !== null) options.push([Option.ROUTER, u32(subnet.gateway)]);
  if (subnet.dns.length > 0) options.push([Option.DNS, addresses(subnet.dns)]);
  if (settings.domain) options.push([Option.DOMAIN_NAME, text(settings.domain)]);
  if (settings.ntp.length > 0) options.push([Option.NTP, addresses(settings.ntp)]);
  subnetOptions.set(subnet, options);
  return options;
}

export function addNetworkOptions(reply: DhcpReply, subnet: ServedSubnet, settings: DhcpSettings, hostname: string | null): void {
  reply.options.push(...networkOptionsOf(subnet, settings));
  if (hostname) reply.options.push([Option.HOSTNAME, text(hostname)]);
}

export function addLeaseTimes(reply: DhcpReply, leaseSeconds: number): void {
  let options = leaseTimeOptions.get(leaseSeconds);
  if (!options) {
    options = [
      [Option.LEASE_TIME, u32(leaseSeconds)],
      [Option.RENEWAL_TIME, u32(Math.floor(leaseSeconds / 2))],
      [Option.REBINDING_TIME, u32(Math.floor((leaseSeconds * 7) / 8))],
    ];
    leaseTimeOptions.set(leaseSeconds, options);
  }
  reply.options.push(...options);
}

/**
 * The firmware step of the boot plan: TFTP file (next-server, file, 66/67), HTTP URL (file, 67, and 60
 * `HTTPClient` for UEFI HTTP boot) or nothing. `proxy` adds what a proxyDHCP reply needs (60 `PXEClient`, 43, 97).
 */
export function addBootOptions(reply: DhcpReply, plan: NodeBootPlan, request: ClientRequest, settings: DhcpSettings, proxy: boolean): void {
  const firmware = plan.firmware;
  if (firmware.kind === 'tftp') {
    reply.siaddr = settings.serverAddress;
    reply.file = firmware.file;
    reply.options.push([Option.TFTP_SERVER, text(settings.serverAddressText)], [Option.BOOTFILE, text(firmware.file)]);
  } else if (firmware.kind === 'http') {
    reply.siaddr = settings.serverAddress;
    if (firmware.url.length < 128) reply.file = firmware.url;
    reply.options.push([Option.BOOTFILE, text(firmware.url)]);
  }
  if (plan.client.isHttpClient) reply.options.push([Option.VENDOR_CLASS, HTTP_CLIENT]);
  else if (proxy) reply.options.push([Option.VENDOR_CLASS, PXE_CLIENT], [Option.VENDOR_SPECIFIC, PXE_VENDOR_OPTIONS]);
  if (proxy && request.uuidRaw) reply.options.push([Option.CLIENT_UUID, request.uuidRaw]);
  if (plan.client.isIpxe || plan.client.isPxeClient) reply.options.push([Option.IPXE_ENCAPSULATED, IPXE_OPTIONS]);
}

/** RFC 3046 2.2: the relay agent information goes back to the relay, last. */
export function finishReply(reply: DhcpReply, request: ClientRequest): DhcpReply {
  if (request.relayAgentInfo && request.message.giaddr !== 0) reply.options.push([Option.RELAY_AGENT_INFO, request.relayAgentInfo]);
  return reply;
}

export function addMessage(reply: DhcpReply, message: string): void {
  reply.options.push([Option.MESSAGE, text(message.slice(0, 255))]);
}

const addressTexts = new Map<number, string>();
/** Relay and client addresses repeat: their text form is kept (bounded) rather than rebuilt per reply. */
export function addressText(address: number): string {
  let value = addressTexts.get(address);
  if (value === undefined) {
    if (addressTexts.size > 4096) addressTexts.clear();
    addressTexts.set(address, (value = formatIpv4(address)));
  }
  return value;
}

/** RFC 2131 4.1: to the relay; to a configured client (ciaddr); else broadcast, as UEFI ignores anything else. */
export function destinationOf(request: ClientRequest, type: number): Destination {
  const m = request.message;
  if (m.giaddr !== 0) return { address: addressText(m.giaddr), port: 67 };
  if (m.ciaddr !== 0 && type !== MessageType.NAK) return { address: addressText(m.ciaddr), port: 68 };
  return { address: LIMITED_BROADCAST, port: 68 };
}
