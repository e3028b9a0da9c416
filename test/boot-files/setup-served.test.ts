// The boot dir `npm start` makes is the one that boots machines: build it exactly as the setup does
// (`racklift setup`, what scripts/setup.sh runs), start TFTP and HTTP on it, and fetch every file a boot plan
// can name over both, byte for byte against the file its Debian package installed. Before issue 15 every
// TFTP fetch here was "file not found": the setup links into /usr/lib and the TFTP root refused such links.
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOOT_FILES } from '../../server/boot-files/catalog.ts';
import { DEBIAN_12_NETBOOT_DIR } from '../../server/render/os-import.ts';
import { startHttp } from '../../server/http/server.ts';
import { startTftpService, type TftpService } from '../../server/tftp/service.ts';
import { makeContext } from '../tftp/harness.ts';

const REPO = join(import.meta.dirname, '..', '..');
const run = promisify(execFile);
const PROFILE_FILES: [string, string][] = [
  ['debian-12/linux', join(DEBIAN_12_NETBOOT_DIR, 'linux')],
  ['debian-12/initrd.gz', join(DEBIAN_12_NETBOOT_DIR, 'initrd.gz')],
];
const PLAN_FILES: [string, string][] = [...BOOT_FILES.map((entry): [string, string] => [entry.file, entry.source]), ...PROFILE_FILES];
const missingPackages = PLAN_FILES.filter(([, source]) => !existsSync(source)).map(([, source]) => source);
if (missingPackages.length > 0) console.warn(`boot-files: skipped, package files missing (scripts/install-deps.sh installs them): ${missingPackages.join(', ')}`);

let work: string;
let bootDir: string;
let tftp: TftpService;
let http: Awaited<ReturnType<typeof startHttp>>;
let ctx: ReturnType<typeof makeContext>;

async function overTftp(name: string): Promise<Buffer> {
  // Asynchronous: the TFTP service answers from this process's event loop.
  const { stdout } = await run('curl', ['-sS', '--tftp-blksize', '1468', `tftp://127.0.0.1:${tftp.port}/${name}`], { encoding: 'buffer', maxBuffer: 256 * 1024 * 1024 });
  return stdout;
}

async function overHttp(name: string): Promise<{ status: number; body: Buffer }> {
  const res = await fetch(`http://127.0.0.1:${http.port}/boot/${name}`);
  return { status: res.status, body: Buffer.from(await res.arrayBuffer()) };
}

beforeAll(async () => {
  if (missingPackages.length > 0) return;
  work = mkdtempSync(join(tmpdir(), 'rl-setup-'));
  bootDir = join(work, 'boot');
  execFileSync(process.execPath, [join(REPO, 'bin', 'racklift.js'), 'setup', '--quiet'], {
    env: { ...process.env, RACKLIFT_BOOT_DIR: bootDir, RACKLIFT_DATA_DIR: join(work, 'data'), RACKLIFT_CONFIG: '', RACKLIFT_LOG_LEVEL: 'silent' },
    cwd: work,
    stdio: 'pipe',
  });
  // A link planted in the boot dir that leaves it for something no package installed.
  symlinkSync('/etc/passwd', join(bootDir, 'planted'));
  ctx = makeContext(bootDir, { host: '127.0.0.1' });
  ctx.config.http = { ...ctx.config.http, host: '127.0.0.1', port: 0 };
  tftp = await startTftpService(ctx);
  http = await startHttp(ctx);
}, 120_000);

afterAll(async () => {
  await tftp?.close();
  await http?.close();
  ctx?.store.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe.skipIf(missingPackages.length > 0)('the boot dir racklift setup makes', () => {
  it.each(PLAN_FILES)('serves %s over TFTP and HTTP, byte for byte as its package installed it', async (name, source) => {
    const expected = readFileSync(source);
    expect((await overTftp(name)).equals(expected), `TFTP ${name}`).toBe(true);
    const { status, body } = await overHttp(name);
    expect(status).toBe(200);
    expect(body.equals(expected), `HTTP ${name}`).toBe(true);
  });

  it.each(['pxelinux.cfg/default', 'pxelinux.cfg/01-52-54-00-15-00-01', 'grub/grub.cfg', 'grub/grub.cfg-01-52-54-00-15-00-01'])(
    'generates %s alike over TFTP and HTTP',
    async (name) => {
      const viaTftp = await overTftp(name);
      const viaHttp = await overHttp(name);
      expect(viaHttp.status).toBe(200);
      expect(viaTftp.toString()).toBe(viaHttp.body.toString());
      expect(viaTftp.toString()).toMatch(/racklift/);
    },
  );

  it('refuses a planted link to /etc/passwd over both, as if it did not exist', async () => {
    await expect(overTftp('planted')).rejects.toThrow(/not found|TFTP/i);
    const res = await overHttp('planted');
    expect(res.status).toBe(404);
    expect(res.body.toString()).not.toContain('root:');
  });
});
