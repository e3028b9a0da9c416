// The boot file cache (TFTP and HTTP): one read for many lookups, a changed file read again, the budget kept,
// large files left on disk with their metadata.
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BootFileCache } from '../../server/services/boot-file-cache.ts';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'rl-boot-cache-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('BootFileCache', () => {
  it('reads a file once for many opens, concurrent ones included', async () => {
    const path = join(dir, 'loader.efi');
    writeFileSync(path, Buffer.alloc(4096, 1));
    const cache = new BootFileCache(1 << 20);
    const [a, b, c] = (await Promise.all([cache.lookup(path), cache.lookup(path), cache.lookup(path)])).map((found) => found.content);
    expect(a!.equals(Buffer.alloc(4096, 1))).toBe(true);
    expect(b).toBe(a);
    expect(c).toBe(a);
    expect(cache.misses).toBe(1);
    expect(cache.hits).toBe(2);
  });

  it('reads a file again when it was rewritten or replaced, and keeps only the new content', async () => {
    const path = join(dir, 'kernel');
    writeFileSync(path, 'first version');
    const cache = new BootFileCache(1 << 20);
    expect((await cache.lookup(path)).content!.toString()).toBe('first version');
    writeFileSync(path, 'second version, longer');
    expect((await cache.lookup(path)).content!.toString()).toBe('second version, longer');
    // Same size, other mtime.
    writeFileSync(path, 'third version, longer!');
    utimesSync(path, new Date(), new Date(Date.now() + 5000));
    expect((await cache.lookup(path)).content!.toString()).toBe('third version, longer!');
    // Replaced by rename (another inode), as package upgrades do.
    await writeFile(join(dir, 'kernel.new'), 'fourth');
    await rename(join(dir, 'kernel.new'), path);
    expect((await cache.lookup(path)).content!.toString()).toBe('fourth');
    expect(cache.size).toEqual({ files: 1, bytes: 6 });
  });

  it('drops the least recently used files to stay within its budget', async () => {
    const cache = new BootFileCache(2500);
    for (const name of ['a', 'b', 'c', 'd', 'e']) writeFileSync(join(dir, name), Buffer.alloc(600, name.charCodeAt(0)));
    await cache.lookup(join(dir, 'a'));
    await cache.lookup(join(dir, 'b'));
    await cache.lookup(join(dir, 'a')); // a is now used more recently than b
    await cache.lookup(join(dir, 'c'));
    await cache.lookup(join(dir, 'd'));
    expect(cache.size).toEqual({ files: 4, bytes: 2400 });
    await cache.lookup(join(dir, 'e'));
    expect(cache.size).toEqual({ files: 4, bytes: 2400 });
    const missesBefore = cache.misses;
    await cache.lookup(join(dir, 'a'));
    expect(cache.misses).toBe(missesBefore); // still held
    await cache.lookup(join(dir, 'b'));
    expect(cache.misses).toBe(missesBefore + 1); // b was the one dropped
  });

  it('leaves files over a quarter of the budget on disk', async () => {
    const path = join(dir, 'big.img');
    writeFileSync(path, Buffer.alloc(2000));
    const cache = new BootFileCache(4000);
    const found = await cache.lookup(path);
    expect(found.content).toBeNull();
    expect(found.info.size).toBe(2000);
    expect(cache.size).toEqual({ files: 0, bytes: 0 });
  });

  it('lets a missing file fail without keeping anything', async () => {
    const cache = new BootFileCache(4000);
    await expect(cache.lookup(join(dir, 'nothing'))).rejects.toThrow();
    expect(cache.size.files).toBe(0);
  });
});
