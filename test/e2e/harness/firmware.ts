// Steering the firmware from its serial console.
import type { Vm } from './vm.ts';

/**
 * Debian's qemu NIC ROMs are iPXE, which announces itself (user class `iPXE`, option 77) and so would be
 * handed the boot script URL at once. A rack's NICs mostly carry a vendor PXE ROM instead, which is handed a
 * first-stage loader over TFTP (undionly.kpxe, pxelinux.0). To take that path with real firmware, stop the
 * ROM at its prompt and give it another user class before it asks DHCP: it then behaves as a plain PXE ROM
 * (PXEClient:Arch:00000, the PXE API for the loader) and loads whatever the appliance hands it over TFTP.
 */
export async function bootAsPlainPxeRom(vm: Vm, timeoutMs = 60_000): Promise<void> {
  await vm.waitForConsole(/Press Ctrl-B for the iPXE command line/, timeoutMs);
  await vm.type('\x02');
  await vm.waitForConsole(/iPXE> /, 15_000);
  // The user class is cleared again before the loader starts: the ROM's PXE API builds the DHCPACK it hands
  // the loader from its current settings, and a leftover user class would make the loader look like a plain
  // ROM too (it would be handed itself again).
  for (const command of ['set user-class PXE-ROM', 'dhcp', 'clear user-class']) await ipxeCommand(vm, command);
  await vm.type('chain tftp://${next-server}/${filename}\r');
}

const prompts = (vm: Vm) => vm.console().split('iPXE> ').length - 1;

/** Types one command at the iPXE prompt and waits for the next prompt: keys typed while it works are lost. */
export async function ipxeCommand(vm: Vm, command: string, timeoutMs = 60_000): Promise<void> {
  const before = prompts(vm);
  await vm.type(`${command}\r`);
  const deadline = Date.now() + timeoutMs;
  while (prompts(vm) <= before) {
    if (Date.now() > deadline) throw new Error(`${vm.label}: iPXE command ${JSON.stringify(command)} did not return to the prompt`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
