// `racklift os import`: places a profile's installer kernel and initrd under boot/ (links to a Debian package's
// files or a mounted tree, or files extracted from an ISO with xorriso), and the install source the renderer
// looks for: boot/<profile>/install.iso (Ubuntu live-server, booted with url=) or boot/<profile>/tree (a RHEL
// tree with packages, for inst.repo=). Safe to run again: it replaces what it placed before.
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, realpathSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { OsProfile } from '../domain/types.ts';

export const DEBIAN_12_NETBOOT_DIR = '/usr/lib/debian-installer/images/12/amd64/text/debian-installer/amd64';

export class ImportError extends Error {
  readonly code = 'import_failed';
}

export interface ImportResult {
  profile: string;
  kernel: string;
  initrd: string;
  method: 'link' | 'iso';
  installSource: 'tree' | 'iso' | 'mirror';
  /** The real path imported from (an ISO file or a directory): links under boot/ may resolve into it. */
  source: string;
  notes: string[];
}

/** Where a profile's kernel and initrd are inside an installer source, most specific first. */
export function candidatePaths(profile: OsProfile): [string, string][] {
  if (profile.installer === 'autoinstall') return [['casper/vmlinuz', 'casper/initrd']];
  if (profile.family === 'rhel') return [['images/pxeboot/vmlinuz', 'images/pxeboot/initrd.img']];
  if (profile.family === 'ubuntu') {
    return [
      ['install/netboot/ubuntu-installer/amd64/linux', 'install/netboot/ubuntu-installer/amd64/initrd.gz'],
      ['ubuntu-installer/amd64/linux', 'ubuntu-installer/amd64/initrd.gz'],
      ['linux', 'initrd.gz'],
    ];
  }
  return [
    ['linux', 'initrd.gz'],
    ['debian-installer/amd64/linux', 'debian-installer/amd64/initrd.gz'],
  ];
}

/** The default source of a profile, when it has one on this machine (Debian 12 from its netboot package). */
export function defaultSource(profile: OsProfile): string | null {
  return profile.family === 'debian' && profile.release === '12' ? DEBIAN_12_NETBOOT_DIR : null;
}

function replaceWithLink(target: string, link: string): void {
  mkdirSync(dirname(link), { recursive: true });
  if (existsSync(link) || isSymlink(link)) rmSync(link, { recursive: true, force: true });
  symlinkSync(target, link);
}

function isSymlink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

function xorriso(args: string[]): { ok: boolean; output: string } {
  const result = spawnSync('xorriso', ['-osirrox', 'on', ...args], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
  if (result.error) throw new ImportError(`xorriso could not run (Debian package xorriso): ${result.error.message}`);
  return { ok: result.status === 0, output: `${result.stdout}${result.stderr}` };
}

function isoHas(iso: string, path: string): boolean {
  const result = xorriso(['-indev', iso, '-find', `/${path}`, '-type', 'f']);
  return result.ok && result.output.includes(`/${path}'`);
}

function extract(iso: string, path: string, dest: string): void {
  mkdirSync(dirname(dest), { recursive: true });
  rmSync(dest, { recursive: true, force: true });
  const result = xorriso(['-indev', iso, '-extract', `/${path}`, dest]);
  if (!result.ok || !existsSync(dest)) throw new ImportError(`could not extract /${path} from ${iso}: ${result.output.trim().split('\n').slice(-3).join(' / ')}`);
}

/** RHEL trees carry their packages in BaseOS/ (8, 9) or at the top (7); boot ISOs carry none. */
function rhelRepoPaths(): string[] {
  return ['BaseOS/repodata/repomd.xml', 'repodata/repomd.xml'];
}

export function importProfile(profile: OsProfile, bootDir: string, fromPath: string | null): ImportResult {
  const source = fromPath ? resolve(fromPath) : defaultSource(profile);
  if (!source) throw new ImportError(`profile ${profile.name} has no default source on this machine: give --from <iso or directory>`);
  if (!existsSync(source)) {
    const hint = source === DEBIAN_12_NETBOOT_DIR ? ' (install the Debian package debian-installer-12-netboot-amd64)' : '';
    throw new ImportError(`${source} does not exist${hint}`);
  }
  if (/^https?:\/\//.test(profile.kernel) || /^https?:\/\//.test(profile.initrd)) {
    throw new ImportError(`profile ${profile.name} loads its kernel from a URL; there is nothing to import`);
  }
  const kernelDest = join(bootDir, profile.kernel);
  const initrdDest = join(bootDir, profile.initrd);
  const profileDir = join(bootDir, profile.name);
  const notes: string[] = [];
  const isIso = statSync(source).isFile();

  if (!isIso) {
    const found = candidatePaths(profile).find(([kernel, initrd]) => existsSync(join(source, kernel)) && existsSync(join(source, initrd)));
    if (!found) throw new ImportError(`${source} has no installer kernel and initrd (looked for ${candidatePaths(profile).map((pair) => pair.join(' + ')).join('; ')})`);
    replaceWithLink(join(source, found[0]), kernelDest);
    replaceWithLink(join(source, found[1]), initrdDest);
    let installSource: ImportResult['installSource'] = 'mirror';
    if (profile.installer === 'autoinstall') {
      throw new ImportError('the Ubuntu live-server installer boots from its ISO over HTTP (url=): give the ISO file with --from, not a mounted tree');
    }
    if (profile.family === 'rhel') {
      if (rhelRepoPaths().some((path) => existsSync(join(source, path)))) {
        replaceWithLink(source, join(profileDir, 'tree'));
        installSource = 'tree';
      } else {
        rmSync(join(profileDir, 'tree'), { recursive: true, force: true });
        notes.push(`${source} has no package repository: installs use the mirror ${profile.mirrorUrl}`);
      }
    }
    return { profile: profile.name, kernel: profile.kernel, initrd: profile.initrd, method: 'link', installSource, source: realpathSync(source), notes };
  }

  const found = candidatePaths(profile).find(([kernel, initrd]) => isoHas(source, kernel) && isoHas(source, initrd));
  if (!found) throw new ImportError(`${source} has no installer kernel and initrd (looked for ${candidatePaths(profile).map((pair) => pair.join(' + ')).join('; ')})`);
  extract(source, found[0], kernelDest);
  extract(source, found[1], initrdDest);
  let installSource: ImportResult['installSource'] = 'mirror';
  if (profile.installer === 'autoinstall') {
    replaceWithLink(source, join(profileDir, 'install.iso'));
    installSource = 'iso';
  } else if (profile.family === 'rhel') {
    const repo = rhelRepoPaths().find((path) => isoHas(source, path));
    if (repo) {
      notes.push(`extracting the install tree of ${source} to ${join(profileDir, 'tree')} (the whole ISO)`);
      extract(source, '', join(profileDir, 'tree'));
      installSource = 'tree';
    } else {
      rmSync(join(profileDir, 'tree'), { recursive: true, force: true });
      notes.push(`${source} has no package repository (a boot ISO): installs use the mirror ${profile.mirrorUrl}`);
    }
  }
  return { profile: profile.name, kernel: profile.kernel, initrd: profile.initrd, method: 'iso', installSource, source: realpathSync(source), notes };
}

export interface ProfileMediaStatus {
  kernel: boolean;
  initrd: boolean;
  installSource: 'tree' | 'iso' | 'mirror';
}

export function mediaStatus(profile: OsProfile, bootDir: string): ProfileMediaStatus {
  const present = (path: string) => /^https?:\/\//.test(path) || existsSync(join(bootDir, path));
  const installSource = existsSync(join(bootDir, profile.name, 'install.iso')) ? 'iso' : existsSync(join(bootDir, profile.name, 'tree')) ? 'tree' : 'mirror';
  return { kernel: present(profile.kernel), initrd: present(profile.initrd), installSource };
}
