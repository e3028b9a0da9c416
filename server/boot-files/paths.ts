// The one rule for what the boot-files root serves, over TFTP and HTTP alike: a regular file under boot/, or
// a link in boot/ that resolves into one of the Debian package directories the setup links from (or into the
// source an OS profile was imported from). Nothing else: a link to /etc/passwd is refused like a missing
// file. Every refusal looks the same to the client ("not found"), so probing reveals nothing outside.
import { realpath, stat } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { BOOT_FILES, PACKAGE_LINK_DIRS } from './catalog.ts';

export class PathRefused extends Error {
  constructor(readonly requested: string, readonly reason: string) {
    super(`refused ${JSON.stringify(requested)}: ${reason}`);
  }
}

/**
 * The cleaned name relative to the boot-files root (segments joined by '/'), or a PathRefused. A leading `/`
 * names the root itself (GRUB asks for `/grub/grub.cfg`), as tftpd-hpa's --secure does. Pure: no file system access.
 */
export function cleanRequestPath(requested: string): string {
  if (requested.length === 0 || requested.length > 1024) throw new PathRefused(requested, 'empty or too long');
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\ufffd]/.test(requested)) throw new PathRefused(requested, 'control character or NUL');
  if (requested.includes('\\')) throw new PathRefused(requested, 'backslash');
  if (/^[a-zA-Z]:/.test(requested)) throw new PathRefused(requested, 'drive letter');
  const segments = requested.split('/').filter((segment) => segment !== '' && segment !== '.');
  if (segments.some((segment) => segment === '..')) throw new PathRefused(requested, 'parent directory');
  if (segments.length === 0) throw new PathRefused(requested, 'no file name');
  return segments.join('/');
}

/** Where links may lead, as real paths: package directories, the exact package files of the catalog, imports. */
export interface LinkTargets {
  /** Directories (or single files) a resolved path may be inside of, or equal to. */
  allowed: string[];
}

const isInside = (path: string, entry: string) => path === entry || path.startsWith(entry.endsWith(sep) ? entry : entry + sep);

async function realOrNull(path: string): Promise<string | null> {
  try {
    return await realpath(path);
  } catch {
    return null;
  }
}

/** The real paths links may resolve into: PACKAGE_LINK_DIRS, each catalog source's real file, and `extra`. */
export async function linkTargets(extra: readonly string[] = []): Promise<LinkTargets> {
  // Debian's /usr/lib/ipxe/ipxe.efi is itself a link to /boot/ipxe.efi: that one file is allowed, not /boot.
  const candidates = [...PACKAGE_LINK_DIRS, ...BOOT_FILES.map((entry) => entry.source), ...extra];
  const allowed = (await Promise.all(candidates.map(realOrNull))).filter((path): path is string => path !== null);
  return { allowed: [...new Set(allowed)] };
}

const TARGETS_TTL_MS = 10_000;

export class BootFileRoot {
  private realRoot: string | null = null;
  private targets: { value: LinkTargets; at: number } | null = null;

  /** `extraTargets`: further sources links may point into (imported profiles' media), read every few seconds. */
  constructor(
    readonly root: string,
    private readonly extraTargets: () => readonly string[] = () => [],
  ) {}

  /** Absolute real path of a regular file this root serves under `requested`, or a PathRefused saying why not. */
  async resolve(requested: string): Promise<string> {
    const relative = cleanRequestPath(requested);
    const root = await this.rootPath();
    let real: string;
    try {
      real = await realpath(join(root, relative));
    } catch {
      throw new PathRefused(requested, 'does not exist');
    }
    if (!isInside(real, root + sep)) {
      const { allowed } = await this.linkTargets();
      if (!allowed.some((entry) => isInside(real, entry))) {
        throw new PathRefused(requested, `a link that leaves the boot dir for ${real}, which is not in a Debian package directory the setup links from`);
      }
    }
    const info = await stat(real).catch(() => null);
    if (!info?.isFile()) throw new PathRefused(requested, 'not a regular file');
    return real;
  }

  private async linkTargets(): Promise<LinkTargets> {
    if (this.targets === null || Date.now() - this.targets.at > TARGETS_TTL_MS) {
      this.targets = { value: await linkTargets(this.extraTargets()), at: Date.now() };
    }
    return this.targets.value;
  }

  private async rootPath(): Promise<string> {
    // Resolved on first use: the setup may fill boot/ after the service started.
    if (this.realRoot === null) {
      try {
        this.realRoot = await realpath(this.root);
      } catch {
        throw new PathRefused('', `boot dir ${this.root} does not exist`);
      }
    }
    return this.realRoot;
  }
}
