// The appliance's package cache for real: apt-cacher-ng started by the appliance's own code on a loopback
// address, a Debian package fetched through it twice (the second time from its cache), and the fetch counted
// as the contact of the node at that address. Also: where the proxy address comes from.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../server/config.ts';
import type { AppContext, RunningService } from '../../server/context.ts';
import { createLogger } from '../../server/log.ts';
import { packageCacheDirs, startPackageCache } from '../../server/package-cache/service.ts';
import { renderInstallFile } from '../../server/render/index.ts';
import { createServices } from '../../server/services/index.ts';
import { openStore } from '../../server/store/index.ts';
import { assignedNode, makeFixture } from '../render/fixture.ts';

const BINARY = '/usr/sbin/apt-cacher-ng';
const PACKAGE = 'http://deb.debian.org/debian/pool/main/h/hello/hello_2.10-3_amd64.deb';
const run = promisify(execFile);
if (!existsSync(BINARY)) console.warn('package-cache: apt-cacher-ng is missing (scripts/install-deps.sh runtime installs it): skipped');

describe('where installers get their proxy', () => {
  const base = { 'provisioning.address': '10.20.0.1', 'provisioning.subnet': '10.20.0.0/24' };
  it('is the appliance cache on the provisioning address by default', () => {
    const config = loadConfig({ env: {}, overrides: base });
    expect(config.packageCacheEnabled).toBe(true);
    expect(config.http.packageProxy).toBe('http://10.20.0.1:3142');
  });
  it('is the operator proxy when one is set, and then the appliance runs no cache', () => {
    const config = loadConfig({ env: {}, overrides: { ...base, 'http.packageProxy': 'http://cache.example:3142' } });
    expect(config.packageCacheEnabled).toBe(false);
    expect(config.http.packageProxy).toBe('http://cache.example:3142');
  });
  it('is nothing on a laptop without a provisioning address', () => {
    const config = loadConfig({ env: {} });
    expect(config.packageCacheEnabled).toBe(false);
    expect(config.http.packageProxy).toBeNull();
  });
  it('is written into the rendered Preseed and Kickstart', () => {
    const fixture = makeFixture();
    try {
      expect(renderInstallFile(fixture.ctx, assignedNode(fixture.ctx, 'debian-12'), 'preseed').body).toContain('d-i mirror/http/proxy string http://10.231.4.1:3142/');
      expect(renderInstallFile(fixture.ctx, assignedNode(fixture.ctx, 'rocky-9'), 'kickstart').body).toContain('--proxy="http://10.231.4.1:3142/"');
    } finally {
      fixture.cleanup();
    }
  });
});

describe.skipIf(!existsSync(BINARY))('apt-cacher-ng started by the appliance', () => {
  let dir: string;
  let ctx: AppContext;
  let cache: RunningService;
  // Below 32768: apt-cacher-ng 3.7 binds nothing above (packageCache.port says so too).
  const port = 20_000 + Math.floor(Math.random() * 10_000);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rl-cache-'));
    const config = loadConfig({
      env: {},
      cwd: dir,
      overrides: { dataDir: join(dir, 'data'), 'provisioning.address': '127.0.0.1', 'provisioning.subnet': '127.0.0.0/24', 'packageCache.port': port },
    });
    const store = openStore(':memory:');
    ctx = { config, store, services: createServices(config, store), log: createLogger('silent') };
    cache = await startPackageCache(ctx);
  }, 30_000);

  afterAll(async () => {
    await cache?.close();
    ctx?.store.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('serves a package through the cache, the second time from it, and counts it as the node\'s contact', async () => {
    const node = ctx.services.nodes.add('52:54:00:15:ca:01', { hostname: 'cached', managementAddress: '127.0.0.2' }, 'test');
    // From 127.0.0.2, the node's address (all of 127/8 is this host's loopback).
    const fetchThrough = () => run('curl', ['-sS', '--fail', '--interface', '127.0.0.2', '-x', `http://127.0.0.1:${port}`, '-o', '/dev/null', '-w', '%{size_download}', PACKAGE]);
    expect(Number((await fetchThrough()).stdout)).toBeGreaterThan(10_000);
    expect(Number((await fetchThrough()).stdout)).toBeGreaterThan(10_000);
    const logPath = join(packageCacheDirs(ctx.config.dataDir).logDir, 'apt-cacher.log');
    const lines = readFileSync(logPath, 'utf8').split('\n').filter((line) => line.includes('hello_2.10-3_amd64.deb'));
    expect(lines.filter((line) => line.split('|')[1] === 'I'), 'fetched from the mirror once').toHaveLength(1);
    expect(lines.filter((line) => line.split('|')[1] === 'O'), 'delivered twice').toHaveLength(2);
    expect(lines.every((line) => line.split('|')[3] === '127.0.0.2')).toBe(true);
    const deadline = Date.now() + 10_000;
    while (!ctx.store.nodes.get(node.id)!.lastContactVia && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      ctx.services.contacts.flush();
    }
    expect(ctx.store.nodes.get(node.id)!.lastContactVia).toBe('package cache pool/main/h/hello/hello_2.10-3_amd64.deb');
  }, 60_000);
});
