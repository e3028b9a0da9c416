// End-to-end, UEFI with Secure Boot on: OVMF with Microsoft's keys enrolled (Debian's OVMF_CODE_4M.ms.fd and
// OVMF_VARS_4M.ms.fd, pflash) network-boots from the appliance. A node with secureBoot gets Debian's
// Microsoft-signed shim over TFTP, shim loads the Debian-signed network GRUB (grubx64.efi), GRUB reads
// grub/grub.cfg and then its own grub/grub.cfg-01-<mac> generated from the boot plan, and boots the Debian
// installer's signed kernel, which says Secure Boot is on. A node that is not assigned gets `exit` from the
// same chain and goes back to the firmware (its disk).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatEvents } from './harness/appliance.ts';
import { startLab, type Lab } from './harness/lab.ts';
import { skipReason } from './harness/preflight.ts';
import { installTokenOnConsole, seconds, tftpTransfers } from './harness/scenario.ts';
import { tail } from './harness/vm.ts';

const skip = skipReason('e2e Secure Boot network boot', { secureBoot: true, installer: true });
const MINUTE = 60_000;
// Hang guards, not timings (see bios.test.ts).
const INSTALLER_MS = 12 * MINUTE;
const SLOT_WAIT_MS = 10 * MINUTE;

describe.skipIf(skip !== null)('Secure Boot UEFI virtual machines network-boot from the appliance', () => {
  let lab: Lab;
  const timings: string[] = [];
  const note = (what: string, from: number) => timings.push(`${what}: ${seconds(from)} s`);

  beforeAll(async () => {
    lab = await startLab();
  });

  afterAll(async () => {
    if (timings.length > 0) process.stdout.write(`[e2e] Secure Boot timings (TCG):\n  ${timings.join('\n  ')}\n`);
    await lab?.close();
  });

  it('6. a Secure Boot node boots shim -> GRUB -> its per-MAC config -> the signed installer kernel, with Secure Boot on', async () => {
    const mac = '52:54:00:e2:50:16';
    const macName = mac.replace(/:/g, '-');
    lab.appliance.cli(['node', 'add', mac, '--hostname', 'e2e-secure', '--roles', 'compute', '--profile', 'debian-12', '--address', '10.231.50.26', '--secure-boot']);
    const vm = await lab.boot({ mac, firmware: 'uefi-secure', label: 'secure-uefi', memoryMiB: 1024 });
    await vm.waitForConsole(/NBP filename is shimx64\.efi/, 3 * 60_000);
    await vm.waitForConsole(/Welcome to GRUB!/, 2 * 60_000);
    note('Secure Boot: power-on to GRUB', vm.startedAt);
    await vm.waitForConsole(/secureboot: Secure boot enabled/, 3 * 60_000);
    note('Secure Boot: power-on to the installer kernel (Secure boot enabled)', vm.startedAt);
    await lab.appliance.waitForState(mac, 'installing', INSTALLER_MS).catch((error: Error) => {
      throw new Error(`${error.message}\n${tail(vm.console())}`);
    });
    note('Secure Boot: power-on to Preseed fetched (installing)', vm.startedAt);
    const console = vm.console();
    await lab.stopVm();

    expect(console).toMatch(/Kernel is locked down from EFI Secure Boot/);
    expect(console).toMatch(/Command line: .*\/install\/[A-Za-z0-9_-]+\/preseed/);
    expect(installTokenOnConsole(console)).not.toBeNull();
    const files = tftpTransfers(lab.appliance.log()).map((t) => t.file);
    for (const file of ['shimx64.efi', 'grubx64.efi', 'grub/grub.cfg', `grub/grub.cfg-01-${macName}`, 'debian-12/linux', 'debian-12/initrd.gz']) {
      expect(files, `TFTP served ${file}`).toContain(file);
    }
    const events = lab.appliance.events().filter((e) => e.mac === mac);
    expect(events.some((e) => e.kind === 'boot' && e.message.includes('shimx64.efi')), formatEvents(events)).toBe(true);
    expect(events.some((e) => e.kind === 'boot' && e.message.includes(`grub/grub.cfg-01-${macName}`) && /installs debian-12/.test(e.message))).toBe(true);
    expect(events.find((e) => e.to_state === 'installing')?.message).toMatch(/preseed/);
  }, SLOT_WAIT_MS + INSTALLER_MS + 8 * MINUTE);

  it('7. a Secure Boot machine that is not assigned gets GRUB `exit` from its per-MAC config: back to the firmware', async () => {
    const mac = '52:54:00:e2:50:17';
    lab.appliance.cli(['node', 'add', mac, '--secure-boot']);
    const vm = await lab.boot({ mac, firmware: 'uefi-secure', label: 'secure-local' });
    await vm.waitForConsole(/Welcome to GRUB!/, 4 * 60_000);
    await lab.appliance.waitForEvent((e) => e.mac === mac && e.kind === 'boot' && e.message.includes('grub/grub.cfg-01-'), 60_000);
    note('Secure Boot, not assigned: power-on to the local-boot decision', vm.startedAt);
    // GRUB's `exit` hands control back to OVMF, which starts its next boot option (no disk here: its menu).
    await vm.waitForConsole(/Booting `Boot from local disk'[\s\S]*BdsDxe: (?:loading|starting) Boot0000/, 2 * 60_000);
    const console = vm.console();
    await lab.stopVm();
    expect(console).not.toMatch(/Linux version/);
    const decision = lab.appliance.events().find((e) => e.mac === mac && e.kind === 'boot' && e.message.includes('grub/grub.cfg-01-'));
    expect(decision?.message).toMatch(/local disk/);
  }, SLOT_WAIT_MS + 8 * MINUTE);
});
