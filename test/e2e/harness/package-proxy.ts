// The package proxy of the full-install test. The installing VM may only talk to addresses inside the lab
// namespace, so it asks for Debian's packages at 10.231.50.1:3142; a relay process inside the namespace
// (proxy-relay.ts) carries those connections over a Unix socket to this proxy on the host side, which alone
// reaches the mirror: only the mirror hosts it was given, GET and HEAD only, immutable files cached on disk
// so a second run needs no network. Requests the installer sends through the proxy to the appliance itself go
// back into the namespace over the relay's second socket.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { request as httpRequest, createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { REPO_ROOT } from './appliance.ts';
import { onCleanup } from './cleanup.ts';
import type { LabNetwork } from './netns.ts';
import { sleep } from './sh.ts';

export interface PackageProxyOptions {
  network: LabNetwork;
  workDir: string;
  /** Mirror hosts that may be reached, e.g. ['deb.debian.org']. */
  allowedHosts: string[];
  /** The appliance inside the namespace (host:port), reached back through the relay. */
  applianceHostPort: string;
  cacheDir: string;
  port?: number;
}

export interface PackageProxy {
  /** The URL installers are given: inside the namespace. */
  url: string;
  stats: { requests: number; cacheHits: number; upstreamBytes: number; refused: number };
  close(): Promise<void>;
}

// Files under pool/ and by-hash/ never change once published; index files (Release, Packages) do.
const immutable = (path: string) => /\/pool\/|\/by-hash\//.test(path) || /\.u?deb$/.test(path);

export async function startPackageProxy(options: PackageProxyOptions): Promise<PackageProxy> {
  const port = options.port ?? 3142;
  const proxySocket = join(options.workDir, 'package-proxy.sock');
  const applianceSocket = join(options.workDir, 'appliance-relay.sock');
  mkdirSync(options.cacheDir, { recursive: true });
  const stats = { requests: 0, cacheHits: 0, upstreamBytes: 0, refused: 0 };

  const server: Server = createServer((req, res) => {
    stats.requests += 1;
    handle(req, res).catch((error: Error) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`package proxy: ${error.message}\n`);
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let target: URL;
    try {
      target = new URL(req.url ?? '');
    } catch {
      stats.refused += 1;
      res.writeHead(400, { 'content-type': 'text/plain' }).end('package proxy: absolute http:// URLs only\n');
      return;
    }
    if (target.host === options.applianceHostPort) return forward(req, res, target, { socketPath: applianceSocket });
    if (target.protocol !== 'http:' || !options.allowedHosts.includes(target.hostname) || !['GET', 'HEAD'].includes(req.method ?? '')) {
      stats.refused += 1;
      res.writeHead(403, { 'content-type': 'text/plain' }).end(`package proxy: ${req.method} ${target.host} is not a mirror this test may reach\n`);
      return;
    }
    const cached = join(options.cacheDir, createHash('sha256').update(target.href).digest('hex'));
    if (immutable(target.pathname) && existsSync(cached)) {
      stats.cacheHits += 1;
      res.writeHead(200, { 'content-length': statSync(cached).size, 'content-type': 'application/octet-stream' });
      if (req.method === 'HEAD') return void res.end();
      createReadStream(cached).pipe(res);
      return;
    }
    return forward(req, res, target, { cacheTo: immutable(target.pathname) && req.method === 'GET' ? cached : null });
  }

  function forward(req: IncomingMessage, res: ServerResponse, target: URL, how: { socketPath?: string; cacheTo?: string | null }): Promise<void> {
    return new Promise((resolve, reject) => {
      const headers: Record<string, string | string[] | undefined> = { ...req.headers, host: target.host };
      delete headers['proxy-connection'];
      const upstream = httpRequest(
        how.socketPath
          ? { socketPath: how.socketPath, path: `${target.pathname}${target.search}`, method: req.method, headers }
          : { host: target.hostname, port: target.port || 80, path: `${target.pathname}${target.search}`, method: req.method, headers, timeout: 60_000 },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          const partial = how.cacheTo && answer.statusCode === 200 ? `${how.cacheTo}.${process.pid}.part` : null;
          const file = partial ? createWriteStream(partial) : null;
          answer.on('data', (chunk: Buffer) => {
            if (!how.socketPath) stats.upstreamBytes += chunk.length;
            file?.write(chunk);
          });
          answer.pipe(res);
          answer.on('end', () => {
            if (file && partial) file.end(() => renameSync(partial, how.cacheTo!));
            resolve();
          });
          answer.on('error', (error) => {
            file?.destroy();
            if (partial) rmSync(partial, { force: true });
            reject(error);
          });
        },
      );
      upstream.on('timeout', () => upstream.destroy(new Error(`${target.host} timed out`)));
      upstream.on('error', reject);
      req.pipe(upstream);
    });
  }

  rmSync(proxySocket, { force: true });
  await new Promise<void>((resolve) => server.listen(proxySocket, resolve));
  const closeServer = onCleanup('package proxy', () => server.close());

  const relayScript = fileURLToPath(new URL('./proxy-relay.ts', import.meta.url));
  const relay: ChildProcess = spawn(
    'ip',
    ['netns', 'exec', options.network.name, process.execPath, '--import', 'tsx', relayScript, `${options.network.address}:${port}`, proxySocket, applianceSocket, options.applianceHostPort],
    { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const stopRelay = onCleanup('package proxy relay', () => relay.kill('SIGKILL'));
  const deadline = Date.now() + 20_000;
  while (!existsSync(applianceSocket)) {
    if (relay.exitCode !== null || Date.now() > deadline) throw new Error('package proxy relay did not start in the namespace');
    await sleep(100);
  }

  return {
    url: `http://${options.network.address}:${port}`,
    stats,
    async close() {
      stopRelay();
      closeServer();
    },
  };
}
