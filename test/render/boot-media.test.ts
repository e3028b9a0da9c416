// Boot media: the start-up warning for missing loaders (naming the Debian package), and `racklift os import`
// from a netboot directory, an ISO (built here with xorriso) and a mounted tree, run twice (idempotent).
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { AppContext } from '../../server/context.ts';
import { BOOT_FILES } from '../../server/boot-files/catalog.ts';
import { checkBootFiles, prepareBootFiles } from '../../server/boot-files/check.ts';
import { bootScriptFor, renderInstallFile } from '../../server/render/index.ts';
import { ImportError, importProfile, mediaStatus } from '../../server/render/os-import.ts';
import { assignedNode, makeFixture } from './fixture.ts';

const hasXorriso = existsSync('/usr/bin/xorriso');
if (!hasXorriso) console.warn('boot-media: xorriso is missing (Debian package xorriso): ISO import tests are skipped');

const fixture = makeFixture({}, { bootFiles: false });
afterAll(() => fixture.cleanup());
const profile = (name: string) => fixture.ctx.store.profiles.get(name)!;

function tree(root: string, files: Record<string, string>): string {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  return root;
}

describe('prepareBootFiles', () => {
  it('warns once per missing loader, naming the Debian package, and lists profiles not imported', async () => {
    const warnings: string[] = [];
    const infos: string[] = [];
    const log = { warn: (_o: unknown, message: string) => warnings.push(message), info: (_o: unknown, message: string) => infos.push(message) };
    await prepareBootFiles({ ...fixture.ctx, log } as unknown as AppContext);
    expect(warnings).toHaveLength(BOOT_FILES.length);
    expect(warnings.find((w) => w.includes('undionly.kpxe'))).toMatch(/Debian package ipxe/);
    expect(warnings.find((w) => w.includes('pxelinux.0'))).toMatch(/Debian package pxelinux/);
    expect(warnings.find((w) => w.includes('ldlinux.c32'))).toMatch(/Debian package syslinux-common/);
    expect(infos.join('\n')).toMatch(/debian-12/);
  });

  it('is quiet about loaders that are present', async () => {
    writeFileSync(join(fixture.ctx.config.bootDir, 'undionly.kpxe'), 'x');
    expect((await checkBootFiles(fixture.ctx)).missing.map((entry) => entry.file)).not.toContain('undionly.kpxe');
  });
});

describe('racklift os import', () => {
  const boot = () => fixture.ctx.config.bootDir;

  it('links the Debian 12 kernel and initrd from a netboot directory, twice without trouble', () => {
    const source = tree(join(fixture.dir, 'd-i'), { linux: 'debian kernel', 'initrd.gz': 'debian initrd' });
    for (let i = 0; i < 2; i++) {
      const result = importProfile(profile('debian-12'), boot(), source);
      expect(result.method).toBe('link');
    }
    expect(lstatSync(join(boot(), 'debian-12/linux')).isSymbolicLink()).toBe(true);
    expect(readFileSync(join(boot(), 'debian-12/initrd.gz'), 'utf8')).toBe('debian initrd');
    const node = assignedNode(fixture.ctx, 'debian-12', { hostname: 'imported-1' });
    expect(bootScriptFor(fixture.ctx, node.mac).target).toBe('install');
  });

  it('says what to install when the source is missing', () => {
    expect(() => importProfile(profile('rocky-9'), boot(), null)).toThrow(/--from/);
    expect(() => importProfile(profile('rocky-9'), boot(), join(fixture.dir, 'no-such.iso'))).toThrow(ImportError);
    expect(() => importProfile(profile('rocky-9'), boot(), tree(join(fixture.dir, 'empty'), { README: 'x' }))).toThrow(/images\/pxeboot\/vmlinuz/);
  });

  it('links a mounted RHEL tree and serves it as the install source', () => {
    const source = tree(join(fixture.dir, 'alma-dvd'), {
      'images/pxeboot/vmlinuz': 'alma kernel',
      'images/pxeboot/initrd.img': 'alma initrd',
      'BaseOS/repodata/repomd.xml': '<repomd/>',
      '.treeinfo': '[general]',
    });
    const result = importProfile(profile('alma-9'), boot(), source);
    expect(result.installSource).toBe('tree');
    expect(mediaStatus(profile('alma-9'), boot())).toEqual({ kernel: true, initrd: true, installSource: 'tree' });
    const node = assignedNode(fixture.ctx, 'alma-9', { hostname: 'alma-tree-1' });
    expect(renderInstallFile(fixture.ctx, node, 'kickstart').body).toContain(`url --url="${fixture.ctx.config.publicUrl}/boot/alma-9/tree"`);
    expect(bootScriptFor(fixture.ctx, node.mac).script).toContain(`inst.repo=${fixture.ctx.config.publicUrl}/boot/alma-9/tree`);
  });

  it('refuses a mounted Ubuntu tree: the live installer needs its ISO', () => {
    const source = tree(join(fixture.dir, 'ubuntu-tree'), { 'casper/vmlinuz': 'k', 'casper/initrd': 'i' });
    expect(() => importProfile(profile('ubuntu-24.04'), boot(), source)).toThrow(/ISO/);
  });

  describe.skipIf(!hasXorriso)('from ISO files', () => {
    function makeIso(name: string, files: Record<string, string>): string {
      const source = tree(join(fixture.dir, `${name}-src`), files);
      const iso = join(fixture.dir, `${name}.iso`);
      const result = spawnSync('xorriso', ['-as', 'mkisofs', '-quiet', '-R', '-J', '-o', iso, source], { encoding: 'utf8' });
      expect(result.status, result.stderr).toBe(0);
      return iso;
    }

    it('extracts the Ubuntu kernel and initrd and serves the ISO for url=', () => {
      const iso = makeIso('ubuntu', { 'casper/vmlinuz': 'ubuntu kernel', 'casper/initrd': 'ubuntu initrd', 'casper/filesystem.squashfs': 'fs' });
      for (let i = 0; i < 2; i++) expect(importProfile(profile('ubuntu-24.04'), boot(), iso).installSource).toBe('iso');
      expect(readFileSync(join(boot(), 'ubuntu-24.04/vmlinuz'), 'utf8')).toBe('ubuntu kernel');
      expect(readFileSync(join(boot(), 'ubuntu-24.04/initrd'), 'utf8')).toBe('ubuntu initrd');
      const node = assignedNode(fixture.ctx, 'ubuntu-24.04', { hostname: 'ubuntu-iso-1' });
      const script = bootScriptFor(fixture.ctx, node.mac).script;
      expect(script).toContain(`url=${fixture.ctx.config.publicUrl}/boot/ubuntu-24.04/install.iso`);
      expect(script).toMatch(/ds=nocloud;s=http:\/\/\S+\/install\/[A-Za-z0-9_-]{32}\/ /);
    });

    it('extracts a RHEL DVD tree, and falls back to the mirror for a boot ISO', () => {
      const dvd = makeIso('rocky-dvd', { 'images/pxeboot/vmlinuz': 'k', 'images/pxeboot/initrd.img': 'i', 'BaseOS/repodata/repomd.xml': 'r', '.treeinfo': 't' });
      expect(importProfile(profile('rocky-9'), boot(), dvd).installSource).toBe('tree');
      expect(readFileSync(join(boot(), 'rocky-9/tree/.treeinfo'), 'utf8')).toBe('t');
      const bootIso = makeIso('rocky-boot', { 'images/pxeboot/vmlinuz': 'k2', 'images/pxeboot/initrd.img': 'i2' });
      const result = importProfile(profile('rocky-9'), boot(), bootIso);
      expect(result.installSource).toBe('mirror');
      expect(result.notes.join(' ')).toMatch(/no package repository/);
      expect(existsSync(join(boot(), 'rocky-9/tree'))).toBe(false);
      expect(readFileSync(join(boot(), 'rocky-9/vmlinuz'), 'utf8')).toBe('k2');
    });
  });
});
