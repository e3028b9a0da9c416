// Debian's own iPXE (the ipxe-qemu ROM) runs our scripts: a qemu guest with user-mode networking (no root; the
// guest reaches the appliance on 127.0.0.1 as 10.0.2.2) is held in the discovery loop (sleep, chain --replace),
// picks up the installer once assigned, and loads the installer kernel and initrd from /boot/.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHttp } from '../../server/http/server.ts';
import { DISCOVER_RETRY_SECONDS } from '../../server/render/boot-script.ts';
import { importProfile } from '../../server/render/os-import.ts';
import { makeFixture, type Fixture } from '../render/fixture.ts';
import { DEBIAN_12_NETBOOT_DIR } from '../../server/render/os-import.ts';

const QEMU = '/usr/bin/qemu-system-x86_64';
// qemu's default ROM for virtio-net-pci is Debian's iPXE from ipxe-qemu.
const ROM = '/usr/lib/ipxe/qemu/efi-virtio.rom';
const missing = [QEMU, ROM, DEBIAN_12_NETBOOT_DIR].filter((path) => !existsSync(path));
if (missing.length > 0) console.warn(`ipxe-qemu: skipped, missing ${missing.join(', ')} (Debian packages qemu-system-x86, ipxe-qemu, debian-installer-12-netboot-amd64)`);

const MAC = '52:54:00:04:50:01';
let fixture: Fixture;
let close: () => Promise<void>;
let qemu: ChildProcess | null = null;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function until<T>(what: string, timeoutMs: number, probe: () => T | null | undefined | false): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

describe.skipIf(missing.length > 0)('Debian iPXE runs the boot scripts', () => {
  beforeAll(async () => {
    const port = await freePort();
    fixture = makeFixture({ 'boot.autoEnrol': true, 'http.port': port, 'http.publicUrl': `http://10.0.2.2:${port}` }, { bootFiles: false });
    importProfile(fixture.ctx.store.profiles.get('debian-12')!, fixture.ctx.config.bootDir, null);
    const http = await startHttp(fixture.ctx);
    close = http.close;
    qemu = spawn(QEMU, [
      '-accel', 'tcg', '-m', '512', '-display', 'none', '-serial', 'null', '-monitor', 'none', '-boot', 'order=n', '-no-reboot',
      '-netdev', `user,id=n0,bootfile=http://10.0.2.2:${port}/boot.ipxe?mac=${MAC}`,
      '-device', `virtio-net-pci,netdev=n0,mac=${MAC}`,
    ], { stdio: 'ignore' });
  });

  afterAll(async () => {
    if (qemu && qemu.exitCode === null) qemu.kill('SIGKILL');
    await close?.();
    fixture?.cleanup();
  });

  const bootEvents = () => {
    const node = fixture.ctx.services.nodes.findByMac(MAC);
    return node ? fixture.ctx.store.events.listForNode(node.id).filter((event) => event.kind === 'boot') : [];
  };

  it('enrols the machine and re-asks after the discovery sleep (chain --replace works)', async () => {
    await until('the first boot script fetch', 120_000, () => bootEvents().length >= 1);
    const node = fixture.ctx.services.nodes.findByMac(MAC)!;
    expect(node.state).toBe('discovered');
    // Repeated identical answers are one event; the node's last-boot time shows each request.
    const firstAt = node.facts.lastBootAt;
    await until('the discovery loop to ask again', (DISCOVER_RETRY_SECONDS + 90) * 1000, () => fixture.ctx.services.nodes.findByMac(MAC)!.facts.lastBootAt !== firstAt);
    expect(bootEvents()).toHaveLength(1);
  }, 300_000);

  it('loads the installer once assigned', async () => {
    fixture.ctx.services.nodes.assign(MAC, { hostname: 'ipxe-qemu-1', profile: 'debian-12' }, 'test');
    const seen = bootEvents().length;
    await until('the install script', (DISCOVER_RETRY_SECONDS + 90) * 1000, () => bootEvents().length > seen && bootEvents()[0]!.message.includes('install debian-12'));
    // The kernel and initrd were served: the installer kernel is running (it would fetch its Preseed ~2 min later).
    expect(qemu?.exitCode).toBeNull();
  }, 300_000);
});
