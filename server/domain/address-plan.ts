// Which addresses a node may reserve: inside a served subnet, a host address, not the appliance's, not in a
// dynamic pool (the pool belongs to DHCP), and not another node's.
import { formatCidr, inSubnet, isHostAddress, parseCidr, parseIpv4, type Subnet } from './ipv4.ts';

export interface ServedSubnet {
  subnet: Subnet;
  gateway: number | null;
  dns: number[];
  pool: { start: number; end: number } | null;
}

export interface AddressPlan {
  applianceAddress: number | null;
  subnets: ServedSubnet[];
}

export interface AddressPlanSource {
  address: string | null;
  subnet: string | null;
  gateway: string | null;
  dns: string[];
  pool: { start: string; end: string } | null;
  relayedSubnets: { subnet: string; gateway?: string; dns: string[]; pool?: { start: string; end: string } }[];
}

export function buildAddressPlan(source: AddressPlanSource): AddressPlan {
  const toServed = (s: { subnet: string; gateway?: string | null; dns: string[]; pool?: { start: string; end: string } | null }): ServedSubnet => ({
    subnet: parseCidr(s.subnet),
    gateway: s.gateway ? parseIpv4(s.gateway) : null,
    dns: s.dns.map(parseIpv4),
    pool: s.pool ? { start: parseIpv4(s.pool.start), end: parseIpv4(s.pool.end) } : null,
  });
  const subnets: ServedSubnet[] = [];
  if (source.subnet) subnets.push(toServed({ subnet: source.subnet, gateway: source.gateway, dns: source.dns, pool: source.pool }));
  subnets.push(...source.relayedSubnets.map(toServed));
  return { applianceAddress: source.address ? parseIpv4(source.address) : null, subnets };
}

export function subnetFor(plan: AddressPlan, address: number): ServedSubnet | null {
  return plan.subnets.find((served) => inSubnet(address, served.subnet)) ?? null;
}

/** Why `address` cannot be a node's reservation, or null when it can. An empty plan accepts any address. */
export function reservationProblem(plan: AddressPlan, addressText: string): string | null {
  const address = parseIpv4(addressText);
  if (plan.subnets.length === 0) return null;
  const served = subnetFor(plan, address);
  if (!served) return `${addressText} is outside the provisioning subnets (${plan.subnets.map((s) => formatCidr(s.subnet)).join(', ')})`;
  if (!isHostAddress(address, served.subnet)) return `${addressText} is the network or broadcast address of ${formatCidr(served.subnet)}`;
  if (address === plan.applianceAddress) return `${addressText} is the appliance's own address`;
  if (address === served.gateway) return `${addressText} is the gateway of ${formatCidr(served.subnet)}`;
  if (served.pool && address >= served.pool.start && address <= served.pool.end) {
    return `${addressText} is inside the dynamic pool of ${formatCidr(served.subnet)}; reserve an address outside it`;
  }
  return null;
}
