// A boot directory of the test's own, filled from Debian packages: the appliance under test serves exactly
// these files. Copies, not symlinks, because the TFTP root refuses links that leave it.
import { copyFileSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export const DEBIAN_INSTALLER_DIR = '/usr/lib/debian-installer/images/12/amd64/text/debian-installer/amd64';

const LOADERS: Record<string, string> = {
  'undionly.kpxe': '/usr/lib/ipxe/undionly.kpxe',
  'ipxe.efi': '/usr/lib/ipxe/ipxe.efi',
  'snponly.efi': '/usr/lib/ipxe/snponly.efi',
  'pxelinux.0': '/usr/lib/PXELINUX/pxelinux.0',
};
const SYSLINUX_MODULES = '/usr/lib/syslinux/modules/bios';

function copyIfPresent(from: string, to: string): void {
  if (existsSync(from) && !existsSync(to)) copyFileSync(from, to);
}

export function prepareBootDir(bootDir: string, options: { installer?: boolean } = {}): string {
  mkdirSync(bootDir, { recursive: true });
  for (const [name, from] of Object.entries(LOADERS)) copyIfPresent(from, join(bootDir, name));
  if (existsSync(SYSLINUX_MODULES)) {
    for (const module of readdirSync(SYSLINUX_MODULES)) if (module.endsWith('.c32')) copyIfPresent(join(SYSLINUX_MODULES, module), join(bootDir, module));
  }
  if (options.installer !== false) {
    const profileDir = join(bootDir, 'debian-12');
    mkdirSync(profileDir, { recursive: true });
    copyIfPresent(join(DEBIAN_INSTALLER_DIR, 'linux'), join(profileDir, 'linux'));
    copyIfPresent(join(DEBIAN_INSTALLER_DIR, 'initrd.gz'), join(profileDir, 'initrd.gz'));
  }
  return bootDir;
}
