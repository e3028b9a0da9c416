// What the DHCP service needs from the configuration, resolved once at start (addresses as uint32).
import type { Config } from '../config.ts';
import { buildAddressPlan, type ServedSubnet } from '../domain/address-plan.ts';
import { parseIpv4 } from '../domain/ipv4.ts';

export type AnswerPolicy = 'pxe-clients' | 'known-macs' | 'all';

export interface DhcpSettings {
  mode: 'authoritative' | 'proxy';
  /** The appliance's provisioning address: server identifier, next-server, TFTP server. */
  serverAddress: number;
  serverAddressText: string;
  /** The directly attached provisioning subnet (first), then the relayed ones. */
  primary: ServedSubnet;
  relayed: ServedSubnet[];
  /** primary then relayed, in one list. */
  served: ServedSubnet[];
  domain: string;
  ntp: number[];
  leaseSeconds: number;
  offerHoldMs: number;
  declineQuarantineMs: number;
  answer: AnswerPolicy;
  newOffersPerSecond: number;
  newOfferBurst: number;
}

export function dhcpSettings(config: Config): DhcpSettings {
  const p = config.provisioning;
  if (!p.address || !p.subnet) throw new Error('DHCP needs provisioning.address and provisioning.subnet');
  const plan = buildAddressPlan(p);
  return {
    mode: config.dhcp.mode,
    serverAddress: parseIpv4(p.address),
    serverAddressText: p.address,
    primary: plan.subnets[0]!,
    relayed: plan.subnets.slice(1),
    served: plan.subnets,
    domain: p.domain,
    ntp: p.ntp.map(parseIpv4),
    leaseSeconds: p.leaseSeconds,
    offerHoldMs: 60_000,
    declineQuarantineMs: Math.min(p.leaseSeconds, 3600) * 1000,
    answer: config.dhcp.answer,
    newOffersPerSecond: config.dhcp.newOffersPerSecond,
    newOfferBurst: config.dhcp.newOfferBurst,
  };
}
