// The largest blksize that fits one datagram on the interface facing a client: the MTU minus the IPv4 (20),
// UDP (8) and TFTP (4) headers. The interface is the one whose IPv4 subnet holds the client's address; the
// answer is cached briefly so a rack booting at once does not read /sys for every request.
import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { inSubnet, parseCidr, parseIpv4 } from '../domain/ipv4.ts';

const HEADERS = 20 + 8 + 4;
const CACHE_MS = 30_000;

let cache: { at: number; limits: { subnet: ReturnType<typeof parseCidr>; blksize: number }[] } | null = null;

function interfaceMtu(name: string): number | null {
  try {
    const value = Number(readFileSync(`/sys/class/net/${name}/mtu`, 'utf8').trim());
    return Number.isInteger(value) && value > HEADERS ? value : null;
  } catch {
    return null;
  }
}

function loadLimits() {
  const limits: { subnet: ReturnType<typeof parseCidr>; blksize: number }[] = [];
  for (const [name, addresses] of Object.entries(networkInterfaces())) {
    const mtu = interfaceMtu(name);
    if (mtu === null) continue;
    for (const address of addresses ?? []) {
      if (address.family !== 'IPv4' || !address.cidr) continue;
      try {
        limits.push({ subnet: parseCidr(address.cidr), blksize: mtu - HEADERS });
      } catch {
        /* an address the domain parser does not take: no limit from it */
      }
    }
  }
  return limits;
}

/** Blksize limit for a client, or null when the facing interface is not known (the configured cap applies). */
export function blksizeLimitFor(clientAddress: string): number | null {
  const at = Date.now();
  if (!cache || at - cache.at > CACHE_MS) cache = { at, limits: loadLimits() };
  let address: number;
  try {
    address = parseIpv4(clientAddress);
  } catch {
    return null;
  }
  let best: { prefix: number; blksize: number } | null = null;
  for (const limit of cache.limits) {
    if (inSubnet(address, limit.subnet) && (!best || limit.subnet.prefix > best.prefix)) {
      best = { prefix: limit.subnet.prefix, blksize: limit.blksize };
    }
  }
  return best?.blksize ?? null;
}
