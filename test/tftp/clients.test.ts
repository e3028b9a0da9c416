// Real TFTP clients from Debian against our server on loopback: atftp (blksize, tsize, windowsize),
// tftp-hpa (512-byte lockstep, netascii), curl, busybox. Checksums must match. The file cache holds files up
// to 16 MiB here, so the large files go through the chunked disk read-ahead and the small one from memory.
import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderPxelinuxConfig } from '../../server/render/pxelinux.ts';
import { hasBinary, makeRandomFile, sha256, startHarness, type Harness } from './harness.ts';

const run = promisify(execFile);
const clients = { atftp: hasBinary('atftp'), tftp: hasBinary('tftp'), curl: hasBinary('curl'), busybox: hasBinary('busybox') };
for (const [name, present] of Object.entries(clients)) if (!present) console.warn(`test/tftp/clients: ${name} is not installed, its tests are skipped`);

let h: Harness;
let out: string;
const sums: Record<string, string> = {};

beforeAll(async () => {
  h = await startHarness({ maxBlksize: 65464, 'boot.fileCacheBytes': 64 * 1024 * 1024 });
  out = join(h.root, 'out');
  await mkdir(out);
  makeRandomFile(join(h.root, 'big50.bin'), 50);
  makeRandomFile(join(h.root, 'roll33.bin'), 33);
  makeRandomFile(join(h.root, 'small5.bin'), 5);
  await writeFile(join(h.root, 'notes.txt'), 'line one\nline two\n\nend\n');
  for (const name of ['big50.bin', 'roll33.bin', 'small5.bin']) sums[name] = await sha256(join(h.root, name));
}, 120_000);
afterAll(async () => {
  await h?.close();
});

const port = () => String(h.service.port);

function atftp(remote: string, local: string, options: string[] = []) {
  const args = options.flatMap((option) => ['--option', option]);
  return run('atftp', [...args, '-g', '-r', remote, '-l', local, '127.0.0.1', port()], { timeout: 110_000 });
}

describe.skipIf(!clients.atftp)('atftp', () => {
  it('50 MiB with blksize 1468, tsize and windowsize 16: checksum matches', async () => {
    const local = join(out, 'atftp-50');
    await atftp('big50.bin', local, ['blksize 1468', 'tsize 0', 'windowsize 16']);
    expect(await sha256(local)).toBe(sums['big50.bin']);
  }, 120_000);

  it('33 MiB at 512-byte blocks rolls the block number over 65535', async () => {
    const local = join(out, 'atftp-roll');
    await atftp('roll33.bin', local, ['tsize 0']);
    expect(await sha256(local)).toBe(sums['roll33.bin']);
  }, 120_000);

  it('20 parallel transfers all complete', async () => {
    const before = h.service.counters.transfersCompleted;
    await Promise.all(Array.from({ length: 20 }, (_, i) => atftp('small5.bin', join(out, `par-${i}`), ['blksize 1468', 'windowsize 8'])));
    for (let i = 0; i < 20; i++) expect(await sha256(join(out, `par-${i}`))).toBe(sums['small5.bin']);
    expect(h.service.counters.transfersCompleted - before).toBe(20);
  }, 120_000);

  it('serves generated pxelinux configs and records a boot event for a known node', async () => {
    const mac = '52:54:00:aa:bb:01';
    const node = h.ctx.services.nodes.add(mac, {}, 'test');
    const name = 'pxelinux.cfg/01-52-54-00-aa-bb-01';
    await atftp(name, join(out, 'cfg-node'));
    expect(await readFile(join(out, 'cfg-node'), 'utf8')).toBe(renderPxelinuxConfig(h.ctx, mac));
    await atftp('pxelinux.cfg/default', join(out, 'cfg-default'));
    expect(await readFile(join(out, 'cfg-default'), 'utf8')).toBe(renderPxelinuxConfig(h.ctx, null));
    const events = h.ctx.store.events.listForNode(node.id).filter((event) => event.kind === 'boot');
    expect(events).toHaveLength(1);
    expect(events[0]!.message).toContain('pxelinux.cfg/01-52-54-00-aa-bb-01');
  });
});

describe.skipIf(!clients.atftp)('file cache', () => {
  it('served the small file from memory after one read and the large ones from disk', async () => {
    await atftp('small5.bin', join(out, 'cache-check'), ['blksize 1468']);
    const stats = h.service.cacheStats();
    expect(stats.misses).toBe(1);
    expect(stats.hits).toBeGreaterThan(0);
    expect(stats).toMatchObject({ files: 1, bytes: 5 * 1024 * 1024 });
  }, 120_000);
});

describe.skipIf(!clients.tftp)('tftp-hpa', () => {
  it('33 MiB in 512-byte lockstep (rollover): checksum matches', async () => {
    const local = join(out, 'hpa-roll');
    await run('tftp', ['-m', 'binary', '127.0.0.1', port(), '-c', 'get', 'roll33.bin', local], { timeout: 110_000 });
    expect(await sha256(local)).toBe(sums['roll33.bin']);
  }, 120_000);

  it('netascii: the client converts back to the original text', async () => {
    const local = join(out, 'hpa-notes');
    await run('tftp', ['-m', 'ascii', '127.0.0.1', port(), '-c', 'get', 'notes.txt', local]);
    expect(await readFile(local, 'utf8')).toBe(await readFile(join(h.root, 'notes.txt'), 'utf8'));
  });

  it('a missing file and a write are refused', async () => {
    const missing = await run('tftp', ['-m', 'binary', '127.0.0.1', port(), '-c', 'get', '../etc/passwd', join(out, 'nope')]).catch((error) => error);
    expect(String(missing.stdout) + String(missing.stderr)).toMatch(/not found/i);
    await writeFile(join(out, 'upload'), 'x');
    const put = await run('tftp', ['-m', 'binary', '127.0.0.1', port(), '-c', 'put', join(out, 'upload'), 'upload']).catch((error) => error);
    expect(String(put.stdout) + String(put.stderr)).toMatch(/read-only|access violation/i);
  });
});

describe.skipIf(!clients.curl)('curl', () => {
  it('50 MiB with --tftp-blksize 1468: checksum matches', async () => {
    const local = join(out, 'curl-50');
    await run('curl', ['-sS', '--tftp-blksize', '1468', '-o', local, `tftp://127.0.0.1:${port()}/big50.bin`], { timeout: 110_000 });
    expect(await sha256(local)).toBe(sums['big50.bin']);
  }, 120_000);
});

describe.skipIf(!clients.busybox)('busybox tftp', () => {
  it('5 MiB with -b 1468: checksum matches', async () => {
    const local = join(out, 'bb-5');
    await run('busybox', ['tftp', '-b', '1468', '-g', '-r', 'small5.bin', '-l', local, '127.0.0.1', port()], { timeout: 110_000 });
    expect(await sha256(local)).toBe(sums['small5.bin']);
  }, 120_000);
});
