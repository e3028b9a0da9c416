// The node cache behind NodeStore.getByMac: what it answers is always what the table holds, after writes of
// this process (create, update, transition, contacts, forget), after a commit by another connection to the
// same database (the CLI), and after a rolled-back transaction; cached nodes cannot be changed by a caller.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { planTransition } from '../../server/domain/lifecycle.ts';
import { databasePath, openStore } from '../../server/store/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'rl-node-cache-'));
const store = openStore(databasePath(dir));
afterAll(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('node cache', () => {
  it('answers unknown and known MACs, and sees the writes of this process at once', () => {
    const mac = '52:54:00:ca:00:01';
    expect(store.nodes.getByMac(mac)).toBeNull();
    const created = store.nodes.create(mac, { archCode: 7 }, 'test', null);
    expect(store.nodes.getByMac(mac)?.id).toBe(created.id);
    store.nodes.update(created.id, { hostname: 'cached-1', profile: 'debian-12' });
    expect(store.nodes.getByMac(mac)?.hostname).toBe('cached-1');
    const node = store.nodes.getByMac(mac)!;
    store.nodes.writeTransition(node, planTransition(node, { kind: 'assign' }));
    expect(store.nodes.getByMac(mac)?.state).toBe('assigned');
    store.nodes.recordContacts([{ nodeId: created.id, at: '2026-12-03T10:00:00.000Z', via: 'dhcp' }]);
    expect(store.nodes.getByMac(mac)).toMatchObject({ lastContactAt: '2026-12-03T10:00:00.000Z' });
    store.nodes.delete(store.nodes.getByMac(mac)!, null);
    expect(store.nodes.getByMac(mac)).toBeNull();
  });

  it('sees a commit by another connection to the same database (the CLI) a millisecond later', () => {
    const mac = '52:54:00:ca:00:02';
    expect(store.nodes.getByMac(mac)).toBeNull();
    const other = openStore(databasePath(dir));
    const made = other.nodes.create(mac, {}, 'cli', 'cli');
    // Another connection's commit is looked for at most once a millisecond.
    const later = () => {
      const until = performance.now() + 2;
      while (performance.now() < until);
    };
    later();
    expect(store.nodes.getByMac(mac)?.id).toBe(made.id);
    other.nodes.update(made.id, { hostname: 'from-the-cli' });
    later();
    expect(store.nodes.getByMac(mac)?.hostname).toBe('from-the-cli');
    other.close();
  });

  it('keeps nothing read inside a transaction that is rolled back', () => {
    const mac = '52:54:00:ca:00:03';
    expect(() =>
      store.db.transaction(() => {
        store.nodes.create(mac, {}, 'test', null);
        expect(store.nodes.getByMac(mac)).not.toBeNull();
        throw new Error('roll back');
      })(),
    ).toThrow('roll back');
    expect(store.nodes.getByMac(mac)).toBeNull();
  });

  it('hands out nodes that cannot be changed, so one caller cannot change what the next one reads', () => {
    const mac = '52:54:00:ca:00:04';
    store.nodes.create(mac, { archCode: 7 }, 'test', null);
    const node = store.nodes.getByMac(mac)!;
    expect(() => {
      (node as { hostname: string | null }).hostname = 'changed';
    }).toThrow(TypeError);
    expect(() => {
      (node.facts as { archCode?: number }).archCode = 9;
    }).toThrow(TypeError);
    expect(store.nodes.getByMac(mac)).toMatchObject({ hostname: null, facts: { archCode: 7 } });
  });

  it('is only correct because nodes rows are written by store/nodes.ts alone: no other module writes them', () => {
    const offenders: string[] = [];
    const walk = (path: string) => {
      for (const entry of readdirSync(path, { withFileTypes: true })) {
        const full = join(path, entry.name);
        if (entry.isDirectory()) walk(full);
        else if (entry.name.endsWith('.ts') && full !== join('server', 'store', 'nodes.ts') && /\b(UPDATE|INSERT\s+INTO|DELETE\s+FROM|REPLACE\s+INTO)\s+nodes\b/i.test(readFileSync(full, 'utf8'))) offenders.push(full);
      }
    };
    walk('server');
    expect(offenders).toEqual([]);
  });
});
