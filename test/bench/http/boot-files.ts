// HTTP boot files: the appliance's /boot/<file> next to nginx (Debian nginx-light) serving the same directory,
// both on loopback, measured in the same run with curl (nginx runs as root: the fixture directory is 0700). Also the rate of /boot.ipxe answers (install script,
// rendered per request) with concurrent clients.
//   npx tsx test/bench/http/boot-files.ts
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHttp } from '../../../server/http/server.ts';
import { importProfile } from '../../../server/render/os-import.ts';
import { assignedNode, makeFixture } from '../../render/fixture.ts';

const RUNS = 5;
const execFileAsync = promisify(execFile);
const freePort = (): Promise<number> =>
  new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

// Asynchronous: the appliance under test answers from this process's event loop.
async function curlSeconds(url: string): Promise<number> {
  const args = ['-s', '-o', '/dev/null', '-w', '%{time_total} %{size_download} %{http_code}', url];
  const { stdout } = await execFileAsync('curl', args, { encoding: 'utf8' });
  const [time, , code] = stdout.split(' ');
  if (!code?.startsWith('2')) throw new Error(`curl ${url}: HTTP ${code}`);
  return Number(time);
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

const fixture = makeFixture({}, { bootFiles: false });
importProfile(fixture.ctx.store.profiles.get('debian-12')!, fixture.ctx.config.bootDir, null);
const node = assignedNode(fixture.ctx, 'debian-12', { hostname: 'bench-1' });
const http = await startHttp(fixture.ctx);
const nginxPort = await freePort();
const nginxDir = mkdtempSync(join(tmpdir(), 'rl-bench-nginx-'));
mkdirSync(join(nginxDir, 'logs'));
writeFileSync(
  join(nginxDir, 'nginx.conf'),
  `daemon off; user root; worker_processes 1; pid ${nginxDir}/nginx.pid; error_log ${nginxDir}/logs/error.log;
events { worker_connections 256; }
http { access_log off; sendfile on; client_body_temp_path ${nginxDir}; proxy_temp_path ${nginxDir}; fastcgi_temp_path ${nginxDir};
  uwsgi_temp_path ${nginxDir}; scgi_temp_path ${nginxDir};
  server { listen 127.0.0.1:${nginxPort}; location /boot/ { alias ${fixture.ctx.config.bootDir}/; } } }
`,
);
const nginx = spawn('nginx', ['-c', join(nginxDir, 'nginx.conf'), '-p', nginxDir], { stdio: 'ignore' });
await new Promise((resolve) => setTimeout(resolve, 500));

const file = 'debian-12/initrd.gz';
const size = statSync(join(fixture.ctx.config.bootDir, file)).size;
const ours = `http://127.0.0.1:${http.port}/boot/${file}`;
const theirs = `http://127.0.0.1:${nginxPort}/boot/${file}`;
await curlSeconds(ours);
await curlSeconds(theirs);
const oursTimes: number[] = [];
const nginxTimes: number[] = [];
for (let i = 0; i < RUNS; i++) {
  oursTimes.push(await curlSeconds(ours));
  nginxTimes.push(await curlSeconds(theirs));
}
const mb = size / 1e6;
console.log(`${file}: ${mb.toFixed(1)} MB, median of ${RUNS} curl downloads over loopback`);
console.log(`  racklift /boot/: ${median(oursTimes).toFixed(3)} s (${(mb / median(oursTimes)).toFixed(0)} MB/s)`);
console.log(`  nginx 1.22:      ${median(nginxTimes).toFixed(3)} s (${(mb / median(nginxTimes)).toFixed(0)} MB/s)`);

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
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
console.log(`/boot.ipxe install script: ${total} requests, 20 concurrent: ${(total / seconds).toFixed(0)} requests/s`);

nginx.kill('SIGTERM');
await http.close();
fixture.cleanup();
rmSync(nginxDir, { recursive: true, force: true });
