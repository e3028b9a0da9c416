// The whole lab in one call: temp dir, namespace with RA, boot files, the appliance serving on it, and VMs
// started one at a time. Used by the scenario tests and by `racklift lab`.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAppliance, type Appliance, type ApplianceOptions } from './appliance.ts';
import { onCleanup } from './cleanup.ts';
import { createLabNetwork, type LabNetwork } from './netns.ts';
import { acquireVmSlot } from './vm-slot.ts';
import { startVm, type Vm, type VmOptions } from './vm.ts';

export interface Lab {
  workDir: string;
  network: LabNetwork;
  appliance: Appliance;
  /** Starts a VM on the lab's tap; the previous VM must have been stopped (one at a time). */
  boot(options: Omit<VmOptions, 'namespace' | 'tap' | 'workDir'>): Promise<Vm>;
  /** Stops the current VM and frees the machine-wide VM slot. */
  stopVm(): Promise<void>;
  close(): Promise<void>;
}

export interface LabOptions extends Partial<Pick<ApplianceOptions, 'httpPort' | 'packageProxy' | 'settings'>> {
  keepWorkDir?: boolean;
  /**
   * Take the machine-wide VM slot before each boot (default). The opt-in full install runs for an hour and
   * is meant to run alone: it does not take the slot, so it never blocks other runs' short VMs that long.
   */
  vmSlot?: boolean;
}

export async function startLab(options: LabOptions = {}): Promise<Lab> {
  const workDir = mkdtempSync(join(tmpdir(), 'rl-e2e-'));
  const removeWorkDir = onCleanup(`work dir ${workDir}`, () => {
    if (!(options.keepWorkDir ?? process.env.RACKLIFT_E2E_KEEP === '1')) rmSync(workDir, { recursive: true, force: true });
  });
  const network = createLabNetwork({ workDir });
  let appliance: Appliance;
  try {
    // An empty boot dir of its own, filled by `racklift setup` before the appliance starts: what npm start does.
    appliance = await startAppliance({ ...options, network, workDir, bootDir: join(workDir, 'boot') });
  } catch (error) {
    network.destroy();
    removeWorkDir();
    throw error;
  }
  let current: Vm | null = null;
  let releaseSlot: (() => void) | null = null;
  const stopVm = async () => {
    await current?.stop();
    current = null;
    releaseSlot?.();
    releaseSlot = null;
  };
  return {
    workDir,
    network,
    appliance,
    async boot(vmOptions) {
      await stopVm();
      if (options.vmSlot !== false) releaseSlot = await acquireVmSlot();
      current = startVm({ ...vmOptions, namespace: network.name, tap: network.taps[0]!, workDir });
      return current;
    },
    stopVm,
    async close() {
      await stopVm();
      await appliance.stop();
      network.destroy();
      removeWorkDir();
    },
  };
}
