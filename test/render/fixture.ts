// A private appliance context for renderer and boot-route tests: in-memory store, temporary data and boot
// directories with stand-in kernels and initrds, a fixed appliance SSH key, and a sample node per profile.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type Config } from '../../server/config.ts';
import type { AppContext } from '../../server/context.ts';
import { createLogger } from '../../server/log.ts';
import { createServices } from '../../server/services/index.ts';
import { openStore } from '../../server/store/index.ts';
import type { StoredNode } from '../../server/store/nodes.ts';

export const SAMPLE_PUBLIC_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGFtcGxlLXJhY2tsaWZ0LWtleS1mb3ItdGVzdHMtb25seQ racklift';
export const SAMPLE_HOST_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHNhbXBsZS1ub2RlLWhvc3Qta2V5LWZvci10ZXN0cw root@node1';

export interface Fixture {
  ctx: AppContext;
  dir: string;
  cleanup(): void;
}

/** Files `racklift os import` would place, as small stand-ins (the bytes do not matter to the renderer). */
export function placeBootFiles(bootDir: string): void {
  const files: Record<string, string> = {
    'debian-12/linux': 'kernel', 'debian-12/initrd.gz': 'initrd',
    'ubuntu-24.04/vmlinuz': 'kernel', 'ubuntu-24.04/initrd': 'initrd', 'ubuntu-24.04/install.iso': 'iso',
    'rocky-9/vmlinuz': 'kernel', 'rocky-9/initrd.img': 'initrd',
    'alma-9/vmlinuz': 'kernel', 'alma-9/initrd.img': 'initrd',
    'centos-7/vmlinuz': 'kernel', 'centos-7/initrd.img': 'initrd',
    'ubuntu-14.04/linux': 'kernel', 'ubuntu-14.04/initrd.gz': 'initrd',
  };
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(bootDir, path, '..'), { recursive: true });
    writeFileSync(join(bootDir, path), content);
  }
}

export function makeFixture(overrides: Record<string, unknown> = {}, options: { bootFiles?: boolean } = {}): Fixture {
  const dir = mkdtempSync(join(tmpdir(), 'rl-render-'));
  const bootDir = join(dir, 'boot');
  mkdirSync(bootDir);
  if (options.bootFiles !== false) placeBootFiles(bootDir);
  mkdirSync(join(dir, 'data', 'ssh'), { recursive: true });
  writeFileSync(join(dir, 'data', 'ssh', 'id_ed25519'), 'not a real key\n', { mode: 0o600 });
  writeFileSync(join(dir, 'data', 'ssh', 'id_ed25519.pub'), `${SAMPLE_PUBLIC_KEY}\n`);
  const config: Config = loadConfig({
    env: {},
    cwd: dir,
    overrides: {
      dataDir: join(dir, 'data'),
      bootDir,
      'log.level': 'silent',
      'http.host': '127.0.0.1',
      'http.port': 0,
      'http.publicUrl': 'http://10.231.4.1:8080',
      // Boot routes are the subject here; HTTPS has its own tests (test/security/tls.test.ts).
      'http.tls.enabled': false,
      'provisioning.address': '10.231.4.1',
      'provisioning.subnet': '10.231.4.0/24',
      'provisioning.gateway': '10.231.4.254',
      'provisioning.dns': ['10.231.4.53'],
      'provisioning.ntp': ['10.231.4.1'],
      'provisioning.domain': 'rack.example',
      'provisioning.pool': { start: '10.231.4.100', end: '10.231.4.199' },
      'dhcp.enabled': false,
      'tftp.enabled': false,
      'orchestrator.enabled': false,
      ...overrides,
    },
  });
  const store = openStore(':memory:');
  // A fixed root password, so golden renderings are stable.
  store.db.prepare("INSERT INTO appliance_secrets (name, value, created_at) VALUES ('root-password', 'golden-root-password', '2026-01-01')").run();
  store.db.prepare("INSERT INTO appliance_secrets (name, value, created_at) VALUES ('install-token-key', 'golden-install-token-key', '2026-01-01')").run();
  const ctx: AppContext = { config, store, services: createServices(config, store), log: createLogger('silent') };
  return {
    ctx,
    dir,
    cleanup: () => {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

let macCounter = 0x10;

/** Adds and assigns a node with the given profile; static address from the reservation unless told otherwise. */
export function assignedNode(ctx: AppContext, profile: string, extra: { hostname?: string; address?: string | null; mac?: string; disks?: string[] } = {}): StoredNode {
  const mac = extra.mac ?? `52:54:00:04:00:${(macCounter++).toString(16).padStart(2, '0')}`;
  return ctx.services.nodes.add(
    mac,
    {
      hostname: extra.hostname ?? `node-${profile.replace(/\./g, '-')}`,
      profile,
      roles: ['compute'],
      managementAddress: extra.address === null ? undefined : (extra.address ?? `10.231.4.${10 + (macCounter % 80)}`),
      disks: extra.disks ?? [],
    },
    'test',
  );
}
