// Start-up check of boot/: every first-stage loader the DHCP and TFTP services may hand out, with the Debian
// package it comes from, and which OS profiles still need `racklift os import`. A missing file is a clear
// warning (the appliance still starts: a site may use only some loaders).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { AppContext } from '../context.ts';

export interface BootFileSource {
  /** Path under boot/. */
  file: string;
  /** Where scripts/setup.sh links it from. */
  source: string;
  debianPackage: string;
  purpose: string;
}

export const BOOT_FILES: BootFileSource[] = [
  { file: 'undionly.kpxe', source: '/usr/lib/ipxe/undionly.kpxe', debianPackage: 'ipxe', purpose: 'iPXE for BIOS clients' },
  { file: 'ipxe.efi', source: '/usr/lib/ipxe/ipxe.efi', debianPackage: 'ipxe', purpose: 'iPXE for x86-64 UEFI clients' },
  { file: 'snponly.efi', source: '/usr/lib/ipxe/snponly.efi', debianPackage: 'ipxe', purpose: 'iPXE (UEFI SNP driver only) for x86-64 UEFI clients' },
  { file: 'pxelinux.0', source: '/usr/lib/PXELINUX/pxelinux.0', debianPackage: 'pxelinux', purpose: 'the legacy pxelinux path' },
  { file: 'ldlinux.c32', source: '/usr/lib/syslinux/modules/bios/ldlinux.c32', debianPackage: 'syslinux-common', purpose: 'pxelinux core module' },
  { file: 'menu.c32', source: '/usr/lib/syslinux/modules/bios/menu.c32', debianPackage: 'syslinux-common', purpose: 'pxelinux menu' },
  { file: 'vesamenu.c32', source: '/usr/lib/syslinux/modules/bios/vesamenu.c32', debianPackage: 'syslinux-common', purpose: 'pxelinux graphical menu' },
  { file: 'libutil.c32', source: '/usr/lib/syslinux/modules/bios/libutil.c32', debianPackage: 'syslinux-common', purpose: 'pxelinux menu library' },
  { file: 'libcom32.c32', source: '/usr/lib/syslinux/modules/bios/libcom32.c32', debianPackage: 'syslinux-common', purpose: 'pxelinux menu library' },
  { file: 'grubnetx64.efi', source: '/usr/lib/grub/x86_64-efi-signed/grubnetx64.efi.signed', debianPackage: 'grub-efi-amd64-signed', purpose: 'signed GRUB for Secure Boot' },
  { file: 'shimx64.efi', source: '/usr/lib/shim/shimx64.efi.signed', debianPackage: 'shim-signed', purpose: 'signed shim for Secure Boot' },
];

export interface BootFileCheck {
  missing: BootFileSource[];
  /** Profiles whose kernel or initrd is not under boot/ yet. */
  notImported: string[];
}

export function checkBootFiles(ctx: AppContext): BootFileCheck {
  const missing = BOOT_FILES.filter((entry) => !existsSync(join(ctx.config.bootDir, entry.file)));
  const notImported = ctx.store.profiles
    .list()
    .filter((profile) => [profile.kernel, profile.initrd].some((path) => !/^https?:\/\//.test(path) && !existsSync(join(ctx.config.bootDir, path))))
    .map((profile) => profile.name);
  return { missing, notImported };
}

export async function prepareBootFiles(ctx: AppContext): Promise<void> {
  const { missing, notImported } = checkBootFiles(ctx);
  for (const entry of missing) {
    ctx.log.warn(
      { file: entry.file, bootDir: ctx.config.bootDir, debianPackage: entry.debianPackage },
      `boot file ${entry.file} (${entry.purpose}) is missing in ${ctx.config.bootDir}: install the Debian package ${entry.debianPackage} and run scripts/setup.sh (links ${entry.source})`,
    );
  }
  if (notImported.length > 0) {
    ctx.log.info({ profiles: notImported }, `OS profiles without kernel/initrd in boot/ (nodes assigned to them cannot install yet): ${notImported.join(', ')}; run racklift os import <profile>`);
  }
}
