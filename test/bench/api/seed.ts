// Fills a store with N nodes for the pagination benchmark: a realistic mix of states, roles, hostnames and
// addresses, a few events per node and stage runs for the bootstrapped ones. Written with SQL in one
// transaction (the benchmark measures reads; creating 10,000 nodes through the lifecycle would take minutes).
import type { Store } from '../../../server/store/index.ts';

const STATE_MIX: [string, number][] = [
  ['ready', 0.55],
  ['discovered', 0.12],
  ['assigned', 0.08],
  ['installing', 0.08],
  ['installed', 0.05],
  ['bootstrapping', 0.07],
  ['failed', 0.05],
];
const ROLE_MIX: [string[], number][] = [
  [['compute'], 0.7],
  [['storage'], 0.18],
  [['network'], 0.08],
  [['controller'], 0.02],
  [['compute', 'storage'], 0.02],
];
const EVENTS_PER_NODE = 6;
const STAGES = ['common:hosts', 'common:ntp', 'common:repos', 'compute:nova', 'compute:neutron'];

function pick<T>(mix: [T, number][], fraction: number): T {
  let sum = 0;
  for (const [value, share] of mix) {
    sum += share;
    if (fraction < sum) return value;
  }
  return mix.at(-1)![0];
}

export function macOf(i: number): string {
  return `52:54:${[(i >> 24) & 0xff, (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff].map((b) => b.toString(16).padStart(2, '0')).join(':')}`;
}

export function seedNodes(store: Store, count: number): void {
  const { db } = store;
  const insertNode = db.prepare(
    `INSERT INTO nodes (mac, hostname, roles, profile, state, generation, management_address, facts, created_at, updated_at, state_changed_at)
     VALUES (@mac, @hostname, @roles, @profile, @state, 1, @address, '{"architecture":"x86_64","firmware":"uefi"}', @at, @at, @at)`,
  );
  const insertEvent = db.prepare(
    `INSERT INTO events (node_id, mac, at, kind, from_state, to_state, message, actor) VALUES (?, ?, ?, 'transition', ?, ?, ?, 'bench')`,
  );
  const insertRun = db.prepare(
    `INSERT INTO stage_runs (node_id, generation, stage, attempt, status, started_at, finished_at) VALUES (?, 1, ?, 1, ?, ?, ?)`,
  );
  const start = Date.parse('2026-11-01T00:00:00Z');
  db.transaction(() => {
    for (let i = 1; i <= count; i++) {
      // A fixed spread (golden ratio steps), so every run seeds the same rows.
      const fraction = (i * 0.6180339887) % 1;
      const state = pick(STATE_MIX, fraction);
      const roles = state === 'discovered' ? [] : pick(ROLE_MIX, (i * 0.7548776662) % 1);
      const at = new Date(start + i * 1000).toISOString();
      const assigned = state !== 'discovered';
      const id = Number(
        insertNode.run({
          mac: macOf(i),
          hostname: assigned ? `${roles[0] ?? 'node'}-${String(i).padStart(5, '0')}` : null,
          roles: JSON.stringify(roles),
          profile: assigned ? 'debian-12' : null,
          state,
          address: assigned ? `10.${20 + (i >> 16)}.${(i >> 8) & 0xff}.${i & 0xff}` : null,
          at,
        }).lastInsertRowid,
      );
      for (let e = 0; e < EVENTS_PER_NODE; e++) {
        insertEvent.run(id, macOf(i), new Date(start + i * 1000 + e * 60_000).toISOString(), 'discovered', state, `bench event ${e}`);
      }
      if (state === 'ready' || state === 'bootstrapping' || state === 'failed') {
        STAGES.forEach((stage, s) => {
          const last = s === STAGES.length - 1;
          const status = last && state === 'bootstrapping' ? 'running' : last && state === 'failed' ? 'failed' : 'succeeded';
          insertRun.run(id, stage, status, at, status === 'running' ? null : at);
        });
      }
    }
  })();
}
