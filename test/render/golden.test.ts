// Golden renderings: for each shipped profile, what a sample node gets (iPXE script, pxelinux config and every
// installer file), compared byte for byte with test/render/golden/<profile>/, and each checked by the linters.
// Regenerate after an intended template change with RACKLIFT_UPDATE_GOLDEN=1 and review the diff.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { INSTALL_FILE_KINDS, renderBootScript, renderInstallFile } from '../../server/render/index.ts';
import { lintRendered, type LintKind } from '../../server/render/lint.ts';
import { toolAvailable } from '../../server/render/lint-shell.ts';
import { renderPxelinuxConfig } from '../../server/render/pxelinux.ts';
import { makeFixture } from './fixture.ts';

const GOLDEN = join(dirname(fileURLToPath(import.meta.url)), 'golden');
const UPDATE = process.env.RACKLIFT_UPDATE_GOLDEN === '1';
const PROFILES = ['debian-12', 'ubuntu-24.04', 'rocky-9', 'alma-9', 'centos-7', 'ubuntu-14.04'] as const;
const missingTools = (['shellcheck', 'debconf-set-selections'] as const).filter((tool) => !toolAvailable(tool));
if (missingTools.length > 0) console.warn(`golden: linters missing (${missingTools.join(', ')}): their checks are reported as skipped and this test fails on them`);

const fixture = makeFixture();
afterAll(() => fixture.cleanup());

// Created in a fixed order so ids, tokens and addresses are stable; the Debian node has a data disk and the
// Ubuntu 24.04 node gets its address by DHCP, so both branches of the shared snippets are pinned.
const nodes = PROFILES.map((profile, i) =>
  fixture.ctx.services.nodes.add(
    `52:54:00:04:10:${(0x20 + i).toString(16)}`,
    {
      hostname: `${profile.replace(/\./g, '-')}-node1`,
      profile,
      roles: ['compute'],
      managementAddress: profile === 'ubuntu-24.04' ? undefined : `10.231.4.${20 + i}`,
      disks: profile === 'debian-12' || profile === 'rocky-9' ? ['sdb', 'disk/by-id/wwn-0x5000c500a1b2c3d4'] : [],
    },
    'golden',
  ),
);

function compare(profile: string, kind: string, body: string): void {
  const file = join(GOLDEN, profile, kind.replace(/[^a-z0-9.-]/g, '_'));
  if (UPDATE || !existsSync(file)) {
    if (!UPDATE) throw new Error(`no golden file ${file}: run with RACKLIFT_UPDATE_GOLDEN=1 and review it`);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, body);
  }
  expect(body, `${profile}/${kind} differs from its golden file (RACKLIFT_UPDATE_GOLDEN=1 to accept)`).toBe(readFileSync(file, 'utf8'));
}

describe.each(PROFILES.map((profile, i) => [profile, nodes[i]!] as const))('%s', (profile, node) => {
  const installer = fixture.ctx.store.profiles.get(profile)!.installer;
  const files: [string, () => string][] = [
    ['ipxe', () => renderBootScript(fixture.ctx, node.mac)],
    ['pxelinux', () => renderPxelinuxConfig(fixture.ctx, node.mac)],
    ...INSTALL_FILE_KINDS[installer].map((kind): [string, () => string] => [kind, () => renderInstallFile(fixture.ctx, node, kind).body]),
  ];
  it.each(files)('%s matches its golden rendering and passes the linters', (kind, render) => {
    const body = render();
    compare(profile, kind, body);
    expect(body).not.toMatch(/&#x3D;|&amp;|&quot;|&#x27;/);
    const report = lintRendered(kind as LintKind, body);
    expect(report.problems, report.problems.join('\n')).toEqual([]);
    expect(report.skipped.filter((line) => line.includes('is not installed')), 'a linter is missing').toEqual([]);
  });
});

describe('the shared snippets appear where the install really finishes', () => {
  it('Preseed late_command, Kickstart %post and autoinstall late-commands all carry the done callback', () => {
    const byProfile = Object.fromEntries(PROFILES.map((profile, i) => [profile, nodes[i]!]));
    const preseed = renderInstallFile(fixture.ctx, byProfile['debian-12']!, 'preseed').body;
    expect(preseed).toMatch(/d-i preseed\/late_command string \\\n[\s\S]*\/finish\.sh/);
    const finish = renderInstallFile(fixture.ctx, byProfile['debian-12']!, 'finish.sh').body;
    expect(finish).toContain('/done');
    expect(finish).toContain(fixture.ctx.services.sshIdentity().publicKey);
    const kickstart = renderInstallFile(fixture.ctx, byProfile['rocky-9']!, 'kickstart').body;
    expect(kickstart).toMatch(/%post[^\n]*\n[\s\S]*\/done'[\s\S]*%end\n$/);
    expect(kickstart).toContain('ignoredisk --drives=sdb,disk/by-id/wwn-0x5000c500a1b2c3d4');
    const userData = renderInstallFile(fixture.ctx, byProfile['ubuntu-24.04']!, 'user-data').body;
    expect(userData).toMatch(/late-commands:\n\s+- \[curtin, in-target[^\n]*\/done'/);
    expect(userData).toContain('dhcp4: true');
  });

  it('uses the package proxy when one is configured', () => {
    const proxied = makeFixture({ 'http.packageProxy': 'http://10.231.4.1:3142' });
    try {
      const debian = proxied.ctx.services.nodes.add('52:54:00:04:10:40', { hostname: 'proxied-1', profile: 'debian-12' }, 'test');
      expect(renderInstallFile(proxied.ctx, debian, 'preseed').body).toContain('d-i mirror/http/proxy string http://10.231.4.1:3142/');
      // Not on the kernel command line: the installer would fetch its Preseed (and in-target its finish
      // script) through the proxy, and a package cache answers only package requests (403 for the rest).
      expect(renderBootScript(proxied.ctx, debian.mac)).not.toContain('proxy');
      expect(renderInstallFile(proxied.ctx, debian, 'preseed').body).toContain('in-target wget --no-proxy -q -O /root/racklift-finish.sh');
      expect(renderInstallFile(proxied.ctx, debian, 'finish.sh').body).toMatch(/^unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY$/m);
      const rocky = proxied.ctx.services.nodes.add('52:54:00:04:10:41', { hostname: 'proxied-2', profile: 'rocky-9' }, 'test');
      expect(renderInstallFile(proxied.ctx, rocky, 'kickstart').body).toContain('--proxy="http://10.231.4.1:3142/"');
      const ubuntu = proxied.ctx.services.nodes.add('52:54:00:04:10:42', { hostname: 'proxied-3', profile: 'ubuntu-24.04' }, 'test');
      expect(renderInstallFile(proxied.ctx, ubuntu, 'user-data').body).toContain('proxy: "http://10.231.4.1:3142/"');
    } finally {
      proxied.cleanup();
    }
  });
});
