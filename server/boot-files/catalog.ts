// The boot files the appliance hands out, where each comes from (a Debian package), and the explicit list of
// package directories a link in boot/ may point into. Pure data: `racklift setup` links from it, TFTP and
// HTTP serve by its rule, the doctor and the start-up check read it, and so do the tests.

export interface BootFileSource {
  /** Path under boot/. */
  file: string;
  /** The package's file that `racklift setup` links to. */
  source: string;
  debianPackage: string;
  purpose: string;
}

export const BOOT_FILES: readonly BootFileSource[] = [
  { file: 'undionly.kpxe', source: '/usr/lib/ipxe/undionly.kpxe', debianPackage: 'ipxe', purpose: 'iPXE for BIOS clients' },
  { file: 'ipxe.efi', source: '/usr/lib/ipxe/ipxe.efi', debianPackage: 'ipxe', purpose: 'iPXE for x86-64 UEFI clients' },
  { file: 'snponly.efi', source: '/usr/lib/ipxe/snponly.efi', debianPackage: 'ipxe', purpose: 'iPXE (UEFI SNP driver only) for x86-64 UEFI clients' },
  { file: 'pxelinux.0', source: '/usr/lib/PXELINUX/pxelinux.0', debianPackage: 'pxelinux', purpose: 'the legacy pxelinux path' },
  { file: 'ldlinux.c32', source: '/usr/lib/syslinux/modules/bios/ldlinux.c32', debianPackage: 'syslinux-common', purpose: 'pxelinux core module' },
  { file: 'menu.c32', source: '/usr/lib/syslinux/modules/bios/menu.c32', debianPackage: 'syslinux-common', purpose: 'pxelinux menu' },
  { file: 'vesamenu.c32', source: '/usr/lib/syslinux/modules/bios/vesamenu.c32', debianPackage: 'syslinux-common', purpose: 'pxelinux graphical menu' },
  { file: 'libutil.c32', source: '/usr/lib/syslinux/modules/bios/libutil.c32', debianPackage: 'syslinux-common', purpose: 'pxelinux menu library' },
  { file: 'libcom32.c32', source: '/usr/lib/syslinux/modules/bios/libcom32.c32', debianPackage: 'syslinux-common', purpose: 'pxelinux menu library' },
  { file: 'shimx64.efi', source: '/usr/lib/shim/shimx64.efi.signed', debianPackage: 'shim-signed', purpose: 'signed shim, first stage of Secure Boot' },
  { file: 'grubnetx64.efi', source: '/usr/lib/grub/x86_64-efi-signed/grubnetx64.efi.signed', debianPackage: 'grub-efi-amd64-signed', purpose: 'signed network GRUB for Secure Boot' },
  // shim loads its second stage by a fixed name from the directory it came from.
  { file: 'grubx64.efi', source: '/usr/lib/grub/x86_64-efi-signed/grubnetx64.efi.signed', debianPackage: 'grub-efi-amd64-signed', purpose: 'signed network GRUB under the name shim asks for' },
];

/**
 * Directories outside boot/ that a link in boot/ may resolve into: the Debian packages the setup links from.
 * Anything else a link points at is refused by TFTP and HTTP alike.
 */
export const PACKAGE_LINK_DIRS: readonly string[] = [
  '/usr/lib/ipxe',
  '/usr/lib/PXELINUX',
  '/usr/lib/syslinux/modules/bios',
  '/usr/lib/shim',
  '/usr/lib/grub/x86_64-efi-signed',
  '/usr/lib/debian-installer/images',
];

/** Loader names the DHCP service can hand a firmware, by boot-plan step (see domain/boot-plan.ts). */
export const FIRST_STAGE_LOADERS = ['undionly.kpxe', 'pxelinux.0', 'ipxe.efi', 'snponly.efi', 'shimx64.efi'] as const;

export function catalogEntry(file: string): BootFileSource | undefined {
  return BOOT_FILES.find((entry) => entry.file === file);
}
