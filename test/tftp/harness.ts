// Test harness: an appliance context over an in-memory store with a temporary TFTP root, and the TFTP
// service bound to an ephemeral loopback port.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../server/config.ts';
import type { AppContext } from '../../server/context.ts';
import { createLogger } from '../../server/log.ts';
import { createServices } from '../../server/services/index.ts';
import { openStore } from '../../server/store/index.ts';
import { startTftpService, type TftpService } from '../../server/tftp/service.ts';

export interface Harness {
  ctx: AppContext;
  root: string;
  service: TftpService;
  close(): Promise<void>;
}

export async function makeRoot(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'rl-tftp-'));
}

export function makeContext(root: string, tftp: Record<string, unknown> = {}): AppContext {
  const overrides: Record<string, unknown> = { bootDir: root, dataDir: root, 'tftp.enabled': true, 'tftp.host': '127.0.0.1', 'tftp.port': 1069 };
  // Keys are tftp.* settings unless dotted (`boot.fileCacheBytes`).
  for (const [key, value] of Object.entries(tftp)) if (key !== 'port') overrides[key.includes('.') ? key : `tftp.${key}`] = value;
  const loaded = loadConfig({ overrides, env: {} });
  // Port 0 (any free port) is not a valid config value, but it is what tests want.
  const config = { ...loaded, tftp: { ...loaded.tftp, port: typeof tftp.port === 'number' ? tftp.port : 0 } };
  const store = openStore(':memory:');
  return { config, store, services: createServices(config, store), log: createLogger(process.env.RL_TFTP_LOG ?? 'silent') };
}

export async function startHarness(tftp: Record<string, unknown> = {}, root?: string): Promise<Harness> {
  const ownRoot = root === undefined;
  const dir = root ?? (await makeRoot());
  const ctx = makeContext(dir, tftp);
  const service = await startTftpService(ctx);
  return {
    ctx,
    root: dir,
    service,
    async close() {
      await service.close();
      ctx.store.close();
      if (ownRoot) await rm(dir, { recursive: true, force: true });
    },
  };
}

export function hasBinary(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`]).status === 0;
}

export const isRoot = process.getuid?.() === 0;

/** A file of pseudo-random bytes (deterministic per seed), written with dd from /dev/urandom for speed. */
export function makeRandomFile(path: string, mebibytes: number): void {
  execFileSync('dd', ['if=/dev/urandom', `of=${path}`, 'bs=1M', `count=${mebibytes}`, 'status=none']);
}

export async function sha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export async function waitFor(condition: () => boolean, what: string, limitMs = 20_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
