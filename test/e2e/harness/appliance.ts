// The appliance under test, started as its real command (`racklift serve`) inside the lab namespace with a
// generated racklift.yaml whose data directory is the test's temp dir. The test reads what happened from the
// appliance's own store (read-only) and operates on it through the CLI, as an operator would.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { stringify } from 'yaml';
import { onCleanup } from './cleanup.ts';
import type { LabNetwork } from './netns.ts';
import { run, sleep } from './sh.ts';

export const REPO_ROOT = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
const RACKLIFT = join(REPO_ROOT, 'bin', 'racklift.js');

export interface ApplianceOptions {
  network: LabNetwork;
  workDir: string;
  httpPort?: number;
  /** Boot files (loaders, installer kernels); the checkout's boot/ unless set. */
  bootDir?: string;
  /** Run `racklift setup` on this config before serving, as `npm start` does (default: when bootDir is set). */
  setup?: boolean;
  packageProxy?: string | null;
  /** Extra config keys (dotted paths), e.g. { 'boot.autoEnrol': true }. */
  settings?: Record<string, unknown>;
}

export interface EventRow {
  id: number;
  node_id: number | null;
  mac: string | null;
  at: string;
  kind: string;
  from_state: string | null;
  to_state: string | null;
  message: string;
  actor: string | null;
}

export interface NodeRow {
  id: number;
  mac: string;
  state: string;
  generation: number;
  profile: string | null;
  bootloader: string;
}

export interface Appliance {
  configPath: string;
  dataDir: string;
  baseUrl: string;
  logPath: string;
  /** `racklift <args>` against this appliance's config (runs on the host side; it only opens the store). */
  cli(args: string[]): string;
  /**
   * curl from inside the namespace (where the VMs are): returns status code and body. `from` sends it from that
   * address (a node's: installer callbacks are accepted only from the node's leased or reserved address); it is
   * put on the namespace's loopback for the request, so use it only while that node's VM is stopped.
   */
  fetch(path: string, options?: { method?: string; body?: string; from?: string }): { status: number; body: string };
  events(afterId?: number): EventRow[];
  node(mac: string): NodeRow | null;
  lastEventId(): number;
  waitForEvent(match: (event: EventRow) => boolean, timeoutMs: number, afterId?: number): Promise<EventRow>;
  waitForState(mac: string, state: string, timeoutMs: number): Promise<NodeRow>;
  log(): string;
  stop(): Promise<void>;
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let cursor = target;
  for (const key of keys.slice(0, -1)) cursor = (cursor[key] ??= {}) as Record<string, unknown>;
  cursor[keys.at(-1)!] = value;
}

export function applianceConfig(options: ApplianceOptions): Record<string, unknown> {
  const { network } = options;
  const prefix = network.address.split('.').slice(0, 3).join('.');
  const config: Record<string, unknown> = {
    dataDir: join(options.workDir, 'data'),
    log: { level: 'debug' },
    http: { host: '0.0.0.0', port: options.httpPort ?? 8080, packageProxy: options.packageProxy ?? null },
    provisioning: {
      interface: network.bridge,
      address: network.address,
      subnet: network.subnet,
      // The Debian installer stops to ask "continue without a default route?" and for name servers (at
      // critical priority, before it has its Preseed) when DHCP names none; the appliance's own address stands
      // in for both (nothing answers DNS there, and nothing in the lab needs a name).
      gateway: network.address,
      dns: [network.address],
      pool: { start: `${prefix}.100`, end: `${prefix}.150` },
      leaseSeconds: 600,
    },
    dhcp: { enabled: true, mode: 'authoritative' },
    tftp: { enabled: true },
    orchestrator: { enabled: false },
    boot: { autoEnrol: false },
  };
  if (options.bootDir) config.bootDir = options.bootDir;
  for (const [path, value] of Object.entries(options.settings ?? {})) setPath(config, path, value);
  return config;
}

export async function startAppliance(options: ApplianceOptions): Promise<Appliance> {
  const { network } = options;
  const config = applianceConfig(options);
  const dataDir = config.dataDir as string;
  mkdirSync(dataDir, { recursive: true });
  const configPath = join(options.workDir, 'racklift.yaml');
  writeFileSync(configPath, stringify(config));
  const logPath = join(options.workDir, 'appliance.log');
  if (options.setup ?? options.bootDir !== undefined) {
    writeFileSync(join(options.workDir, 'setup.log'), run(process.execPath, [RACKLIFT, '--config', configPath, 'setup']));
  }
  const logStream = createWriteStream(logPath);
  const port = (config.http as { port: number }).port;
  const baseUrl = `http://${network.address}:${port}`;

  const child: ChildProcess = spawn('ip', ['netns', 'exec', network.name, process.execPath, RACKLIFT, '--config', configPath, 'serve'], {
    cwd: options.workDir,
    env: { ...process.env, RACKLIFT_CONFIG: configPath },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.pipe(logStream);
  child.stderr!.pipe(logStream);
  let exitedWith: string | null = null;
  child.on('exit', (code, signal) => (exitedWith = `appliance exited (${signal ?? code})`));
  const forget = onCleanup('appliance', () => {
    if (exitedWith === null) child.kill('SIGKILL');
  });
  const readLog = () => (existsSync(logPath) ? readFileSync(logPath, 'utf8') : '');

  const fetch = (path: string, fetchOptions: { method?: string; body?: string; from?: string } = {}) => {
    const body = fetchOptions.body === undefined ? [] : ['-H', 'Content-Type: text/plain', '--data-binary', fetchOptions.body];
    const method = fetchOptions.method ?? (fetchOptions.body === undefined ? 'GET' : 'POST');
    const from = fetchOptions.from;
    if (from) network.exec('ip', ['addr', 'add', `${from}/32`, 'dev', 'lo']);
    let out: string;
    try {
      out = network.exec('curl', ['-s', '-m', '10', '-X', method, ...(from ? ['--interface', from] : []), ...body, '-w', '\n%{http_code}', `${baseUrl}${path}`]);
    } finally {
      if (from) network.exec('ip', ['addr', 'del', `${from}/32`, 'dev', 'lo']);
    }
    const cut = out.lastIndexOf('\n');
    return { status: Number(out.slice(cut + 1)), body: out.slice(0, cut) };
  };

  // Ready when HTTP answers and every service has logged that it listens (DHCP and TFTP start after HTTP).
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exitedWith !== null) throw new Error(`${exitedWith} while starting:\n${readLog().slice(-3000)}`);
    let healthy = false;
    try {
      healthy = fetch('/healthz').status === 200;
    } catch {
      healthy = false;
    }
    const log = readLog();
    if (healthy && /dhcp listening/.test(log) && /tftp listening/.test(log)) break;
    if (Date.now() > deadline) throw new Error(`appliance did not become ready within 60 s:\n${log.slice(-3000)}`);
    await sleep(300);
  }

  let db: Database.Database | null = null;
  const store = () => (db ??= new Database(join(dataDir, 'racklift.sqlite'), { readonly: true, fileMustExist: true }));
  const events = (afterId = 0) => store().prepare('SELECT * FROM events WHERE id > ? ORDER BY id').all(afterId) as EventRow[];
  const node = (mac: string) =>
    (store().prepare('SELECT id, mac, state, generation, profile, bootloader FROM nodes WHERE mac = ?').get(mac.toLowerCase()) as NodeRow | undefined) ?? null;

  return {
    configPath,
    dataDir,
    baseUrl,
    logPath,
    cli: (args) => run(process.execPath, [RACKLIFT, '--config', configPath, ...args]),
    fetch,
    events,
    node,
    lastEventId: () => (store().prepare('SELECT COALESCE(MAX(id), 0) AS id FROM events').get() as { id: number }).id,
    async waitForEvent(match, timeoutMs, afterId = 0) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const found = events(afterId).find(match);
        if (found) return found;
        if (Date.now() > until) throw new Error(`no matching appliance event within ${timeoutMs / 1000} s; events:\n${formatEvents(events(afterId))}`);
        await sleep(250);
      }
    },
    async waitForState(mac, state, timeoutMs) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const found = node(mac);
        if (found?.state === state) return found;
        if (Date.now() > until) throw new Error(`node ${mac} is ${found?.state ?? 'unknown'}, not ${state}, after ${timeoutMs / 1000} s; events:\n${formatEvents(events())}`);
        await sleep(250);
      }
    },
    log: readLog,
    async stop() {
      db?.close();
      db = null;
      if (exitedWith === null) {
        const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await gone;
        clearTimeout(timer);
      }
      logStream.end();
      forget();
    },
  };
}

export function formatEvents(events: EventRow[]): string {
  return events
    .map((e) => `  #${e.id} ${e.at} ${e.mac ?? '-'} ${e.kind}${e.from_state || e.to_state ? ` ${e.from_state ?? '-'}->${e.to_state ?? '-'}` : ''}: ${e.message}`)
    .join('\n');
}
