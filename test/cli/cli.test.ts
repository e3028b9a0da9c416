import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const BIN = join(import.meta.dirname, '../../bin/racklift.js');
const dataDir = mkdtempSync(join(tmpdir(), 'rl-cli-'));
const env = { ...process.env, RACKLIFT_DATA_DIR: dataDir, RACKLIFT_CONFIG: '', RACKLIFT_LOG_LEVEL: 'info' };
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

const racklift = (...args: string[]) => run(process.execPath, [BIN, ...args], { env });

describe('racklift CLI', () => {
  it('node add, then node list --json shows the node', async () => {
    await racklift('node', 'add', '52:54:00:12:34:56', '--hostname', 'cmp1', '--roles', 'compute', '--profile', 'debian-12');
    const { stdout } = await racklift('node', 'list', '--json');
    const nodes = JSON.parse(stdout) as { mac: string; hostname: string; state: string; roles: string[]; installTokenHash?: string }[];
    expect(nodes).toHaveLength(1);
    expect(nodes[0]).toMatchObject({ mac: '52:54:00:12:34:56', hostname: 'cmp1', state: 'assigned', roles: ['compute'] });
    expect(nodes[0]!.installTokenHash).toBeUndefined();
  });

  it('explains a refused action and exits non-zero', async () => {
    await expect(racklift('node', 'retry', 'cmp1')).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining('cmp1 is assigned: cannot retry') });
    await expect(racklift('node', 'show', 'nosuch')).rejects.toMatchObject({ stderr: expect.stringContaining('no node "nosuch"') });
  });

  it('a bad configuration exits with the key and the reason', async () => {
    await expect(run(process.execPath, [BIN, 'node', 'list'], { env: { ...env, RACKLIFT_HTTP_PORT: 'eighty' } })).rejects.toMatchObject({
      code: 78,
      stderr: expect.stringContaining('http.port'),
    });
  });

  it('serve answers /healthz and stops cleanly on SIGTERM', async () => {
    const child = spawn(process.execPath, [BIN, 'serve'], { env: { ...env, RACKLIFT_HTTP_HOST: '127.0.0.1', RACKLIFT_HTTP_PORT: '0' } });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`serve did not start:\n${output}`)), 30_000);
      child.on('exit', (code) => reject(new Error(`serve exited with ${code}:\n${output}`)));
      child.stdout.on('data', () => {
        const match = /http listening on [\d.]+:(\d+)/.exec(output);
        if (match) {
          clearTimeout(timer);
          resolve(Number(match[1]));
        }
      });
    });
    const response = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: 'ok', nodes: 1 });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(output).toContain('"msg":"stopped"');
  });
});
