// How long one scheduler pass takes on a big rack: the synchronous work the orchestrator does on the shared
// event loop every poll (list nodes, verified stages per node, next step per bootstrapping node).
// Run: node --import tsx test/bench/orchestrator/tick.ts [nodes] [stages]
import { ClusterView, nextStep, type GraphNode, type StageDefinition } from '../../../server/domain/stage-graph.ts';
import type { Role } from '../../../server/domain/types.ts';
import { openStore } from '../../../server/store/index.ts';

const nodeCount = Number(process.argv[2] ?? 500);
const stagesPerRole = Number(process.argv[3] ?? 10);
const roles: Role[] = ['controller', 'compute', 'network', 'storage'];
const stages: StageDefinition[] = [];
const stage = (id: string, role: StageDefinition['role'], requires: StageDefinition['requires']): StageDefinition => ({
  id, role, script: `${id}.sh`, requires, verify: null, timeoutSeconds: 60, retries: 0, runsOn: 'self', publishes: [], consumes: [],
});
for (let i = 0; i < 3; i += 1) stages.push(stage(`common-${i}`, 'common', i ? [{ kind: 'local', stage: `common-${i - 1}` }] : []));
for (const role of roles) {
  for (let i = 0; i < stagesPerRole; i += 1) {
    const requires: StageDefinition['requires'] = [{ kind: 'local', stage: i ? `${role}-${i - 1}` : 'common-2' }];
    if (role !== 'controller' && i === 0) requires.push({ kind: 'remote', role: 'controller', stage: `controller-${stagesPerRole - 1}` });
    stages.push(stage(`${role}-${i}`, role, requires));
  }
}

const store = openStore(':memory:');
const now = new Date().toISOString();
const insertNode = store.db.prepare(
  `INSERT INTO nodes (mac, hostname, roles, state, generation, created_at, updated_at, state_changed_at) VALUES (?, ?, ?, 'bootstrapping', 1, ?, ?, ?)`,
);
store.db.transaction(() => {
  for (let i = 0; i < nodeCount; i += 1) {
    const role = i === 0 ? 'controller' : roles[1 + (i % 3)]!;
    const id = Number(insertNode.run(`52:54:00:${(i >> 16) & 255}:${(i >> 8) & 255}:${i & 255}`.replace(/:(\d+)/g, (_, n) => `:${Number(n).toString(16).padStart(2, '0')}`), `node-${i}`, JSON.stringify([role]), now, now, now).lastInsertRowid);
    // Every node is part-way: the common stages and a few of its own verified, with some failed attempts.
    for (const s of stages.filter((x) => x.role === 'common' || x.role === role).slice(0, 3 + (i % stagesPerRole))) {
      const run = store.stageRuns.start(id, 1, s.id);
      store.stageRuns.complete(run.id, i % 7 === 0 ? 'failed' : 'succeeded', 0);
      if (i % 7 === 0) store.stageRuns.complete(store.stageRuns.start(id, 1, s.id).id, 'succeeded', 0);
    }
  }
})();

// As the engine does it: verified stages are read once per node and generation, then kept in memory.
const verifiedCache = new Map<number, Set<string>>();
let listMs = 0;
function pass(): { runnable: number } {
  const listStart = process.hrtime.bigint();
  const nodes = store.nodes.list();
  listMs += Number(process.hrtime.bigint() - listStart) / 1e6;
  const graph: GraphNode[] = nodes.map((n) => {
    let verified = verifiedCache.get(n.id);
    if (!verified) verifiedCache.set(n.id, (verified = store.stageRuns.verifiedStages(n.id, n.generation)));
    return { id: n.id, roles: n.roles, verified };
  });
  const view = new ClusterView(graph);
  let runnable = 0;
  for (const node of graph) if (nextStep(stages, node, view).kind === 'run') runnable += 1;
  return { runnable };
}

for (let i = 0; i < 5; i += 1) pass();
listMs = 0;
const rounds = 30;
const timings: number[] = [];
let runnable = 0;
for (let i = 0; i < rounds; i += 1) {
  const start = process.hrtime.bigint();
  runnable = pass().runnable;
  timings.push(Number(process.hrtime.bigint() - start) / 1e6);
}
timings.sort((a, b) => a - b);
const rows = (store.db.prepare('SELECT COUNT(*) AS n FROM stage_runs').get() as { n: number }).n;
console.log(`scheduler pass: ${nodeCount} nodes, ${stages.length} stages, ${rows} stage runs, ${runnable} runnable`);
console.log(`  median ${timings[Math.floor(rounds / 2)]!.toFixed(2)} ms, p90 ${timings[Math.floor(rounds * 0.9)]!.toFixed(2)} ms, max ${timings.at(-1)!.toFixed(2)} ms (no reference: internal work)`);
console.log(`  of which reading the nodes table: ${(listMs / rounds).toFixed(2)} ms on average`);
store.close();
