// End-to-end, UEFI firmware: OVMF's own PXE (no iPXE option ROM on the NIC) loads ipxe.efi from the
// appliance over TFTP, which chains boot.ipxe over HTTP and boots the Debian 12 installer. Scenario 3 of
// issue 5, in a namespace this file creates.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatEvents } from './harness/appliance.ts';
import { startLab, type Lab } from './harness/lab.ts';
import { skipReason } from './harness/preflight.ts';
import { installTokenOnConsole, seconds, tftpTransfers } from './harness/scenario.ts';
import { tail } from './harness/vm.ts';

const skip = skipReason('e2e UEFI network boot', { uefi: true, installer: true });
const MINUTE = 60_000;
// Hang guards, not timings (see bios.test.ts).
const INSTALLER_MS = 12 * MINUTE;
const SLOT_WAIT_MS = 10 * MINUTE;

describe.skipIf(skip !== null)('UEFI virtual machines network-boot from the appliance', () => {
  let lab: Lab;
  const timings: string[] = [];
  const note = (what: string, from: number) => timings.push(`${what}: ${seconds(from)} s`);

  beforeAll(async () => {
    lab = await startLab();
  });

  afterAll(async () => {
    if (timings.length > 0) process.stdout.write(`[e2e] UEFI timings (TCG):\n  ${timings.join('\n  ')}\n`);
    await lab?.close();
  });

  it('3. an assigned node boots through OVMF PXE and ipxe.efi into the Debian 12 installer, which fetches its Preseed', async () => {
    const mac = '52:54:00:e2:50:13';
    lab.appliance.cli(['node', 'add', mac, '--hostname', 'e2e-uefi', '--roles', 'compute', '--profile', 'debian-12', '--address', '10.231.50.23']);
    const vm = await lab.boot({ mac, firmware: 'uefi', label: 'install-uefi', memoryMiB: 1024 });
    await vm.waitForConsole(/NBP file downloaded successfully/, 2 * 60_000);
    note('OVMF: power-on to ipxe.efi downloaded', vm.startedAt);
    await vm.waitForConsole(/boot\.ipxe\.\.\. ok/, 60_000);
    note('OVMF: power-on to boot.ipxe', vm.startedAt);
    await vm.waitForConsole(/Linux version/, 2 * 60_000);
    note('OVMF: power-on to installer kernel', vm.startedAt);
    await lab.appliance.waitForState(mac, 'installing', INSTALLER_MS).catch((error: Error) => {
      throw new Error(`${error.message}\n${tail(vm.console())}`);
    });
    note('OVMF: power-on to Preseed fetched (installing)', vm.startedAt);
    const console = vm.console();
    await lab.stopVm();

    expect(console).toMatch(/Station IP address is 10\.231\.50\.23|net0: 10\.231\.50\.23\//);
    expect(console).toMatch(/using SNP on|using (?:virtio|snp)/i);
    expect(tftpTransfers(lab.appliance.log()).map((t) => t.file)).toContain('ipxe.efi');
    expect(installTokenOnConsole(console)).not.toBeNull();
    const events = lab.appliance.events().filter((e) => e.mac === mac);
    const toInstalling = events.find((e) => e.to_state === 'installing');
    expect(toInstalling?.from_state, formatEvents(events)).toBe('assigned');
    expect(toInstalling?.message).toMatch(/preseed/);
  }, SLOT_WAIT_MS + INSTALLER_MS + 5 * MINUTE);
});
