// The lease allocator: leases live in memory (the packet path never waits for SQLite) and are written to the
// store in small batched transactions off the packet path. Times are epoch milliseconds.
import { formatCidr, formatIpv4, isHostAddress, parseIpv4 } from '../domain/ipv4.ts';
import type { ServedSubnet } from '../domain/address-plan.ts';
import type { LeaseRecord, LeaseState, LeaseStore } from '../store/leases.ts';

export interface Lease {
  address: number;
  mac: string;
  subnet: string;
  state: LeaseState;
  expiresAt: number;
  clientHostname: string | null;
}

interface PoolCursor {
  next: number;
  /** After a full scan found nothing: no address can free up before this time unless one is released. */
  exhaustedUntil: number;
}

export interface LeaseBookOptions {
  now?: () => number;
  /** Addresses never handed out from a pool (the appliance, gateways). */
  excluded?: number[];
  /** How often dirty leases are written; 0 writes only on flush(). */
  flushIntervalMs?: number;
  /** Largest batch written in one transaction; the rest waits for the next turn of the event loop. */
  flushBatch?: number;
  onFlushError?: (error: unknown) => void;
}

const macKey = (subnet: string, mac: string) => `${subnet} ${mac}`;
const subnetKeys = new WeakMap<ServedSubnet, string>();
/** The subnet's name in lease rows, e.g. `10.20.0.0/24` (computed once per subnet). */
function subnetKey(subnet: ServedSubnet): string {
  let key = subnetKeys.get(subnet);
  if (key === undefined) subnetKeys.set(subnet, (key = formatCidr(subnet.subnet)));
  return key;
}

export class LeaseBook {
  private readonly byAddress = new Map<number, Lease>();
  private readonly byMac = new Map<string, Lease>();
  private readonly cursors = new Map<string, PoolCursor>();
  /** Addresses offered per subnet, oldest first (a Set keeps insertion order); stale entries are skipped lazily. */
  private readonly offered = new Map<string, Set<number>>();
  private readonly dirty = new Set<number>();
  private readonly excluded: Set<number>;
  private readonly now: () => number;
  private readonly flushBatch: number;
  private timer: NodeJS.Timeout | null = null;
  private flushing = false;

  constructor(
    private readonly store: LeaseStore,
    private readonly options: LeaseBookOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.excluded = new Set(options.excluded ?? []);
    this.flushBatch = options.flushBatch ?? 100;
    for (const record of store.list()) this.remember(fromRecord(record));
    if (options.flushIntervalMs) {
      this.timer = setInterval(() => this.flushSoon(), options.flushIntervalMs);
      this.timer.unref();
    }
  }

  /** The lease this MAC has (or last had) in the subnet, current or not. */
  forMac(subnet: ServedSubnet, mac: string): Lease | null {
    return this.byMac.get(macKey(subnetKey(subnet), mac)) ?? null;
  }

  /** Addresses bound to this MAC now, in any of the subnets (installer callbacks must come from one). */
  boundAddresses(subnets: ServedSubnet[], mac: string): number[] {
    return subnets.flatMap((subnet) => {
      const lease = this.forMac(subnet, mac);
      return lease && lease.state === 'bound' && this.holds(lease) ? [lease.address] : [];
    });
  }

  at(address: number): Lease | null {
    return this.byAddress.get(address) ?? null;
  }

  /** True when another MAC holds the address (an offer, a bound lease or a decline that has not expired). */
  heldByOther(address: number, mac: string): boolean {
    const lease = this.byAddress.get(address);
    return !!lease && lease.mac !== mac && this.holds(lease);
  }

  /** Free for this MAC: nobody else holds it and it is not quarantined after a decline. */
  availableFor(address: number, mac: string): boolean {
    const lease = this.byAddress.get(address);
    if (!lease || !this.holds(lease)) return true;
    return lease.mac === mac && lease.state !== 'declined';
  }

  holds(lease: Lease): boolean {
    return (lease.state === 'bound' || lease.state === 'offered' || lease.state === 'declined') && lease.expiresAt > this.now();
  }

  inPool(subnet: ServedSubnet, address: number): boolean {
    const pool = subnet.pool;
    return !!pool && address >= pool.start && address <= pool.end && isHostAddress(address, subnet.subnet) && !this.excluded.has(address);
  }

  /** A free pool address for this MAC, or null when the pool is full (no hang: a full pool is remembered). */
  allocate(subnet: ServedSubnet): number | null {
    const pool = subnet.pool;
    if (!pool || pool.end < pool.start) return null;
    const key = subnetKey(subnet);
    let cursor = this.cursors.get(key);
    if (!cursor) this.cursors.set(key, (cursor = { next: pool.start, exhaustedUntil: 0 }));
    const now = this.now();
    if (cursor.exhaustedUntil > now) return null;
    const size = pool.end - pool.start + 1;
    let earliestFree = Infinity;
    let candidate = cursor.next < pool.start || cursor.next > pool.end ? pool.start : cursor.next;
    for (let tried = 0; tried < size; tried++) {
      const address = candidate;
      candidate = candidate >= pool.end ? pool.start : candidate + 1;
      if (!isHostAddress(address, subnet.subnet) || this.excluded.has(address)) continue;
      const lease = this.byAddress.get(address);
      if (lease && this.holds(lease)) {
        earliestFree = Math.min(earliestFree, lease.expiresAt);
        continue;
      }
      cursor.next = candidate;
      return address;
    }
    cursor.exhaustedUntil = earliestFree;
    return null;
  }

  /**
   * Takes back the oldest unanswered pool offer of another MAC and returns its address, or null when there is
   * none. RFC 2131 3.1: a server need not reserve an offered address; a full pool must not turn away a client
   * because a flood of made-up MACs was offered everything.
   */
  reclaimOldestOffer(subnet: ServedSubnet, forMac: string): number | null {
    const offers = this.offered.get(subnetKey(subnet));
    if (!offers) return null;
    for (const address of offers) {
      const lease = this.byAddress.get(address);
      if (lease?.mac === forMac) continue;
      offers.delete(address);
      if (!lease || lease.state !== 'offered' || !this.holds(lease) || !this.inPool(subnet, address)) continue;
      this.byAddress.delete(address);
      const key = macKey(lease.subnet, lease.mac);
      if (this.byMac.get(key) === lease) this.byMac.delete(key);
      return address;
    }
    return null;
  }

  /** Holds an address for an offer; not persisted (an offer lost in a restart is simply made again). */
  offer(subnet: ServedSubnet, mac: string, address: number, holdMs: number, clientHostname: string | null): Lease {
    return this.put({ address, mac, subnet: subnetKey(subnet), state: 'offered', expiresAt: this.now() + holdMs, clientHostname }, false);
  }

  bind(subnet: ServedSubnet, mac: string, address: number, leaseMs: number, clientHostname: string | null): Lease {
    return this.put({ address, mac, subnet: subnetKey(subnet), state: 'bound', expiresAt: this.now() + leaseMs, clientHostname }, true);
  }

  /** The client gave the address back; it stays associated with the MAC so the MAC gets it again. */
  release(address: number, mac: string): boolean {
    const lease = this.byAddress.get(address);
    if (!lease || lease.mac !== mac || lease.state === 'declined') return false;
    this.put({ ...lease, state: 'released', expiresAt: this.now() }, true);
    return true;
  }

  /** The client found the address in use (ARP): nobody gets it for `quarantineMs`. */
  decline(subnet: ServedSubnet, address: number, mac: string, quarantineMs: number): void {
    this.put({ address, mac, subnet: subnetKey(subnet), state: 'declined', expiresAt: this.now() + quarantineMs, clientHostname: null }, true);
  }

  /** Forgets an offer the client turned down (it chose another server). */
  withdrawOffer(subnet: ServedSubnet, mac: string): void {
    const lease = this.forMac(subnet, mac);
    if (lease?.state === 'offered') this.put({ ...lease, expiresAt: this.now() }, false);
  }

  private put(lease: Lease, persist: boolean): Lease {
    const previous = this.byAddress.get(lease.address);
    if (previous && previous.mac !== lease.mac) {
      const key = macKey(previous.subnet, previous.mac);
      if (this.byMac.get(key) === previous) this.byMac.delete(key);
    }
    const key = macKey(lease.subnet, lease.mac);
    const before = this.byMac.get(key);
    if (before && before.address !== lease.address && this.byAddress.get(before.address) === before) {
      // One address per MAC and subnet: the one it had before is given up.
      if (before.state === 'offered') this.byAddress.delete(before.address);
      else if (before.state === 'bound') {
        this.byAddress.set(before.address, { ...before, state: 'released', expiresAt: this.now() });
        this.dirty.add(before.address);
      }
    }
    this.remember(lease);
    if (lease.expiresAt <= this.now() || lease.state === 'released') this.reopen(lease.subnet);
    if (persist) this.dirty.add(lease.address);
    return lease;
  }

  private remember(lease: Lease): void {
    this.byAddress.set(lease.address, lease);
    this.byMac.set(macKey(lease.subnet, lease.mac), lease);
    let offers = this.offered.get(lease.subnet);
    if (!offers) this.offered.set(lease.subnet, (offers = new Set()));
    offers.delete(lease.address);
    if (lease.state === 'offered') offers.add(lease.address);
  }

  private reopen(subnet: string): void {
    const cursor = this.cursors.get(subnet);
    if (cursor) cursor.exhaustedUntil = 0;
  }

  get pendingWrites(): number {
    return this.dirty.size;
  }

  /** Writes up to one batch now and schedules the rest on later turns, so no write blocks for long. */
  private flushSoon(): void {
    if (this.flushing || this.dirty.size === 0) return;
    this.flushing = true;
    const step = () => {
      try {
        this.writeBatch();
      } catch (error) {
        this.options.onFlushError?.(error);
        this.flushing = false;
        return;
      }
      if (this.dirty.size > 0) setImmediate(step);
      else this.flushing = false;
    };
    step();
  }

  private writeBatch(): void {
    const batch: LeaseRecord[] = [];
    const written: number[] = [];
    const updatedAt = this.now();
    for (const address of this.dirty) {
      written.push(address);
      const lease = this.byAddress.get(address);
      if (lease) batch.push({ ...lease, address: formatIpv4(lease.address), updatedAt });
      if (written.length >= this.flushBatch) break;
    }
    // Marked clean only once written: a failed write is retried on the next flush.
    if (batch.length > 0) this.store.upsertMany(batch);
    for (const address of written) this.dirty.delete(address);
  }

  /** Writes everything pending, synchronously (shutdown, tests). Throws when the store refuses. */
  flush(): void {
    while (this.dirty.size > 0) this.writeBatch();
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    try {
      this.flush();
    } catch (error) {
      this.options.onFlushError?.(error);
    }
  }
}

function fromRecord(record: LeaseRecord): Lease {
  return {
    address: parseIpv4(record.address),
    mac: record.mac,
    subnet: record.subnet,
    state: record.state,
    expiresAt: record.expiresAt,
    clientHostname: record.clientHostname,
  };
}
