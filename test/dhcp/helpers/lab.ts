// Two network namespaces joined by a veth pair, made and removed by the test: the appliance's (10.231.10.1/24)
// and the clients' (10.231.10.9/24, plus 10.231.11.1/24 acting as a relay). Nothing touches the host's network.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';

export const REPO_ROOT = resolve(fileURLToPath(new URL('../../..', import.meta.url)));

export const isRoot = process.getuid?.() === 0;
export function hasBinary(path: string): boolean {
  return existsSync(path);
}

export function netnsUsable(): boolean {
  if (!isRoot || !hasBinary('/usr/sbin/ip') && !hasBinary('/usr/bin/ip')) return false;
  const probe = `rl-dhcp-probe-${process.pid}`;
  try {
    execFileSync('ip', ['netns', 'add', probe], { stdio: 'ignore' });
    execFileSync('ip', ['netns', 'del', probe], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const sh = (command: string, args: string[]) => execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const quiet = (command: string, args: string[]) => {
  try {
    execFileSync(command, args, { stdio: 'ignore' });
  } catch {
    // already gone
  }
};

export interface Lab {
  server: string;
  client: string;
  serverIf: string;
  clientIf: string;
  workDir: string;
  destroy(): void;
}

const children = new Set<ChildProcess>();
const namespaces = new Set<string>();
function cleanupAll() {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  for (const ns of namespaces) quiet('ip', ['netns', 'del', ns]);
}
process.once('exit', cleanupAll);

export function createLab(tag: string): Lab {
  const server = `rl-dhcp-${tag}s-${process.pid}`;
  const client = `rl-dhcp-${tag}c-${process.pid}`;
  const serverIf = 'rldhcp-s';
  const clientIf = 'rldhcp-c';
  const workDir = mkdtempSync(join(tmpdir(), 'rl-dhcp-'));
  for (const ns of [server, client]) {
    sh('ip', ['netns', 'add', ns]);
    namespaces.add(ns);
    sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  }
  try {
    sh('ip', ['-n', server, 'link', 'add', serverIf, 'type', 'veth', 'peer', 'name', clientIf, 'netns', client]);
    sh('ip', ['-n', server, 'addr', 'add', '10.231.10.1/24', 'dev', serverIf]);
    sh('ip', ['-n', server, 'link', 'set', serverIf, 'up']);
    sh('ip', ['-n', server, 'route', 'add', '10.231.11.0/24', 'via', '10.231.10.9']);
    sh('ip', ['-n', client, 'link', 'set', clientIf, 'address', '52:54:00:10:00:01']);
    sh('ip', ['-n', client, 'addr', 'add', '10.231.10.9/24', 'dev', clientIf]);
    sh('ip', ['-n', client, 'addr', 'add', '10.231.11.1/24', 'dev', clientIf]);
    sh('ip', ['-n', client, 'link', 'set', clientIf, 'up']);
    sh('ip', ['-n', client, 'route', 'add', '255.255.255.255/32', 'dev', clientIf]);
  } catch (error) {
    for (const ns of [server, client]) quiet('ip', ['netns', 'del', ns]);
    throw error;
  }
  return {
    server,
    client,
    serverIf,
    clientIf,
    workDir,
    destroy() {
      for (const ns of [server, client]) {
        quiet('ip', ['netns', 'del', ns]);
        namespaces.delete(ns);
      }
      rmSync(workDir, { recursive: true, force: true });
    },
  };
}

/** A child process started inside a namespace; its output is kept for assertions and for failure messages. */
export interface NsProcess {
  child: ChildProcess;
  output(): string;
  waitFor(pattern: RegExp, timeoutMs: number): Promise<string>;
  stop(): Promise<number | null>;
}

export function spawnIn(ns: string, command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): NsProcess {
  const child = spawn('ip', ['netns', 'exec', ns, command, ...args], { cwd: options.cwd ?? REPO_ROOT, env: options.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
  children.add(child);
  let output = '';
  const waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  const onData = (chunk: Buffer) => {
    output += chunk.toString();
    for (const waiter of [...waiters]) {
      const match = waiter.pattern.exec(output);
      if (match) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(match[0]);
      }
    }
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<number | null>((resolveExit) => child.once('exit', (code) => resolveExit(code)));
  return {
    child,
    output: () => output,
    waitFor(pattern, timeoutMs) {
      const match = pattern.exec(output);
      if (match) return Promise.resolve(match[0]);
      return new Promise((resolveWait, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${pattern} from ${command}; output:\n${output.slice(-3000)}`)), timeoutMs);
        waiters.push({
          pattern,
          resolve: (line) => {
            clearTimeout(timer);
            resolveWait(line);
          },
        });
        void exited.then(() => {
          clearTimeout(timer);
          const late = pattern.exec(output);
          if (late) resolveWait(late[0]);
          else reject(new Error(`${command} exited before ${pattern}; output:\n${output.slice(-3000)}`));
        });
      });
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      const code = await exited;
      clearTimeout(timer);
      children.delete(child);
      return code;
    },
  };
}

/** Writes racklift.yaml for an appliance in the server namespace and returns its path. */
export function writeApplianceConfig(lab: Lab, settings: Record<string, unknown>): string {
  const config = {
    dataDir: join(lab.workDir, 'data'),
    log: { level: 'debug' },
    http: { host: '0.0.0.0', port: 8080 },
    provisioning: {
      interface: lab.serverIf,
      address: '10.231.10.1',
      subnet: '10.231.10.0/24',
      dns: ['10.231.10.1'],
      pool: { start: '10.231.10.100', end: '10.231.10.102' },
      relayedSubnets: [{ subnet: '10.231.11.0/24', gateway: '10.231.11.1', pool: { start: '10.231.11.100', end: '10.231.11.199' } }],
    },
    tftp: { enabled: false },
    orchestrator: { enabled: false },
    ...settings,
  };
  const path = join(lab.workDir, 'racklift.yaml');
  writeFileSync(path, stringify(config));
  return path;
}

/** `racklift serve` inside the server namespace; resolves once DHCP listens. */
export async function startAppliance(lab: Lab, configPath: string): Promise<NsProcess> {
  const env = { PATH: process.env.PATH, HOME: lab.workDir, RACKLIFT_CONFIG: configPath };
  const appliance = spawnIn(lab.server, process.execPath, [join(REPO_ROOT, 'bin', 'racklift.js'), '--config', configPath, 'serve'], { env });
  await appliance.waitFor(/DHCP (authoritative|proxy) on/, 60_000);
  return appliance;
}
