// Node list pages at scale: 10,000 nodes in a file-backed store (WAL, as the appliance runs), the REST API and
// the web form's Nodes page answered by the appliance's HTTP app on loopback, timed with curl (a separate
// process, so the client's work is not on the server's event loop). Every case runs RUNS times, the cases
// interleaved; the median is printed with the bytes and rows returned and the load average. The reference in
// the same run is the whole list (limit=10000): a page should cost what it returns, not what the table holds.
//   npx tsx test/bench/api/nodes-page.ts            (env NODES=10000 RUNS=11)
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { loadConfig } from '../../../server/config.ts';
import type { AppContext } from '../../../server/context.ts';
import { Accounts } from '../../../server/http/auth/accounts.ts';
import { SESSION_COOKIE } from '../../../server/http/auth/middleware.ts';
import { createHttpApp } from '../../../server/http/app.ts';
import { createLogger } from '../../../server/log.ts';
import { createServices } from '../../../server/services/index.ts';
import { databasePath, openStore } from '../../../server/store/index.ts';
import { macOf, seedNodes } from './seed.ts';

const NODES = Number(process.env.NODES ?? 10_000);
const RUNS = Number(process.env.RUNS ?? 11);
const GOAL_MS = 50;
const execFileAsync = promisify(execFile);
const load = () => readFileSync('/proc/loadavg', 'utf8').split(' ')[0]!;

const dataDir = mkdtempSync(join(tmpdir(), 'rl-bench-pages-'));
const config = loadConfig({
  env: {},
  overrides: {
    dataDir,
    'provisioning.address': '10.236.0.1',
    'provisioning.subnet': '10.236.0.0/24',
    'provisioning.pool': { start: '10.236.0.100', end: '10.236.0.200' },
    'dhcp.enabled': false,
    'tftp.enabled': false,
  },
});
const store = openStore(databasePath(dataDir));
const seedStarted = performance.now();
seedNodes(store, NODES);
const seedMs = performance.now() - seedStarted;
const ctx: AppContext = { config, store, services: createServices(config, store), log: createLogger('silent') };
const accounts = new Accounts(store);
const user = await accounts.addUser('bench', 'correct horse battery', 'admin');
const { token } = accounts.createApiToken('bench', 'bench');
const { sessionId } = accounts.startSession(user.id);
const server: Server = createServer(createHttpApp(ctx));
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

interface Case {
  name: string;
  path: string;
  web: boolean;
}
const oneMac = macOf(Math.floor(NODES * 0.73));
const lateId = NODES - 150;
const cases: Case[] = [
  { name: 'API first page, limit=100', path: '/api/v1/nodes?limit=100', web: false },
  { name: 'API late page by cursor (after=id)', path: `/api/v1/nodes?limit=100&after=${lateId}`, web: false },
  { name: 'API late page by offset', path: `/api/v1/nodes?limit=100&offset=${NODES - 200}`, web: false },
  { name: 'API state=failed, limit=100', path: '/api/v1/nodes?state=failed&limit=100', web: false },
  { name: 'API role=controller, limit=100', path: '/api/v1/nodes?role=controller&limit=100', web: false },
  { name: 'API search one MAC', path: `/api/v1/nodes?q=${encodeURIComponent(oneMac)}&limit=100`, web: false },
  { name: 'API limit=1000', path: '/api/v1/nodes?limit=1000', web: false },
  { name: 'API everything (reference: limit=10000)', path: `/api/v1/nodes?limit=${NODES}`, web: false },
  { name: 'web /nodes first page (100)', path: '/nodes', web: true },
  { name: 'web /nodes page 50', path: '/nodes?page=50', web: true },
  { name: 'web /nodes state=failed', path: '/nodes?state=failed', web: true },
  { name: 'web /nodes search one MAC', path: `/nodes?q=${encodeURIComponent(oneMac)}`, web: true },
  { name: 'web /nodes everything (reference: limit=10000)', path: `/nodes?limit=${NODES}`, web: true },
];

interface Sample {
  ms: number;
  bytes: number;
  status: string;
}
async function fetchOnce(c: Case): Promise<Sample> {
  const auth = c.web ? ['-H', `cookie: ${SESSION_COOKIE}=${sessionId}`] : ['-H', `authorization: Bearer ${token}`];
  const { stdout } = await execFileAsync('curl', ['-s', '-o', '/dev/null', ...auth, '-w', '%{time_total} %{size_download} %{http_code}', `${base}${c.path}`], { encoding: 'utf8' });
  const [time, bytes, status] = stdout.split(' ');
  return { ms: Number(time) * 1000, bytes: Number(bytes), status: status! };
}

async function rowsOf(c: Case): Promise<string> {
  const headers: Record<string, string> = c.web ? { cookie: `${SESSION_COOKIE}=${sessionId}` } : { authorization: `Bearer ${token}` };
  const text = await (await fetch(`${base}${c.path}`, { headers })).text();
  if (c.web) return String((text.match(/<tr id="node-/g) ?? []).length);
  const body = JSON.parse(text) as { nodes?: unknown[]; total?: number };
  return `${body.nodes?.length ?? '?'}${body.total !== undefined ? ` of ${body.total}` : ''}`;
}

console.log(`nodes-page bench: ${NODES} nodes seeded in ${(seedMs / 1000).toFixed(1)} s; ${RUNS} interleaved runs per case; load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
for (const c of cases) await fetchOnce(c); // warm-up: statement cache, JIT, page cache
const samples = new Map<Case, Sample[]>(cases.map((c) => [c, []]));
const loads = new Map<Case, string>();
for (let run = 0; run < RUNS; run++) {
  for (const c of cases) {
    samples.get(c)!.push(await fetchOnce(c));
    loads.set(c, load());
  }
}
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

console.log(`\nsummary (median of ${RUNS}; goal: a page of 100 in < ${GOAL_MS} ms)`);
console.log(`${'case'.padEnd(48)} ${'ms'.padStart(8)} ${'bytes'.padStart(10)} ${'rows'.padStart(14)} ${'status'.padStart(6)}  load`);
for (const c of cases) {
  const list = samples.get(c)!;
  const statuses = [...new Set(list.map((s) => s.status))].join(',');
  console.log(`${c.name.padEnd(48)} ${median(list.map((s) => s.ms)).toFixed(1).padStart(8)} ${String(median(list.map((s) => s.bytes))).padStart(10)} ${(await rowsOf(c)).padStart(14)} ${statuses.padStart(6)}  ${loads.get(c)}`);
}

server.closeAllConnections();
server.close();
store.close();
rmSync(dataDir, { recursive: true, force: true });
