// 1% packet loss in both directions (nftables `numgen random mod 1000 < 10 drop`; this kernel has no netem)
// between two network namespaces joined by a veth pair: our server in one, the client in the other.
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasBinary, isRoot, makeRandomFile, makeRoot, sha256 } from './harness.ts';

const run = promisify(execFile);
const ready = isRoot && hasBinary('ip') && hasBinary('nft') && hasBinary('atftp');
if (!ready) console.warn('test/tftp/loss: needs root, ip, nft and atftp; skipped');

const id = process.pid;
const serverNs = `rl-tftp-s-${id}`;
const clientNs = `rl-tftp-c-${id}`;
const serverAddress = '10.231.69.1';
const clientAddress = '10.231.69.2';

function removeNamespaces(): void {
  for (const ns of [serverNs, clientNs]) spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
}

function ipIn(ns: string, ...args: string[]): void {
  const result = spawnSync('ip', ['-n', ns, ...args], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`ip -n ${ns} ${args.join(' ')}: ${result.stderr}`);
}

function dropOnePercent(ns: string): void {
  const rules = 'table inet rl_loss {\n chain rl_in {\n  type filter hook input priority 0; policy accept;\n  numgen random mod 1000 < 10 drop\n }\n}\n';
  const result = spawnSync('ip', ['netns', 'exec', ns, 'nft', '-f', '-'], { input: rules, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`nft in ${ns}: ${result.stderr}`);
}

let root = '';
let server: ChildProcess | null = null;
let serverOutput: string[] = [];

beforeAll(async () => {
  if (!ready) return;
  process.once('exit', removeNamespaces);
  removeNamespaces();
  for (const ns of [serverNs, clientNs]) spawnSync('ip', ['netns', 'add', ns]);
  ipIn(serverNs, 'link', 'add', `rlts${id}`, 'type', 'veth', 'peer', 'name', `rltc${id}`, 'netns', clientNs);
  ipIn(serverNs, 'addr', 'add', `${serverAddress}/24`, 'dev', `rlts${id}`);
  ipIn(clientNs, 'addr', 'add', `${clientAddress}/24`, 'dev', `rltc${id}`);
  for (const [ns, dev] of [[serverNs, `rlts${id}`], [clientNs, `rltc${id}`]] as const) {
    ipIn(ns, 'link', 'set', 'lo', 'up');
    ipIn(ns, 'link', 'set', dev, 'up');
    dropOnePercent(ns);
  }
  root = await makeRoot();
  await mkdir(join(root, 'out'));
  makeRandomFile(join(root, 'lossy.bin'), 10);
  makeRandomFile(join(root, 'lossy-small.bin'), 2);
  server = spawn('ip', ['netns', 'exec', serverNs, process.execPath, '--import', 'tsx', 'test/tftp/serve.ts', root, serverAddress, '69', 'minTimeoutMs=20'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: server.stdout! });
  await new Promise<void>((resolve, reject) => {
    server!.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
    lines.on('line', (line) => {
      serverOutput.push(line);
      if (line.startsWith('{"port"')) resolve();
    });
  });
}, 60_000);

afterAll(async () => {
  if (server && server.exitCode === null) {
    const exited = new Promise((resolve) => server!.once('exit', resolve));
    server.kill('SIGTERM');
    await exited;
  }
  removeNamespaces();
  if (root) await rm(root, { recursive: true, force: true });
});

describe.skipIf(!ready)('1% packet loss both ways', () => {
  it('atftp with windowsize 16 and blksize 1468 completes 10 MiB with a matching checksum', async () => {
    const local = join(root, 'out', 'atftp');
    await run('ip', ['netns', 'exec', clientNs, 'atftp', '--option', 'blksize 1468', '--option', 'windowsize 16', '--option', 'tsize 0', '-g', '-r', 'lossy.bin', '-l', local, serverAddress, '69'], { timeout: 110_000 });
    expect(await sha256(local)).toBe(await sha256(join(root, 'lossy.bin')));
  }, 120_000);

  it('tftp-hpa in 512-byte lockstep completes 2 MiB with a matching checksum', async () => {
    if (!hasBinary('tftp')) return console.warn('tftp-hpa missing: lockstep-under-loss case skipped');
    const local = join(root, 'out', 'hpa');
    await run('ip', ['netns', 'exec', clientNs, 'tftp', '-m', 'binary', serverAddress, '69', '-c', 'get', 'lossy-small.bin', local], { timeout: 110_000 });
    expect(await sha256(local)).toBe(await sha256(join(root, 'lossy-small.bin')));
  }, 120_000);

  it('the server retransmitted (the loss was real)', async () => {
    const exited = new Promise((resolve) => server!.once('exit', resolve));
    server!.kill('SIGTERM');
    await exited;
    const counters = JSON.parse(serverOutput.at(-1)!) as { retransmits: number; transfersCompleted: number };
    console.log('loss test server counters', counters);
    expect(counters.transfersCompleted).toBe(2);
    expect(counters.retransmits).toBeGreaterThan(0);
  });
});
