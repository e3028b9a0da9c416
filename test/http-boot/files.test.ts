// GET /boot/<file> over a real socket: lengths, single ranges, suffix and open ranges, 416, HEAD, streaming
// of a larger file, and path traversal refused however it is spelled (raw requests: fetch would normalise `..`).
// The boot file cache holds files up to 2 MiB here: small.bin is answered from memory, big.img from disk.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHttp } from '../../server/http/server.ts';
import { makeFixture, type Fixture } from '../render/fixture.ts';

let fixture: Fixture;
let port: number;
let close: () => Promise<void>;
const big = randomBytes(6 * 1024 * 1024 + 123);
const small = Buffer.from('0123456789abcdefghijklmnopqrstuvwxyz');

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

function raw(path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  fixture = makeFixture({ 'boot.fileCacheBytes': 8 * 1024 * 1024 });
  const boot = fixture.ctx.config.bootDir;
  writeFileSync(join(boot, 'small.bin'), small);
  mkdirSync(join(boot, 'rocky-9', 'tree'), { recursive: true });
  writeFileSync(join(boot, 'rocky-9', 'tree', '.treeinfo'), '[general]\n');
  mkdirSync(join(boot, 'images'));
  writeFileSync(join(boot, 'images', 'big.img'), big);
  symlinkSync(join(boot, 'images', 'big.img'), join(boot, 'big.img'));
  writeFileSync(join(fixture.dir, 'secret.txt'), 'outside boot/\n');
  // Links that leave boot/: into a Debian package directory the setup links from (served), anywhere else (not).
  symlinkSync('/usr/lib/ipxe/undionly.kpxe', join(boot, 'undionly.kpxe'));
  symlinkSync('/etc/passwd', join(boot, 'passwd'));
  symlinkSync(join(fixture.dir, 'secret.txt'), join(boot, 'secret.txt'));
  symlinkSync('/usr/lib/ipxe/../../../etc/passwd', join(boot, 'dotted'));
  const http = await startHttp(fixture.ctx);
  port = http.port;
  close = http.close;
});

afterAll(async () => {
  await close?.();
  fixture?.cleanup();
});

describe('GET /boot/<file>', () => {
  it('serves the whole file with its length and Accept-Ranges', async () => {
    const res = await raw('/boot/small.bin');
    expect(res.status).toBe(200);
    expect(res.headers['content-length']).toBe(String(small.length));
    expect(res.headers['accept-ranges']).toBe('bytes');
    expect(res.headers['content-type']).toBe('application/octet-stream');
    expect(res.body.equals(small)).toBe(true);
  });

  it('streams a larger file (through a link that stays inside boot/) intact', async () => {
    const res = await raw('/boot/big.img');
    expect(res.status).toBe(200);
    expect(Number(res.headers['content-length'])).toBe(big.length);
    expect(createHash('sha256').update(res.body).digest('hex')).toBe(createHash('sha256').update(big).digest('hex'));
  });

  it.each([
    ['bytes=0-9', 0, 9],
    ['bytes=10-', 10, small.length - 1],
    ['bytes=-5', small.length - 5, small.length - 1],
    ['bytes=30-1000', 30, small.length - 1],
  ])('answers Range %s with 206 and the exact bytes', async (range, start, end) => {
    const res = await raw('/boot/small.bin', { Range: range });
    expect(res.status).toBe(206);
    expect(res.headers['content-range']).toBe(`bytes ${start}-${end}/${small.length}`);
    expect(res.headers['content-length']).toBe(String(end - start + 1));
    expect(res.body.equals(small.subarray(start, end + 1))).toBe(true);
  });

  it('answers a range inside a large file', async () => {
    const start = 5 * 1024 * 1024;
    const res = await raw('/boot/big.img', { Range: `bytes=${start}-${start + 65535}` });
    expect(res.status).toBe(206);
    expect(res.body.equals(big.subarray(start, start + 65536))).toBe(true);
  });

  it('answers a range that crosses the sender\'s chunk boundaries', async () => {
    const start = 1024 * 1024 - 7;
    const end = 3 * 1024 * 1024 + 11;
    const res = await raw('/boot/big.img', { Range: `bytes=${start}-${end}` });
    expect(res.status).toBe(206);
    expect(res.headers['content-range']).toBe(`bytes ${start}-${end}/${big.length}`);
    expect(res.body.equals(big.subarray(start, end + 1))).toBe(true);
  });

  it('answers a conditional request for an unchanged file with 304 and no body', async () => {
    const first = await raw('/boot/big.img', {}, 'HEAD');
    const etag = String(first.headers.etag);
    expect(first.headers['last-modified']).toBeTruthy();
    const byTag = await raw('/boot/big.img', { 'If-None-Match': etag });
    expect(byTag.status).toBe(304);
    expect(byTag.body.length).toBe(0);
    const byDate = await raw('/boot/big.img', { 'If-Modified-Since': String(first.headers['last-modified']) });
    expect(byDate.status).toBe(304);
    expect((await raw('/boot/big.img', { 'If-None-Match': '"other"' })).status).toBe(200);
  });

  it('honours If-Range: the range when the validator matches, the whole file when it does not', async () => {
    const etag = String((await raw('/boot/small.bin', {}, 'HEAD')).headers.etag);
    const matching = await raw('/boot/small.bin', { Range: 'bytes=0-3', 'If-Range': etag });
    expect(matching.status).toBe(206);
    expect(matching.body.toString()).toBe('0123');
    const stale = await raw('/boot/small.bin', { Range: 'bytes=0-3', 'If-Range': '"stale"' });
    expect(stale.status).toBe(200);
    expect(stale.body.equals(small)).toBe(true);
  });

  it('keeps serving after a client hangs up in the middle of a large file', async () => {
    await new Promise<void>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: '/boot/big.img' }, (res) => {
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
      req.on('error', (error) => ((error as NodeJS.ErrnoException).code === 'ECONNRESET' ? undefined : reject(error)));
      req.end();
    });
    const res = await raw('/boot/big.img');
    expect(res.status).toBe(200);
    expect(res.body.equals(big)).toBe(true);
  });

  it('answers from memory after the first read, and from disk for a file too large to keep', async () => {
    const cache = fixture.ctx.services.bootFileCache;
    const before = { hits: cache.hits, misses: cache.misses };
    await raw('/boot/small.bin');
    await raw('/boot/small.bin');
    expect(cache.hits).toBeGreaterThan(before.hits);
    expect(cache.size.files).toBeGreaterThan(0);
    expect(cache.size.bytes).toBeLessThan(big.length);
  });

  it('answers an unsatisfiable range with 416 and the size', async () => {
    const res = await raw('/boot/small.bin', { Range: `bytes=${small.length + 10}-` });
    expect(res.status).toBe(416);
    expect(res.headers['content-range']).toBe(`bytes */${small.length}`);
  });

  it('answers several ranges with the whole file', async () => {
    const res = await raw('/boot/small.bin', { Range: 'bytes=0-1,4-5' });
    expect([200, 206]).toContain(res.status);
    if (res.status === 200) expect(res.body.equals(small)).toBe(true);
  });

  it('answers HEAD with the length and no body', async () => {
    const res = await raw('/boot/big.img', {}, 'HEAD');
    expect(res.status).toBe(200);
    expect(Number(res.headers['content-length'])).toBe(big.length);
    expect(res.body.length).toBe(0);
  });

  it('serves dot files of install trees (.treeinfo)', async () => {
    const res = await raw('/boot/rocky-9/tree/.treeinfo');
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe('[general]\n');
  });

  it('answers a missing file or a directory with 404', async () => {
    expect((await raw('/boot/nothing-here.efi')).status).toBe(404);
    expect((await raw('/boot/rocky-9')).status).toBe(404);
    expect((await raw('/boot/rocky-9/')).status).toBe(404);
  });

  it.skipIf(!existsSync('/usr/lib/ipxe/undionly.kpxe'))('serves a link into a Debian package directory the setup links from', async () => {
    const res = await raw('/boot/undionly.kpxe');
    expect(res.status).toBe(200);
    expect(res.body.equals(readFileSync('/usr/lib/ipxe/undionly.kpxe'))).toBe(true);
  });

  it.each(['/boot/passwd', '/boot/secret.txt', '/boot/dotted'])('answers %s, a link that leaves boot/ for anywhere else, with 404', async (path) => {
    const res = await raw(path);
    expect(res.status).toBe(404);
    expect(res.body.toString()).not.toContain('root:');
    expect(res.body.toString()).not.toContain('outside boot/');
  });

  it.each([
    '/boot/../secret.txt',
    '/boot/%2e%2e/secret.txt',
    '/boot/rocky-9/..%2f..%2fsecret.txt',
    '/boot/rocky-9/%2e%2e/%2e%2e/secret.txt',
    '/boot/..%5csecret.txt',
    '/boot/.%2e/.%2e/etc/passwd',
    '/boot//etc/passwd',
    '/boot/%00',
  ])('refuses %s', async (path) => {
    const res = await raw(path);
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.body.toString()).not.toContain('outside boot/');
    expect(res.body.toString()).not.toContain('root:');
  });
});
