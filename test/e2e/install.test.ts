// The long, opt-in scenario (npm run test:e2e:install): a BIOS VM with an empty disk installs Debian 12
// from start to end through the appliance, reports done, reboots, is sent to its disk by the boot plan and
// comes up to a login prompt. Its packages come through the harness's package proxy (the VM talks only to
// addresses inside the namespace; the host-side proxy alone reaches the mirror, and caches what it fetched).
// Environment: RACKLIFT_E2E_ACCEL=kvm tries KVM instead of TCG; RACKLIFT_E2E_PACKAGE_CACHE moves the cache.
import { truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatEvents } from './harness/appliance.ts';
import { startLab, type Lab } from './harness/lab.ts';
import { startPackageProxy, type PackageProxy } from './harness/package-proxy.ts';
import { skipReason } from './harness/preflight.ts';
import { seconds } from './harness/scenario.ts';
import { tail, type Vm } from './harness/vm.ts';

const skip = skipReason('e2e full Debian install', { installer: true });
const accel = process.env.RACKLIFT_E2E_ACCEL === 'kvm' ? 'kvm' : 'tcg';
const MINUTE = 60_000;
const INSTALL_LIMIT = 150 * MINUTE;
const MIRROR = 'http://deb.debian.org/debian';

/** Status of one .udeb listed in the mirror's installer index, fetched from the host side (HEAD). */
async function firstInstallerComponentStatus(mirror: string): Promise<{ url: string; status: number }> {
  const index = await fetch(`${mirror}/dists/bookworm/main/debian-installer/binary-amd64/Packages.gz`);
  if (!index.ok) return { url: index.url, status: index.status };
  const text = gunzipSync(Buffer.from(await index.arrayBuffer())).toString('utf8');
  const file = /^Filename: (\S+\.udeb)$/m.exec(text)?.[1];
  if (!file) return { url: index.url, status: 0 };
  const url = `${mirror}/${file}`;
  return { url, status: (await fetch(url, { method: 'HEAD' })).status };
}

describe.skipIf(skip !== null)(`a VM installs Debian 12 through the appliance (${accel})`, () => {
  let lab: Lab;
  let proxy: PackageProxy;
  const timings: string[] = [];
  const note = (what: string, from: number) => {
    timings.push(`${what}: ${seconds(from)} s`);
    process.stdout.write(`[e2e install] ${what}: ${seconds(from)} s\n`);
  };

  beforeAll(async () => {
    lab = await startLab({ vmSlot: false, packageProxy: 'http://10.231.50.1:3142', settings: { 'watchdog.installSeconds': INSTALL_LIMIT / 1000 } });
    proxy = await startPackageProxy({
      network: lab.network,
      workDir: lab.workDir,
      allowedHosts: [new URL(MIRROR).hostname, 'security.debian.org'],
      applianceHostPort: new URL(lab.appliance.baseUrl).host,
      cacheDir: process.env.RACKLIFT_E2E_PACKAGE_CACHE ?? '/var/tmp/racklift-e2e-packages',
    });
  });

  afterAll(async () => {
    const summary = `[e2e install] ${accel} timings:\n  ${timings.join('\n  ')}\n  proxy: ${JSON.stringify(proxy?.stats)}\n`;
    process.stdout.write(summary);
    if (lab) writeFileSync(join(lab.workDir, 'timings.txt'), summary);
    await proxy?.close();
    await lab?.close();
  });

  it(
    'installs, reports done, reboots to its disk and comes up',
    async () => {
      // The netboot installer loads most of its components (.udeb) from the mirror; a mirror that serves only
      // .deb files stops it at "Loading additional components" with a Retry dialog. Say so at once.
      const udeb = await firstInstallerComponentStatus(MIRROR);
      if (udeb.status !== 200) {
        throw new Error(`the mirror ${MIRROR} does not serve the installer's components (${udeb.url} answered ${udeb.status}); the netboot installer cannot get past "Loading additional components" here`);
      }
      const mac = '52:54:00:e2:50:40';
      lab.appliance.cli(['node', 'add', mac, '--hostname', 'e2e-install', '--roles', 'compute', '--profile', 'debian-12', '--address', '10.231.50.40']);
      const disk = join(lab.workDir, 'disk.raw');
      writeFileSync(disk, '');
      truncateSync(disk, 8 * 1024 ** 3);
      const vm: Vm = await lab.boot({ mac, firmware: 'bios', label: 'full-install', memoryMiB: 1024, disk, accel, bootOrder: 'n' });
      const failWith = (error: Error) => {
        throw new Error(`${error.message}\n${tail(vm.console(), 60)}\nproxy: ${JSON.stringify(proxy.stats)}`);
      };

      await lab.appliance.waitForState(mac, 'installing', 15 * MINUTE).catch(failWith);
      note('power-on to Preseed fetched', vm.startedAt);
      const installing = Date.now();
      await lab.appliance.waitForState(mac, 'installed', INSTALL_LIMIT).catch(failWith);
      note('Preseed fetched to done callback', installing);
      note('power-on to done callback', vm.startedAt);
      const done = Date.now();
      const afterDone = lab.appliance.lastEventId();
      await lab.appliance.waitForEvent((e) => e.mac === mac && e.kind === 'boot', 15 * MINUTE, afterDone).catch(failWith);
      note('done callback to the reboot asking for its boot script', done);
      await vm.waitForConsole(/login:/, 20 * MINUTE).catch(failWith);
      note('done callback to login prompt from the installed disk', done);
      note('power-on to login prompt', vm.startedAt);

      const events = lab.appliance.events().filter((e) => e.mac === mac);
      const reboot = lab.appliance.events(afterDone).find((e) => e.mac === mac && e.kind === 'boot');
      expect(reboot?.message, formatEvents(events)).toMatch(/installed|disk/);
      expect(lab.appliance.node(mac)?.state).toBe('installed');
      expect(proxy.stats.requests).toBeGreaterThan(0);
    },
    INSTALL_LIMIT + 40 * MINUTE,
  );
});
