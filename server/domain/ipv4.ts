// IPv4 arithmetic for the address plan: subnets, pools and reservations. Addresses are uint32 numbers inside.

export interface Subnet {
  network: number;
  prefix: number;
}

export function parseIpv4(text: string): number {
  const parts = text.trim().split('.');
  if (parts.length !== 4) throw new Error(`not an IPv4 address: ${JSON.stringify(text)}`);
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) throw new Error(`not an IPv4 address: ${JSON.stringify(text)}`);
    const octet = Number(part);
    if (octet > 255) throw new Error(`not an IPv4 address: ${JSON.stringify(text)}`);
    value = value * 256 + octet;
  }
  return value >>> 0;
}

export function isIpv4(text: string): boolean {
  try {
    parseIpv4(text);
    return true;
  } catch {
    return false;
  }
}

export function formatIpv4(value: number): string {
  return [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join('.');
}

export function prefixMask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

export function parseCidr(text: string): Subnet {
  const match = /^(\S+)\/(\d{1,2})$/.exec(text.trim());
  if (!match) throw new Error(`not a CIDR subnet: ${JSON.stringify(text)}`);
  const prefix = Number(match[2]);
  if (prefix > 32) throw new Error(`prefix out of range in ${JSON.stringify(text)}`);
  const address = parseIpv4(match[1]!);
  return { network: (address & prefixMask(prefix)) >>> 0, prefix };
}

export function formatCidr(subnet: Subnet): string {
  return `${formatIpv4(subnet.network)}/${subnet.prefix}`;
}

export function inSubnet(address: number, subnet: Subnet): boolean {
  return ((address & prefixMask(subnet.prefix)) >>> 0) === subnet.network;
}

export function broadcastAddress(subnet: Subnet): number {
  return (subnet.network | (~prefixMask(subnet.prefix) >>> 0)) >>> 0;
}

/** A usable host address: inside the subnet, not its network or broadcast address (for prefixes up to /30). */
export function isHostAddress(address: number, subnet: Subnet): boolean {
  if (!inSubnet(address, subnet)) return false;
  if (subnet.prefix >= 31) return true;
  return address !== subnet.network && address !== broadcastAddress(subnet);
}

export function netmaskOf(subnet: Subnet): string {
  return formatIpv4(prefixMask(subnet.prefix));
}
