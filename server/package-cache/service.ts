// The appliance's package cache: Debian's apt-cacher-ng, started and configured by the appliance on the
// provisioning address (packageCache.port, 3142), its cache and logs under the data directory. Installers and
// image builds get it as their proxy (http.packageProxy, unless the operator names another). Every package a
// machine fetches through it is also a contact of that machine (its log is read as it grows), so a silent
// installer is noticed. If an apt-cacher-ng already answers on that address and port (Debian's own service,
// started by the package on a systemd host), the appliance uses it instead of starting a second one.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AppContext, RunningService } from '../context.ts';
import { engineFor } from '../render/engine.ts';
import { LogFollower } from './log-follower.ts';

export interface PackageCacheStatus {
  url: string;
  /** `started`: our own child; `reused`: an apt-cacher-ng that was already listening. */
  mode: 'started' | 'reused';
}

const READY_TIMEOUT_MS = 15_000;

export function packageCacheDirs(dataDir: string) {
  const base = join(dataDir, 'package-cache');
  return { base, cacheDir: join(base, 'cache'), logDir: join(base, 'log'), confDir: join(base, 'conf') };
}

/** What answers on the cache's address: apt-cacher-ng, something else, or nothing. */
export async function probePackageCache(url: string, timeoutMs = 2000): Promise<'apt-cacher-ng' | 'other' | 'none'> {
  try {
    const res = await fetch(`${url}/acng-report.html`, { signal: AbortSignal.timeout(timeoutMs) });
    const text = await res.text();
    return /apt-cacher/i.test(`${res.headers.get('server') ?? ''} ${text}`) ? 'apt-cacher-ng' : 'other';
  } catch {
    return 'none';
  }
}

function mirrorsOf(ctx: AppContext, family: string): string[] {
  const urls = ctx.store.profiles.list().filter((p) => p.family === family).map((p) => p.mirrorUrl.replace(/\/+$/, ''));
  return [...new Set(urls.filter((url) => /^https?:\/\/[A-Za-z0-9.:[\]/_~-]+$/.test(url)))];
}

export function writeCacheConfig(ctx: AppContext): string {
  const { cacheDir, logDir, confDir, base } = packageCacheDirs(ctx.config.dataDir);
  for (const dir of [cacheDir, logDir, confDir]) mkdirSync(dir, { recursive: true });
  const debianMirrors = mirrorsOf(ctx, 'debian');
  const text = engineFor(ctx.config.templatesDir).render('package-cache/acng.conf.hbs', {
    cacheDir,
    logDir,
    address: ctx.config.provisioning.address,
    port: ctx.config.packageCache.port,
    socketPath: join(base, 'acng.socket'),
    pidFile: join(base, 'acng.pid'),
    debianMirrors: debianMirrors.length > 0 ? debianMirrors : ['http://deb.debian.org/debian'],
    debianSecurity: `${new URL(debianMirrors[0] ?? 'http://deb.debian.org/debian').origin}/debian-security`,
    ubuntuMirrors: mirrorsOf(ctx, 'ubuntu'),
  });
  writeFileSync(join(confDir, 'acng.conf'), text);
  return confDir;
}

export async function startPackageCache(ctx: AppContext): Promise<RunningService & { status: PackageCacheStatus }> {
  const log = ctx.log.child({ service: 'package-cache' });
  const { config } = ctx;
  const url = `http://${config.provisioning.address}:${config.packageCache.port}`;
  const found = await probePackageCache(url, 1000);
  if (found === 'other') throw new Error(`package cache: ${url} is taken by something that is not apt-cacher-ng; free port ${config.packageCache.port} or set packageCache.port`);
  let child: ChildProcess | null = null;
  let stopping = false;
  let follower: LogFollower | null = null;
  const followLog = (path: string) => {
    follower = new LogFollower(path, (line) => {
      // time|type|size|client|path: `O` is a file delivered to a client.
      const [, type, , client, path] = line.split('|');
      if (type === 'O' && client) ctx.services.contacts.noteAddress(client, `package cache ${(path ?? '').replace(/^debrep\//, '').slice(0, 90)}`);
    });
    follower.start();
  };
  if (found === 'apt-cacher-ng') {
    log.info({ url }, `package cache: an apt-cacher-ng already answers on ${url}; using it`);
    if (existsSync('/var/log/apt-cacher-ng/apt-cacher.log')) followLog('/var/log/apt-cacher-ng/apt-cacher.log');
  } else {
    if (!existsSync(config.packageCache.binary)) {
      throw new Error(`package cache: ${config.packageCache.binary} is missing (Debian package apt-cacher-ng; scripts/install-deps.sh runtime installs it), or set packageCache.enabled: false and http.packageProxy`);
    }
    const confDir = writeCacheConfig(ctx);
    const { logDir } = packageCacheDirs(config.dataDir);
    child = spawn(config.packageCache.binary, ['-c', confDir], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
    let exited: string | null = null;
    child.on('exit', (code, signal) => {
      exited = `apt-cacher-ng exited (${signal ?? code})${stderr ? `: ${stderr.trim()}` : ''}`;
      if (!stopping) log.error({ url }, `package cache: ${exited}`);
    });
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while ((await probePackageCache(url, 500)) !== 'apt-cacher-ng') {
      if (exited !== null || Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`package cache did not start on ${url}: ${exited ?? 'no answer within 15 s'}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    followLog(join(logDir, 'apt-cacher.log'));
    log.info({ url, pid: child.pid }, `package cache (apt-cacher-ng) on ${url}`);
  }
  return {
    name: 'package-cache',
    address: url,
    status: { url, mode: child ? 'started' : 'reused' },
    close: async () => {
      stopping = true;
      (follower as LogFollower | null)?.stop();
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      const gone = new Promise<void>((resolve) => child!.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child!.kill('SIGKILL'), 5000);
      await gone;
      clearTimeout(timer);
    },
  };
}
