// Test harness: real OpenSSH servers on loopback addresses (one per fake node, each with its own host key and
// config, never the machine's sshd), and an appliance context on a temp data directory.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { loadConfig } from '../../server/config.ts';
import type { AppContext } from '../../server/context.ts';
import { createLogger } from '../../server/log.ts';
import { createServices } from '../../server/services/index.ts';
import { databasePath, openStore } from '../../server/store/index.ts';
import type { StoredNode } from '../../server/store/nodes.ts';
import type { Role } from '../../server/domain/types.ts';

export const SSHD = '/usr/sbin/sshd';
export const haveSshd = existsSync(SSHD) && process.getuid?.() === 0;
if (!haveSshd) console.warn('test/orchestrator: skipped: needs root and /usr/sbin/sshd (Debian openssh-server)');

export const FIXTURES = join(import.meta.dirname, 'fixtures');

let counter = 0;
export function tempRoot(): string {
  counter += 1;
  const dir = `/tmp/rl-orch-${process.pid}-${counter}`;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** A port free on 127.0.0.2 (and, in practice, on the neighbouring loopback addresses). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.2', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

export class FakeNodeSshd {
  private child: ChildProcess | null = null;
  readonly hostKeyPath: string;
  readonly hostPublicKey: string;
  readonly configPath: string;
  private output = '';

  constructor(
    readonly dir: string,
    readonly address: string,
    readonly port: number,
    authorizedKey: string,
  ) {
    mkdirSync(dir, { recursive: true });
    this.hostKeyPath = join(dir, 'ssh_host_ed25519_key');
    if (!existsSync(this.hostKeyPath)) execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'fake-node', '-f', this.hostKeyPath]);
    this.hostPublicKey = readFileSync(`${this.hostKeyPath}.pub`, 'utf8').trim();
    writeFileSync(join(dir, 'authorized_keys'), `${authorizedKey}\n`, { mode: 0o600 });
    this.configPath = join(dir, 'sshd_config');
    writeFileSync(
      this.configPath,
      [
        `ListenAddress ${address}:${port}`,
        `HostKey ${this.hostKeyPath}`,
        `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
        'PermitRootLogin prohibit-password',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'StrictModes no',
        'UsePAM no',
        `PidFile ${join(dir, 'sshd.pid')}`,
        'Subsystem sftp internal-sftp',
        'LogLevel ERROR',
        '',
      ].join('\n'),
    );
  }

  async start(): Promise<void> {
    mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
    this.output = '';
    const child = spawn(SSHD, ['-D', '-e', '-f', this.configPath], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr!.on('data', (data: Buffer) => (this.output += data.toString()));
    this.child = child;
    // Ready when the port accepts connections.
    for (let i = 0; i < 100; i += 1) {
      if (child.exitCode !== null) throw new Error(`sshd on ${this.address}:${this.port} exited: ${this.output}`);
      if (await accepts(this.address, this.port)) return;
      await sleep(50);
    }
    throw new Error(`sshd on ${this.address}:${this.port} did not start: ${this.output}`);
  }

  /** Kills the listener and every session under it (the running stage included), like a node going down. */
  kill(): void {
    if (!this.child?.pid) return;
    killTree(this.child.pid);
    this.child = null;
  }

  stop(): void {
    this.thaw();
    this.kill();
  }

  /** Every process of this node's SSH server stops (SIGSTOP): connections stay open, nothing answers. */
  freeze(): void {
    this.signalTree('SIGSTOP');
  }

  thaw(): void {
    this.signalTree('SIGCONT');
  }

  private signalTree(signal: NodeJS.Signals): void {
    if (!this.child?.pid) return;
    for (const id of [this.child.pid, ...descendants(this.child.pid)]) {
      try {
        process.kill(id, signal);
      } catch {
        /* already gone */
      }
    }
  }
}

function descendants(pid: number): number[] {
  let out = '';
  try {
    out = execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' });
  } catch {
    return [];
  }
  const children = out.split('\n').filter(Boolean).map(Number);
  return children.flatMap((child) => [child, ...descendants(child)]);
}

export function killTree(pid: number): void {
  for (const id of [pid, ...descendants(pid)]) {
    try {
      process.kill(id, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
}

function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    import('node:net').then(({ connect }) => {
      const socket = connect({ host, port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
  });
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls until `check` returns a truthy value (no timing assertion: the test timeout is the bound). */
export async function waitFor<T>(what: string, check: () => T | null | undefined | false, timeoutMs = 90_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

export interface Harness {
  root: string;
  ctx: AppContext;
  overrides: Record<string, unknown>;
  close(): void;
}

export function createHarness(fixture: string, port: number, extra: Record<string, unknown> = {}, root = tempRoot()): Harness {
  const overrides = {
    dataDir: join(root, 'data'),
    bootstrapDir: join(FIXTURES, fixture),
    'orchestrator.sshPort': port,
    'orchestrator.concurrency': 4,
    'watchdog.sshWaitSeconds': 60,
    'log.level': 'silent',
    ...extra,
  };
  const config = loadConfig({ overrides, env: {} });
  const store = openStore(databasePath(config.dataDir));
  const ctx: AppContext = { config, store, services: createServices(config, store), log: createLogger('silent') };
  return { root, ctx, overrides, close: () => store.close() };
}

/** Registers a node and walks it to `installed` with its host key recorded, as the done callback does. */
export function installedNode(ctx: AppContext, index: number, hostname: string, roles: Role[], hostKey: string): StoredNode {
  const mac = `52:54:00:00:00:${index.toString(16).padStart(2, '0')}`;
  let node = ctx.services.nodes.add(mac, { hostname, roles, profile: 'debian-12', managementAddress: `127.0.0.${index}` }, 'test');
  node = ctx.services.nodes.apply(node, { kind: 'install-started' }, 'test');
  node = ctx.services.nodes.apply(node, { kind: 'install-done' }, 'test');
  return ctx.store.nodes.update(node.id, { sshHostKey: hostKey });
}

/** Per-node remote directories: every fake node shares this machine's file system. */
export const stageRootFor = (root: string) => (target: StoredNode) => join(root, 'nodes', target.hostname ?? `node-${target.id}`, 'stages');
export const workDirOf = (root: string, hostname: string) => join(root, 'nodes', hostname, 'work');

export const FAST = { pollMs: 200, backoffInitialMs: 100, backoffMaxMs: 500, logFlushMs: 50, kickDelayMs: 20 };
