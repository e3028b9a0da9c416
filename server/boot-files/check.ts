// Start-up check of boot/: every boot file of the catalog, by the rule TFTP and HTTP serve with, and which OS
// profiles still need `racklift os import`. A missing file is a clear warning (the appliance still starts: a
// site may use only some loaders); `racklift doctor` says the same and more.
import type { AppContext } from '../context.ts';
import { BOOT_FILES, type BootFileSource } from './catalog.ts';
import { BootFileRoot, PathRefused } from './paths.ts';

export interface BootFileCheck {
  missing: (BootFileSource & { reason: string })[];
  /** Profiles whose kernel or initrd is not servable from boot/ yet. */
  notImported: string[];
}

export function bootFileRoot(ctx: AppContext): BootFileRoot {
  return new BootFileRoot(ctx.config.bootDir, () => ctx.store.profiles.mediaSources());
}

/** Why `path` under boot/ cannot be served, or null when it can. */
export async function unservable(root: BootFileRoot, path: string): Promise<string | null> {
  try {
    await root.resolve(path);
    return null;
  } catch (error) {
    if (error instanceof PathRefused) return error.reason;
    throw error;
  }
}

export async function checkBootFiles(ctx: AppContext): Promise<BootFileCheck> {
  const root = bootFileRoot(ctx);
  const missing: BootFileCheck['missing'] = [];
  for (const entry of BOOT_FILES) {
    const reason = await unservable(root, entry.file);
    if (reason) missing.push({ ...entry, reason });
  }
  const notImported: string[] = [];
  for (const profile of ctx.store.profiles.list()) {
    const local = [profile.kernel, profile.initrd].filter((path) => !/^https?:\/\//.test(path));
    for (const path of local) {
      if (await unservable(root, path)) {
        notImported.push(profile.name);
        break;
      }
    }
  }
  return { missing, notImported };
}

export async function prepareBootFiles(ctx: AppContext): Promise<void> {
  const { missing, notImported } = await checkBootFiles(ctx);
  for (const entry of missing) {
    ctx.log.warn(
      { file: entry.file, bootDir: ctx.config.bootDir, debianPackage: entry.debianPackage, reason: entry.reason },
      `boot file ${entry.file} (${entry.purpose}) cannot be served from ${ctx.config.bootDir} (${entry.reason}): install the Debian package ${entry.debianPackage} and run racklift setup (links ${entry.source})`,
    );
  }
  if (notImported.length > 0) {
    ctx.log.info({ profiles: notImported }, `OS profiles without kernel/initrd in boot/ (nodes assigned to them cannot install yet): ${notImported.join(', ')}; run racklift os import <profile>`);
  }
}
