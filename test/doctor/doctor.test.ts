// `racklift doctor` on a boot dir built by `racklift setup`: boot files and generated configs servable, the
// interface (loopback here) carrying the address, a port taken by a stranger, a profile imported or not, and
// a mirror on loopback that serves only part of main/debian-installer: the doctor must say so, and fail.
import { execFile, execFileSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../server/config.ts';
import type { AppContext } from '../../server/context.ts';
import { formatDoctor, runDoctor, type DoctorLine } from '../../server/doctor/checks.ts';
import { INSTALLER_COMPONENTS, KERNEL_MODULE_COMPONENTS } from '../../server/doctor/mirror.ts';
import { createLogger } from '../../server/log.ts';
import { DEBIAN_12_NETBOOT_DIR } from '../../server/render/os-import.ts';
import { createServices } from '../../server/services/index.ts';
import { databasePath, openStore } from '../../server/store/index.ts';

const REPO = join(import.meta.dirname, '..', '..');
const RACKLIFT = join(REPO, 'bin', 'racklift.js');
const haveInstaller = existsSync(join(DEBIAN_12_NETBOOT_DIR, 'linux'));
if (!haveInstaller) console.warn('doctor: debian-installer-12-netboot-amd64 is missing: skipped');

let dir: string;
let mirror: Server;
let mirrorUrl: string;
const served = new Set<string>();
const taken = createSocket('udp4');
const tftpPort = 20_000 + Math.floor(Math.random() * 10_000);

/** A Debian mirror that lists every component but serves only every other .udeb, as this machine's does. */
function fakeMirror(): Server {
  const names = [...INSTALLER_COMPONENTS, ...KERNEL_MODULE_COMPONENTS.map((name) => `${name}-6.1.0-50-amd64-di`)];
  names.forEach((name, i) => i % 2 === 0 && served.add(`/debian/pool/main/x/${name}/${name}_1_amd64.udeb`));
  const index = gzipSync(names.map((name) => `Package: ${name}\nFilename: pool/main/x/${name}/${name}_1_amd64.udeb\n`).join('\n'));
  return createServer((req, res) => {
    const path = req.url ?? '';
    if (path === '/debian/dists/bookworm/Release' || path === '/debian/dists/bookworm/main/binary-amd64/Packages.xz') return res.end('ok');
    if (path === '/debian/dists/bookworm/main/debian-installer/binary-amd64/Packages.gz') return res.end(index);
    res.statusCode = served.has(path) ? 200 : 404;
    res.end();
  });
}

function contextFor(): AppContext {
  const config = loadConfig({
    env: {},
    cwd: dir,
    overrides: {
      dataDir: join(dir, 'data'),
      bootDir: join(dir, 'boot'),
      'http.port': 0,
      'provisioning.interface': 'lo',
      'provisioning.address': '127.0.0.1',
      'provisioning.subnet': '127.0.0.0/24',
      'provisioning.pool': { start: '127.0.0.100', end: '127.0.0.150' },
      'dhcp.enabled': false,
      'tftp.port': tftpPort,
      'packageCache.enabled': false,
    },
  });
  const store = openStore(databasePath(config.dataDir));
  return { config, store, services: createServices(config, store), log: createLogger('silent') };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rl-doctor-'));
  mirror = fakeMirror();
  await new Promise<void>((resolve) => mirror.listen(0, '127.0.0.1', resolve));
  mirrorUrl = `http://127.0.0.1:${(mirror.address() as AddressInfo).port}/debian`;
  if (haveInstaller) {
    const env = { ...process.env, RACKLIFT_CONFIG: '', RACKLIFT_DATA_DIR: join(dir, 'data'), RACKLIFT_BOOT_DIR: join(dir, 'boot') };
    execFileSync(process.execPath, [RACKLIFT, 'setup', '--quiet'], { env, cwd: dir, stdio: 'pipe' });
  }
  await new Promise<void>((resolve) => taken.bind(tftpPort, '127.0.0.1', resolve));
}, 60_000);

afterAll(async () => {
  taken.close();
  await new Promise<void>((resolve) => mirror?.close(() => resolve()));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const find = (lines: DoctorLine[], subject: string) => lines.find((line) => line.subject === subject);

describe.skipIf(!haveInstaller)('racklift doctor', () => {
  it('says line by line what holds and what does not, and fails on a partial installer mirror', async () => {
    const ctx = contextFor();
    try {
      const profile = ctx.store.profiles.get('debian-12')!;
      ctx.store.profiles.upsert({ ...profile, mirrorUrl });
      const lines = await runDoctor(ctx);
      const text = formatDoctor(lines);
      expect(find(lines, 'boot files')?.verdict, text).toBe('ok');
      expect(find(lines, 'provisioning interface')).toMatchObject({ verdict: 'ok', text: expect.stringMatching(/^lo carries 127\.0\.0\.1/) });
      expect(find(lines, `port ${tftpPort}/udp (TFTP)`)).toMatchObject({ verdict: 'fail', text: expect.stringMatching(new RegExp(`taken by pid ${process.pid} `)) });
      expect(find(lines, 'profile debian-12')?.verdict).toBe('ok');
      expect(find(lines, 'profile rocky-9')).toMatchObject({ verdict: 'note', text: expect.stringMatching(/not imported/) });
      const mirrorLine = find(lines, 'mirror for debian-12')!;
      expect(mirrorLine.verdict).toBe('fail');
      expect(mirrorLine.text).toMatch(/only 8 of 16 installer components \(\.udeb\) answer/);
      expect(mirrorLine.text).toMatch(/base-installer \(404\)/);
      expect(mirrorLine.text).toMatch(/serves main\/debian-installer only in part/);
      expect(find(lines, 'BMCs')).toMatchObject({ verdict: 'note', text: 'none configured' });
      expect(text).toMatch(/^racklift doctor: 2 problems: this appliance cannot boot machines yet$/m);
    } finally {
      ctx.store.close();
    }
  });

  it('passes, and the command exits 0, once the mirror serves every component and the port is free', async () => {
    for (const name of [...INSTALLER_COMPONENTS, ...KERNEL_MODULE_COMPONENTS.map((n) => `${n}-6.1.0-50-amd64-di`)]) served.add(`/debian/pool/main/x/${name}/${name}_1_amd64.udeb`);
    const config = join(dir, 'racklift.yaml');
    writeFileSync(
      config,
      [
        `dataDir: ${join(dir, 'data')}`,
        `bootDir: ${join(dir, 'boot')}`,
        'http: { port: 0 }',
        'provisioning: { interface: lo, address: 127.0.0.1, subnet: 127.0.0.0/24, pool: { start: 127.0.0.100, end: 127.0.0.150 } }',
        'dhcp: { enabled: false }',
        `tftp: { port: ${tftpPort + 1} }`,
        'packageCache: { enabled: false }',
      ].join('\n'),
    );
    const run = promisify(execFile);
    const { stdout } = await run(process.execPath, [RACKLIFT, '--config', config, 'doctor'], { env: { ...process.env, RACKLIFT_CONFIG: '' } });
    expect(stdout).toMatch(/^ok {4}mirror for debian-12: .* 16 of 16 installer components/m);
    expect(stdout).toMatch(/racklift doctor: this appliance can boot machines\n$/);
  });
});
