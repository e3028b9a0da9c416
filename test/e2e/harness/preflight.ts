// Can this machine run the end-to-end tests? Root (namespaces, tap devices), qemu, radvd, curl and the
// firmware files. The answer is a reason to print, never a silent skip.
import { existsSync } from 'node:fs';
import { OVMF_PATH, OVMF_SECURE_CODE, OVMF_SECURE_VARS } from './vm.ts';
import { hasCommand } from './sh.ts';
import { BOOT_FILES } from '../../../server/boot-files/catalog.ts';
import { DEBIAN_12_NETBOOT_DIR } from '../../../server/render/os-import.ts';

export function missingForE2e(options: { uefi?: boolean; secureBoot?: boolean; installer?: boolean } = {}): string | null {
  if (process.platform !== 'linux') return 'not Linux';
  if (process.getuid?.() !== 0) return 'not root (network namespaces and tap devices need root)';
  for (const command of ['ip', 'nft', 'qemu-system-x86_64', 'radvd', 'curl']) {
    if (!hasCommand(command)) return `${command} is not installed (scripts/install-deps.sh installs it)`;
  }
  if (!existsSync('/dev/net/tun')) return '/dev/net/tun is missing (no tap devices)';
  // The boot dir is the one `racklift setup` links from these packages' files.
  const files = [...BOOT_FILES.map((entry) => entry.source), '/usr/lib/ipxe/qemu/efi-e1000.rom'];
  if (options.uefi) files.push(OVMF_PATH);
  if (options.secureBoot) files.push(OVMF_SECURE_CODE, OVMF_SECURE_VARS);
  if (options.installer) files.push(`${DEBIAN_12_NETBOOT_DIR}/linux`, `${DEBIAN_12_NETBOOT_DIR}/initrd.gz`);
  for (const file of files) if (!existsSync(file)) return `${file} is missing (scripts/install-deps.sh installs it)`;
  return null;
}

/** For it.skipIf / describe.skipIf: prints why the e2e tests do not run here. */
export function skipReason(area: string, options: { uefi?: boolean; secureBoot?: boolean; installer?: boolean } = {}): string | null {
  const missing = missingForE2e(options);
  if (missing) process.stdout.write(`\n[e2e] SKIPPING ${area}: ${missing}\n\n`);
  return missing;
}
