// racklift user add|token, and node commands through --url/--token against a running HTTP side, with the
// same output as the local commands. Real CLI processes (node bin/racklift.js) on a temp data directory.
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../server/config.ts';
import { createHttpApp } from '../../server/http/app.ts';
import { createLogger } from '../../server/log.ts';
import { createServices } from '../../server/services/index.ts';
import { databasePath, openStore, type Store } from '../../server/store/index.ts';

const BIN = resolve('bin/racklift.js');
const dataDir = mkdtempSync(join(tmpdir(), 'rl-api-cli-'));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function racklift(args: string[], options: { stdin?: string; env?: Record<string, string> } = {}): Promise<Run> {
  return new Promise((done) => {
    const child = execFile(
      process.execPath,
      [BIN, ...args],
      { cwd: dataDir, env: { PATH: process.env.PATH ?? '', RACKLIFT_DATA_DIR: dataDir, RACKLIFT_LOG_LEVEL: 'silent', ...options.env }, timeout: 60_000 },
      (error, stdout, stderr) => done({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
    child.stdin?.end(options.stdin ?? '');
  });
}

let store: Store;
let server: Server;
let url = '';
let token = '';

beforeAll(async () => {
  const add = await racklift(['user', 'add', 'bob', '--role', 'admin', '--password-stdin'], { stdin: 'a long enough password\n' });
  expect(add).toMatchObject({ code: 0, stdout: 'user bob created (admin)\n' });
  const made = await racklift(['user', 'token', 'bob', '--name', 'ci']);
  expect(made.code).toBe(0);
  token = made.stdout.trim();
  const config = loadConfig({ env: {}, overrides: { dataDir } });
  store = openStore(databasePath(dataDir));
  server = createServer(createHttpApp({ config, store, services: createServices(config, store), log: createLogger('silent') }));
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}, 180_000);

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((done) => server?.close(done));
  store?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const remote = (...args: string[]) => racklift(args, { env: { RACKLIFT_URL: url, RACKLIFT_TOKEN: token } });

// Each CLI run starts tsx (seconds on a busy 2-core machine): generous limits, few runs.
describe('racklift user', { timeout: 180_000 }, () => {
  it('refuses a short password, a duplicate user, and a missing terminal without --password-stdin', async () => {
    expect((await racklift(['user', 'add', 'carol', '--role', 'viewer', '--password-stdin'], { stdin: 'short\n' })).stderr).toContain('at least 10 characters');
    expect((await racklift(['user', 'add', 'bob', '--role', 'viewer', '--password-stdin'], { stdin: 'another long password\n' })).stderr).toContain('user bob exists already');
    expect((await racklift(['user', 'add', 'erin', '--password-stdin'], { stdin: 'a long enough password\n' })).stderr).toContain("required option '--role <role>'");
    expect((await racklift(['user', 'add', 'erin', '--role', 'root', '--password-stdin'], { stdin: 'a long enough password\n' })).stderr).toContain('--role must be one of admin, operator, viewer');
    const noTty = await racklift(['user', 'add', 'dave', '--role', 'viewer']);
    expect(noTty.code).toBe(1);
    expect(noTty.stderr).toContain('--password-stdin');
  });

  it('prints a token once and keeps only its hash; lists users', async () => {
    expect(token).toMatch(/^rlt_[A-Za-z0-9_-]{43}$/);
    const list = await racklift(['user', 'list']);
    expect(list.stdout).toMatch(/bob\s+admin\s+\S+\s+ci/);
    expect(JSON.stringify(store.db.prepare('SELECT * FROM api_tokens').all())).not.toContain(token);
  });
});

describe('racklift --url --token node ...', { timeout: 240_000 }, () => {
  it('adds, shows, assigns, re-images and forgets through the API, naming the token user', async () => {
    const add = await remote('node', 'add', '52:54:00:77:00:01', '--hostname', 'remote-1');
    expect(add.code).toBe(0);
    expect(add.stdout).toMatch(/remote-1\s+discovered/);
    const assign = await remote('node', 'assign', 'remote-1', '--profile', 'debian-12', '--roles', 'compute,storage', '--disks', 'sdb');
    expect(assign.stdout).toMatch(/remote-1\s+assigned\s+compute,storage\s+debian-12/);
    const show = await remote('node', 'show', 'remote-1');
    expect(show.stdout).toContain('assigned: install generation 1');
    expect(show.stdout).toMatch(/bob\n/);
    const json = JSON.parse((await remote('node', 'show', 'remote-1', '--json')).stdout);
    expect(json).toMatchObject({ hostname: 'remote-1', state: 'assigned' });
    expect(json.events[0].actor).toBe('bob');
    expect((await remote('node', 'reimage', 'remote-1')).stdout).toMatch(/assigned\s+compute,storage\s+debian-12\s+-\s+2/);
    const forget = await remote('node', 'forget', 'remote-1');
    expect(forget.stdout).toMatch(/^forgot node \d+ \(52:54:00:77:00:01\)\n$/);
  });

  it('prints the same list as the local command', async () => {
    await remote('node', 'add', '52:54:00:77:00:02', '--hostname', 'same-1');
    const viaApi = await remote('node', 'list');
    const local = await racklift(['node', 'list']);
    expect(viaApi.stdout).toBe(local.stdout);
    expect((await remote('node', 'list', '--json')).stdout).toBe((await racklift(['node', 'list', '--json'])).stdout);
  });

  it('reports refusals with the service message and exit code 1', async () => {
    await remote('node', 'add', '52:54:00:77:00:03', '--hostname', 'refuse-1');
    const retry = await remote('node', 'retry', 'refuse-1');
    expect(retry.code).toBe(1);
    expect(retry.stderr).toBe('racklift: node refuse-1 is discovered: cannot retry: allowed only from failed\n');
    const unknown = await remote('node', 'show', 'nobody');
    expect(unknown.stderr).toContain('no node "nobody"');
    const bad = await remote('node', 'update', 'refuse-1', '--address', '10.0.0.999');
    expect(bad.stderr).toContain('managementAddress: not an IPv4 address');
    const forged = await racklift(['--url', url, '--token', `rlt_${'B'.repeat(43)}`, 'node', 'list']);
    expect(forged.stderr).toContain('unknown or revoked');
    const noToken = await racklift(['--url', url, 'node', 'list']);
    expect(noToken.stderr).toContain('--url needs an API token');
    const nobody = await racklift(['--url', 'http://127.0.0.1:9', '--token', token, 'node', 'list']);
    expect(nobody.stderr).toContain('cannot reach http://127.0.0.1:9');
  });
});
