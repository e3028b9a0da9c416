// The data directory holds the database (install-token key, root password, service passwords, sealed BMC
// passwords), the key that seals them, the appliance's SSH and TLS private keys: only its owner may enter it
// or read them. Created that way, and checked at every open: anything looser is tightened, and said so.
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const DIR_MODE = 0o700;
export const SECRET_FILE_MODE = 0o600;

/** Files under the data directory that hold secrets (relative paths); directories that hold them. */
const SECRET_FILES = ['racklift.sqlite', 'racklift.sqlite-wal', 'racklift.sqlite-shm', 'racklift.key', 'ssh/id_ed25519', 'tls/key.pem'];
const SECRET_DIRS = ['', 'ssh', 'tls'];

const octal = (mode: number) => `0${(mode & 0o777).toString(8)}`;

/** Creates the data directory 0700 if it is missing. */
export function ensureDataDir(dataDir: string): void {
  mkdirSync(dataDir, { recursive: true, mode: DIR_MODE });
}

/** Creates an empty file with mode 0600 if it does not exist (so nothing ever sees it with a looser mode). */
export function createPrivateFile(path: string): void {
  if (existsSync(path)) return;
  closeSync(openSync(path, 'a', SECRET_FILE_MODE));
}

/**
 * Tightens the data directory (0700) and its secret files (0600) where they are looser; returns one line per
 * change, for the log ("... was 0644, now 0600").
 */
export function secureDataDir(dataDir: string): string[] {
  const fixed: string[] = [];
  const tighten = (path: string, wanted: number) => {
    let mode: number;
    try {
      mode = statSync(path).mode & 0o777;
    } catch {
      return;
    }
    if ((mode & ~wanted & 0o777) === 0) return;
    chmodSync(path, wanted);
    fixed.push(`${path} was ${octal(mode)}, now ${octal(wanted)}`);
  };
  for (const dir of SECRET_DIRS) tighten(join(dataDir, dir), DIR_MODE);
  for (const file of SECRET_FILES) tighten(join(dataDir, file), SECRET_FILE_MODE);
  return fixed;
}
