// `racklift lab` (npm run lab): the end-to-end harness as a demo. It creates a network namespace, starts the
// appliance on it, network-boots one virtual machine (qemu under TCG), prints what happened and cleans up.
// Needs root and the packages of scripts/install-deps.sh; it touches no network outside its namespace.
import type { Command } from 'commander';

interface LabOptions {
  firmware: 'bios' | 'uefi';
  install?: boolean;
  mac: string;
  timeout: string;
  keep?: boolean;
}

const line = (text = '') => process.stdout.write(`${text}\n`);

export function registerLabCommand(program: Command): void {
  program
    .command('lab')
    .description('demo: boot one VM from an appliance in a private network namespace, print what happened, clean up (root)')
    .option('--firmware <kind>', 'bios (SeaBIOS + iPXE ROM) or uefi (OVMF PXE + ipxe.efi)', 'bios')
    .option('--install', 'assign the machine to debian-12 first, so it boots the Debian installer until it fetches its Preseed')
    .option('--mac <mac>', 'MAC address of the VM', '52:54:00:e2:50:99')
    .option('--timeout <seconds>', 'give up after this long', '420')
    .option('--keep', 'keep the work directory (logs, serial console, database)')
    .action(async (options: LabOptions) => {
      process.exitCode = await runLab(options);
    });
}

async function runLab(options: LabOptions): Promise<number> {
  // The harness lives with the e2e tests: loaded only here, so other commands never pay for it.
  const { missingForE2e } = await import('../../test/e2e/harness/preflight.ts');
  const missing = missingForE2e({ uefi: options.firmware === 'uefi', installer: true });
  if (missing) {
    process.stderr.write(`racklift lab: cannot run here: ${missing}\n`);
    return 1;
  }
  const { startLab } = await import('../../test/e2e/harness/lab.ts');
  const { bootAsPlainPxeRom } = await import('../../test/e2e/harness/firmware.ts');
  const { formatEvents } = await import('../../test/e2e/harness/appliance.ts');
  const { tftpTransfers } = await import('../../test/e2e/harness/scenario.ts');
  const { cleanupAll } = await import('../../test/e2e/harness/cleanup.ts');
  const started = Date.now();
  const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;

  line(`racklift lab: creating namespace rl-e2e-${process.pid} and starting the appliance in it`);
  const lab = await startLab({ keepWorkDir: !!options.keep });
  line(`  appliance ${lab.appliance.baseUrl} on ${lab.network.bridge} (${lab.network.subnet}), work dir ${lab.workDir}`);
  let lastEvent = 0;
  const printNewEvents = () => {
    const events = lab.appliance.events(lastEvent);
    if (events.length === 0) return;
    lastEvent = events.at(-1)!.id;
    line(formatEvents(events));
  };
  try {
    if (options.install) {
      line(lab.appliance.cli(['node', 'add', options.mac, '--hostname', 'lab-node', '--roles', 'compute', '--profile', 'debian-12', '--address', '10.231.50.30']).trimEnd());
    }
    printNewEvents();
    line(`[${elapsed()}] powering on a ${options.firmware.toUpperCase()} VM ${options.mac} (qemu -accel tcg)`);
    const vm = await lab.boot({ mac: options.mac, firmware: options.firmware, label: 'lab', memoryMiB: options.install ? 1024 : undefined });
    if (options.firmware === 'bios' && !options.install) await bootAsPlainPxeRom(vm);
    const deadline = started + Number(options.timeout) * 1000;
    const finished = () => {
      const node = lab.appliance.node(options.mac);
      if (options.install) return node?.state === 'installing';
      return /No more network devices/.test(vm.console()) && lab.appliance.events().some((e) => e.kind === 'boot');
    };
    while (!finished() && Date.now() < deadline && !vm.exited()) {
      printNewEvents();
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    printNewEvents();
    const ok = finished();
    line();
    line(`--- serial console of the VM (last 30 lines; full log: ${vm.serialPath}) ---`);
    line(vm.console().split('\n').filter((text) => text.trim() !== '').slice(-30).join('\n'));
    line('---');
    const served = tftpTransfers(lab.appliance.log()).map((t) => `${t.file} (${t.bytes} bytes)`);
    line(`appliance served over TFTP: ${served.length > 0 ? served.join(', ') : 'nothing'}`);
    const node = lab.appliance.node(options.mac);
    line(`[${elapsed()}] node ${options.mac}: ${node?.state ?? 'not recorded'}${ok ? '' : ' (did not get as far as expected before the timeout)'}`);
    if (ok) line(options.install ? 'the installer fetched its Preseed: the node is installing' : 'an unknown machine was recorded as discovered and told to boot its own disk');
    return ok ? 0 : 1;
  } finally {
    await lab.close();
    cleanupAll();
    line(`racklift lab: VM stopped, appliance stopped, namespace removed${options.keep ? ` (kept ${lab.workDir})` : ''}`);
  }
}
