// HTTP boot files: the appliance's /boot/<file> next to nginx (Debian nginx-light, sendfile on, one worker)
// serving the same directory, both on loopback, measured in the same run with curl, interleaved (ours, nginx,
// ours, ...) so a change in the machine's load hits both alike; our side twice, with the boot file cache (the
// default: a 41 MB initrd is held in memory) and without it (read from disk per request, as an ISO larger than
// a quarter of the cache always is). Then the same with 20 downloads at once, and
// the rate of /boot.ipxe answers (install script rendered per request). Runs as root or not (nginx is told
// `user root` only when it runs as root). Not part of `npm test`.
//   npx tsx test/bench/http/boot-files.ts            (env RUNS=11 CONCURRENT=20)
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHttp } from '../../../server/http/server.ts';
import { importProfile } from '../../../server/render/os-import.ts';
import { assignedNode, makeFixture } from '../../render/fixture.ts';

const RUNS = Number(process.env.RUNS ?? 11);
const CONCURRENT = Number(process.env.CONCURRENT ?? 20);
const execFileAsync = promisify(execFile);
const load = () => readFileSync('/proc/loadavg', 'utf8').split(' ')[0]!;
const freePort = (): Promise<number> =>
  new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

// Asynchronous: the appliance under test answers from this process's event loop.
async function curlSeconds(url: string, expectedBytes: number): Promise<number> {
  const args = ['-s', '-o', '/dev/null', '-w', '%{time_total} %{size_download} %{http_code}', url];
  const { stdout } = await execFileAsync('curl', args, { encoding: 'utf8' });
  const [time, bytes, code] = stdout.split(' ');
  if (!code?.startsWith('2')) throw new Error(`curl ${url}: HTTP ${code}`);
  if (Number(bytes) !== expectedBytes) throw new Error(`curl ${url}: ${bytes} bytes, expected ${expectedBytes}`);
  return Number(time);
}

async function parallelSeconds(url: string, expectedBytes: number, n: number): Promise<number> {
  const started = process.hrtime.bigint();
  await Promise.all(Array.from({ length: n }, () => curlSeconds(url, expectedBytes)));
  return Number(process.hrtime.bigint() - started) / 1e9;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

const fixture = makeFixture({}, { bootFiles: false });
importProfile(fixture.ctx.store.profiles.get('debian-12')!, fixture.ctx.config.bootDir, null);
const node = assignedNode(fixture.ctx, 'debian-12', { hostname: 'bench-1' });
const http = await startHttp(fixture.ctx);
// The same appliance with the boot file cache off: every answer is read from disk (as an ISO larger than a
// quarter of the cache always is).
const uncached = makeFixture({ bootDir: fixture.ctx.config.bootDir, 'boot.fileCacheBytes': 0 }, { bootFiles: false });
const httpFromDisk = await startHttp(uncached.ctx);
const nginxPort = await freePort();
const nginxDir = mkdtempSync(join(tmpdir(), 'rl-bench-nginx-'));
mkdirSync(join(nginxDir, 'logs'));
writeFileSync(
  join(nginxDir, 'nginx.conf'),
  `daemon off; ${process.getuid?.() === 0 ? 'user root;' : ''} worker_processes 1; pid ${nginxDir}/nginx.pid; error_log ${nginxDir}/logs/error.log;
events { worker_connections 256; }
http { access_log off; sendfile on; client_body_temp_path ${nginxDir}; proxy_temp_path ${nginxDir}; fastcgi_temp_path ${nginxDir};
  uwsgi_temp_path ${nginxDir}; scgi_temp_path ${nginxDir};
  server { listen 127.0.0.1:${nginxPort}; location /boot/ { alias ${fixture.ctx.config.bootDir}/; } } }
`,
);
const nginx = spawn('nginx', ['-c', join(nginxDir, 'nginx.conf'), '-p', nginxDir], { stdio: 'ignore' });
await new Promise((resolve) => setTimeout(resolve, 500));

interface Row {
  what: string;
  ours: number;
  nginx: number;
  load: string;
}
const servers = [
  { label: 'from memory (default)', port: () => http.port },
  { label: 'from disk (cache off)', port: () => httpFromDisk.port },
];
const rows: Row[] = [];
console.log(`http bench: curl over loopback, ${RUNS} interleaved runs per line (median); load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);

for (const file of ['debian-12/initrd.gz', 'debian-12/linux']) {
  const size = statSync(join(fixture.ctx.config.bootDir, file)).size;
  for (const server of servers) {
    const ours = `http://127.0.0.1:${server.port()}/boot/${file}`;
    const theirs = `http://127.0.0.1:${nginxPort}/boot/${file}`;
    await curlSeconds(ours, size); // warm-up: page cache, boot file cache, JIT
    await curlSeconds(theirs, size);
    const oursTimes: number[] = [];
    const nginxTimes: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      oursTimes.push(await curlSeconds(ours, size));
      nginxTimes.push(await curlSeconds(theirs, size));
    }
    const what = `${file} ${(size / 1e6).toFixed(1)} MB, ${server.label}`;
    rows.push({ what, ours: median(oursTimes), nginx: median(nginxTimes), load: load() });
    console.log(`  ${what}: racklift ${oursTimes.map((t) => t.toFixed(3)).join(' ')}`);
    console.log(`  ${' '.repeat(what.length)}  nginx    ${nginxTimes.map((t) => t.toFixed(3)).join(' ')}`);
  }
}

{
  const file = 'debian-12/initrd.gz';
  const size = statSync(join(fixture.ctx.config.bootDir, file)).size;
  for (const server of servers) {
    const oursTimes: number[] = [];
    const nginxTimes: number[] = [];
    for (let i = 0; i < 3; i++) {
      oursTimes.push(await parallelSeconds(`http://127.0.0.1:${server.port()}/boot/${file}`, size, CONCURRENT));
      nginxTimes.push(await parallelSeconds(`http://127.0.0.1:${nginxPort}/boot/${file}`, size, CONCURRENT));
    }
    rows.push({ what: `${file}, ${CONCURRENT} clients at once, ${server.label}`, ours: median(oursTimes), nginx: median(nginxTimes), load: load() });
  }
}

// /boot.ipxe: 2,000 requests, 20 at a time.
const scriptUrl = `http://127.0.0.1:${http.port}/boot.ipxe?mac=${node.mac}`;
const total = 2000;
let next = 0;
const started = process.hrtime.bigint();
await Promise.all(
  Array.from({ length: 20 }, async () => {
    while (next++ < total) {
      const response = await fetch(scriptUrl);
      if (!(await response.text()).startsWith('#!ipxe')) throw new Error('bad script');
    }
  }),
);
const scriptRate = total / (Number(process.hrtime.bigint() - started) / 1e9);

console.log('\nsummary (seconds, median; ratio = nginx time / racklift time, 1.00x = as fast as nginx)');
console.log(`${'what'.padEnd(70)} ${'racklift'.padStart(9)} ${'nginx'.padStart(9)} ${'ratio'.padStart(7)}  load`);
for (const row of rows) {
  console.log(`${row.what.padEnd(70)} ${row.ours.toFixed(3).padStart(9)} ${row.nginx.toFixed(3).padStart(9)} ${(row.nginx / row.ours).toFixed(2).padStart(6)}x  ${row.load}`);
}
console.log(`${'/boot.ipxe install script, 20 concurrent (requests/s)'.padEnd(70)} ${scriptRate.toFixed(0).padStart(9)} ${'-'.padStart(9)} ${'-'.padStart(7)}  ${load()}`);

nginx.kill('SIGTERM');
await http.close();
await httpFromDisk.close();
uncached.cleanup();
fixture.cleanup();
rmSync(nginxDir, { recursive: true, force: true });
