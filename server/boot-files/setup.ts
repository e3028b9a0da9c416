// The boot dir `racklift setup` (and so `npm start`, and the e2e harness) makes: a link per catalog entry to
// its Debian package's file. A regular file an operator put there under a loader's name is kept.
import { existsSync, lstatSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { BOOT_FILES, type BootFileSource } from './catalog.ts';

export interface LinkReport {
  linked: BootFileSource[];
  /** The package's file is not there: install the package. */
  missing: BootFileSource[];
  /** A regular file of the operator's own is in the way: left alone. */
  kept: BootFileSource[];
}

function lstatOrNull(path: string) {
  try {
    return lstatSync(path);
  } catch {
    return null;
  }
}

export function linkBootFiles(bootDir: string): LinkReport {
  mkdirSync(bootDir, { recursive: true });
  const report: LinkReport = { linked: [], missing: [], kept: [] };
  for (const entry of BOOT_FILES) {
    const target = join(bootDir, entry.file);
    if (!existsSync(entry.source)) {
      report.missing.push(entry);
      continue;
    }
    const present = lstatOrNull(target);
    if (present && !present.isSymbolicLink()) {
      report.kept.push(entry);
      continue;
    }
    if (present) rmSync(target, { force: true });
    mkdirSync(join(target, '..'), { recursive: true });
    symlinkSync(entry.source, target);
    report.linked.push(entry);
  }
  return report;
}
