// Which served subnet a request belongs to, whether it came from a network we serve at all, and whether the
// answer policy lets us answer it. Shared by both modes.
import type { ServedSubnet } from '../domain/address-plan.ts';
import { formatIpv4, inSubnet, isIpv4, parseIpv4 } from '../domain/ipv4.ts';
import type { NodeBootPlan } from '../services/boot.ts';
import type { ClientRequest } from './request.ts';
import type { AnswerPolicy, DhcpSettings } from './settings.ts';

export type Scope = { ok: true; subnet: ServedSubnet } | { ok: false; reason: string };

/**
 * Node cannot tell which interface a datagram arrived on (no IP_PKTINFO, no SO_BINDTODEVICE), so the packet
 * itself decides: a relayed request's giaddr must lie in a served subnet; an unrelayed one must come from
 * 0.0.0.0 (a client without an address) or from an address inside a served subnet (renewals, INFORM).
 * Anything else came from a network we do not serve and is ignored.
 */
export function scopeOf(request: ClientRequest, sourceAddress: string, settings: DhcpSettings): Scope {
  const giaddr = request.message.giaddr;
  const all = settings.served;
  if (giaddr !== 0) {
    const subnet = all.find((served) => inSubnet(giaddr, served.subnet));
    return subnet ? { ok: true, subnet } : { ok: false, reason: `relay ${formatIpv4(giaddr)} is not in a served subnet` };
  }
  if (sourceAddress === '0.0.0.0') return { ok: true, subnet: settings.primary };
  if (!isIpv4(sourceAddress)) return { ok: false, reason: `source ${sourceAddress} is not IPv4` };
  const source = parseIpv4(sourceAddress);
  const subnet = all.find((served) => inSubnet(source, served.subnet));
  return subnet ? { ok: true, subnet } : { ok: false, reason: `source ${sourceAddress} is outside the served subnets` };
}

/** Network-boot clients: a PXE ROM, UEFI HTTP boot, or iPXE. */
export function isBootClient(plan: NodeBootPlan): boolean {
  return plan.client.isPxeClient || plan.client.isHttpClient || plan.client.isIpxe;
}

/**
 * `pxe-clients` answers network-boot clients and the MACs of known nodes (their installers and installed
 * systems need addresses too); `known-macs` only known nodes; `all` everyone.
 */
export function mayAnswer(policy: AnswerPolicy, plan: NodeBootPlan): boolean {
  if (policy === 'all') return true;
  if (plan.node) return true;
  return policy === 'pxe-clients' && isBootClient(plan);
}
