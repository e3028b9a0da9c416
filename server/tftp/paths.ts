// Maps a requested file name to a file inside the TFTP root, or refuses it. Every refusal looks the same to
// the client ("file not found"), so probing reveals nothing about what exists outside the root.
import { realpath, stat } from 'node:fs/promises';
import { join, sep } from 'node:path';

export class PathRefused extends Error {
  constructor(readonly requested: string, readonly reason: string) {
    super(`refused ${JSON.stringify(requested)}: ${reason}`);
  }
}

/** The cleaned relative name (segments joined by '/'), or a PathRefused. Pure: no file system access. */
export function cleanRequestPath(requested: string): string {
  if (requested.length === 0 || requested.length > 1024) throw new PathRefused(requested, 'empty or too long');
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\ufffd]/.test(requested)) throw new PathRefused(requested, 'control character or NUL');
  if (requested.includes('\\')) throw new PathRefused(requested, 'backslash');
  if (requested.startsWith('/')) throw new PathRefused(requested, 'absolute path');
  if (/^[a-zA-Z]:/.test(requested)) throw new PathRefused(requested, 'drive letter');
  const segments = requested.split('/').filter((segment) => segment !== '' && segment !== '.');
  if (segments.some((segment) => segment === '..')) throw new PathRefused(requested, 'parent directory');
  if (segments.length === 0) throw new PathRefused(requested, 'no file name');
  return segments.join('/');
}

export class TftpRoot {
  private realRoot: string | null = null;

  constructor(readonly root: string) {}

  /** Absolute real path of a regular file inside the root; symlinks are followed only while they stay inside. */
  async resolve(requested: string): Promise<string> {
    const relative = cleanRequestPath(requested);
    const root = await this.rootPath();
    let real: string;
    try {
      real = await realpath(join(root, relative));
    } catch {
      throw new PathRefused(requested, 'does not exist');
    }
    if (!real.startsWith(root + sep)) throw new PathRefused(requested, `leaves the TFTP root (${real})`);
    const info = await stat(real).catch(() => null);
    if (!info?.isFile()) throw new PathRefused(requested, 'not a regular file');
    return real;
  }

  private async rootPath(): Promise<string> {
    // Resolved on first use: the setup script may fill boot/ after the service started.
    if (this.realRoot === null) {
      try {
        this.realRoot = await realpath(this.root);
      } catch {
        throw new PathRefused('', `TFTP root ${this.root} does not exist`);
      }
    }
    return this.realRoot;
  }
}
