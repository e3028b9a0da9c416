import { describe, expect, it } from 'vitest';
import type { ServedSubnet } from '../../server/domain/address-plan.ts';
import { parseCidr, parseIpv4 } from '../../server/domain/ipv4.ts';
import { LeaseBook } from '../../server/dhcp/lease-book.ts';
import { openStore } from '../../server/store/index.ts';

const subnet: ServedSubnet = {
  subnet: parseCidr('10.231.10.0/24'),
  gateway: parseIpv4('10.231.10.254'),
  dns: [],
  pool: { start: parseIpv4('10.231.10.100'), end: parseIpv4('10.231.10.103') },
};
const ip = parseIpv4;

function book(now: { t: number }, store = openStore(':memory:'), excluded: number[] = []) {
  return { store, leases: new LeaseBook(store.leases, { now: () => now.t, excluded, flushBatch: 2 }) };
}

describe('LeaseBook', () => {
  it('allocates in order, skips excluded addresses and wraps around', () => {
    const now = { t: 1000 };
    const { leases } = book(now, undefined, [ip('10.231.10.101')]);
    const got: (number | null)[] = [];
    for (const mac of ['a', 'b', 'c']) {
      const address = leases.allocate(subnet);
      got.push(address);
      leases.bind(subnet, mac, address!, 60_000, null);
    }
    expect(got).toEqual([ip('10.231.10.100'), ip('10.231.10.102'), ip('10.231.10.103')]);
    expect(leases.allocate(subnet)).toBeNull();
  });

  it('remembers a full pool until a lease can free up, and reopens at once on release', () => {
    const now = { t: 1000 };
    const { leases } = book(now);
    for (const mac of ['a', 'b', 'c', 'd']) leases.bind(subnet, mac, leases.allocate(subnet)!, 60_000, null);
    expect(leases.allocate(subnet)).toBeNull();
    expect(leases.allocate(subnet)).toBeNull();
    expect(leases.release(ip('10.231.10.102'), 'c')).toBe(true);
    expect(leases.allocate(subnet)).toBe(ip('10.231.10.102'));
    leases.bind(subnet, 'e', ip('10.231.10.102'), 60_000, null);
    expect(leases.allocate(subnet)).toBeNull();
    now.t += 60_001;
    expect(leases.allocate(subnet)).not.toBeNull();
  });

  it('does not release an address for a MAC that does not hold it', () => {
    const now = { t: 1000 };
    const { leases } = book(now);
    leases.bind(subnet, 'a', ip('10.231.10.100'), 60_000, null);
    expect(leases.release(ip('10.231.10.100'), 'b')).toBe(false);
    expect(leases.availableFor(ip('10.231.10.100'), 'b')).toBe(false);
  });

  it('keeps one address per MAC: a new bind gives up the previous one', () => {
    const now = { t: 1000 };
    const { leases } = book(now);
    leases.bind(subnet, 'a', ip('10.231.10.100'), 60_000, null);
    leases.bind(subnet, 'a', ip('10.231.10.101'), 60_000, null);
    expect(leases.availableFor(ip('10.231.10.100'), 'b')).toBe(true);
    expect(leases.forMac(subnet, 'a')?.address).toBe(ip('10.231.10.101'));
  });

  it('persists binds, releases and declines (not offers) in batches, and loads them back', () => {
    const now = { t: 1000 };
    const { store, leases } = book(now);
    leases.offer(subnet, 'x', ip('10.231.10.103'), 60_000, null);
    leases.bind(subnet, 'a', ip('10.231.10.100'), 60_000, 'host-a');
    leases.bind(subnet, 'b', ip('10.231.10.101'), 60_000, null);
    leases.decline(subnet, ip('10.231.10.102'), 'c', 60_000);
    expect(leases.pendingWrites).toBe(3);
    leases.flush();
    expect(store.leases.list().map((row) => [row.address, row.state, row.clientHostname])).toEqual([
      ['10.231.10.100', 'bound', 'host-a'],
      ['10.231.10.101', 'bound', null],
      ['10.231.10.102', 'declined', null],
    ]);
    const reloaded = new LeaseBook(store.leases, { now: () => now.t });
    expect(reloaded.availableFor(ip('10.231.10.100'), 'z')).toBe(false);
    expect(reloaded.availableFor(ip('10.231.10.102'), 'c')).toBe(false);
    expect(reloaded.allocate(subnet)).toBe(ip('10.231.10.103'));
  });
});

describe('LeaseBook when the store fails', () => {
  it('keeps serving from memory and writes the leases once the store works again', async () => {
    const now = { t: 1000 };
    const store = openStore(':memory:');
    let failing = true;
    const errors: unknown[] = [];
    const realUpsert = store.leases.upsertMany.bind(store.leases);
    store.leases.upsertMany = (batch) => {
      if (failing) throw new Error('disk I/O error');
      realUpsert(batch);
    };
    const leases = new LeaseBook(store.leases, { now: () => now.t, flushIntervalMs: 5, onFlushError: (error) => errors.push(error) });
    leases.bind(subnet, 'a', ip('10.231.10.100'), 60_000, null);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(errors.length).toBeGreaterThan(0);
    expect(leases.availableFor(ip('10.231.10.100'), 'b')).toBe(false);
    expect(leases.pendingWrites).toBe(1);
    failing = false;
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(leases.pendingWrites).toBe(0);
    expect(store.leases.get('10.231.10.100')?.mac).toBe('a');
    leases.close();
  });
});

describe('offers under a flood', () => {
  it('gives a full pool the oldest unanswered offer of another MAC, never a bound lease or its own', () => {
    const now = { t: 1000 };
    const { leases } = book(now);
    leases.bind(subnet, 'bound', leases.allocate(subnet)!, 60_000, null);
    for (const mac of ['x1', 'x2', 'x3']) leases.offer(subnet, mac, leases.allocate(subnet)!, 60_000, null);
    expect(leases.allocate(subnet)).toBeNull();
    expect(leases.reclaimOldestOffer(subnet, 'real')).toBe(ip('10.231.10.101'));
    expect(leases.forMac(subnet, 'x1')).toBeNull();
    expect(leases.reclaimOldestOffer(subnet, 'x2')).toBe(ip('10.231.10.103'));
    expect(leases.at(ip('10.231.10.100'))!.mac).toBe('bound');
    expect(leases.reclaimOldestOffer(subnet, 'real')).toBe(ip('10.231.10.102'));
    expect(leases.reclaimOldestOffer(subnet, 'real')).toBeNull();
  });
});

describe('OfferLimiter', () => {
  it('allows the burst at once, then the steady rate per subnet', async () => {
    const { OfferLimiter } = await import('../../server/dhcp/offer-limit.ts');
    const now = { t: 0 };
    const limit = new OfferLimiter({ perSecond: 10, burst: 5 }, () => now.t);
    expect(Array.from({ length: 7 }, () => limit.take('a'))).toEqual([true, true, true, true, true, false, false]);
    expect(limit.take('b')).toBe(true);
    now.t += 100;
    expect(limit.take('a')).toBe(true);
    expect(limit.take('a')).toBe(false);
    now.t += 10_000;
    expect(Array.from({ length: 6 }, () => limit.take('a')).filter(Boolean).length).toBe(5);
  });
});
