// The one boot decision. DHCP, TFTP and HTTP all call bootPlan() and do what it says, so no route can boot an
// installer that another route would refuse.
//
// Rules, in order:
//  1. Target (what the machine should end up doing):
//     - no node:          discover if automatic enrolment is on, else local disk (never wipe an unknown machine)
//     - discovered:       discover if automatic enrolment is on, else local disk (wait for an operator)
//     - assigned/installing with a profile: install that profile, at the node's current generation
//     - any other state:  local disk
//  2. Firmware step (what the DHCP answer hands the client's firmware):
//     - already iPXE (user class `iPXE`):   HTTP URL of /boot.ipxe?mac=... (so it never chains itself again)
//     - UEFI HTTP boot (`HTTPClient`):       HTTP URL of the iPXE EFI loader (of shimx64.efi under Secure Boot)
//     - BIOS, node on the legacy path:       pxelinux.0 over TFTP
//     - BIOS:                                undionly.kpxe over TFTP
//     - x86-64 UEFI, Secure Boot:            shimx64.efi over TFTP (shim -> grubx64.efi -> grub/grub.cfg ->
//                                            grub/grub.cfg-01-<mac>, generated from this same plan)
//     - x86-64 UEFI:                         ipxe.efi (or snponly.efi by setting) over TFTP
//     - arm64 UEFI:                          the arm64 iPXE loader over TFTP, when one is configured
//     - anything else:                       nothing (with the reason)
//     Secure Boot is the node's setting, or the appliance's for every machine (unknown ones too).
import { classifyClient, type ClassifiedClient } from './client-facts.ts';
import type { BootLoaderChoice, ClientFacts, NodeState } from './types.ts';

export interface BootPlanSettings {
  autoEnrol: boolean;
  /** Base URL of the appliance's HTTP service as seen by booting clients, without a trailing slash. */
  httpBaseUrl: string;
  uefiX64Loader: 'ipxe.efi' | 'snponly.efi';
  /** Every x86-64 UEFI machine, known or not, boots through the signed shim and GRUB. */
  secureBoot: boolean;
  /** null: no arm64 loader is configured, arm64 clients get nothing (with the reason). */
  arm64Loader: string | null;
}

export interface BootPlanNode {
  mac: string;
  state: NodeState;
  profile: string | null;
  generation: number;
  bootloader: BootLoaderChoice;
  secureBoot: boolean;
}

/** The first stage of Debian's Secure Boot chain (Microsoft-signed shim); it loads grubx64.efi next. */
export const SECURE_BOOT_LOADER = 'shimx64.efi';

export type BootTarget =
  | { kind: 'install'; profile: string; generation: number }
  | { kind: 'local'; reason: string }
  | { kind: 'discover'; reason: string };

export type FirmwareStep =
  | { kind: 'tftp'; file: string }
  | { kind: 'http'; url: string }
  | { kind: 'none'; reason: string };

export interface BootPlan {
  client: ClassifiedClient;
  target: BootTarget;
  firmware: FirmwareStep;
}

export interface BootPlanInput {
  node: BootPlanNode | null;
  client: ClientFacts;
  settings: BootPlanSettings;
}

export function bootPlan({ node, client, settings }: BootPlanInput): BootPlan {
  const classified = classifyClient(client);
  return {
    client: classified,
    target: bootTarget(node, settings),
    firmware: firmwareStep(node, client.mac, classified, settings),
  };
}

export function bootTarget(node: BootPlanNode | null, settings: Pick<BootPlanSettings, 'autoEnrol'>): BootTarget {
  if (!node) {
    return settings.autoEnrol
      ? { kind: 'discover', reason: 'unknown machine, automatic enrolment is on' }
      : { kind: 'local', reason: 'unknown machine; automatic enrolment is off, so it boots its own disk' };
  }
  switch (node.state) {
    case 'discovered':
      return settings.autoEnrol
        ? { kind: 'discover', reason: 'discovered, waiting for an operator to assign it' }
        : { kind: 'local', reason: 'discovered, not assigned: boots its own disk' };
    case 'assigned':
    case 'installing':
      if (!node.profile) return { kind: 'local', reason: `${node.state} but has no OS profile` };
      return { kind: 'install', profile: node.profile, generation: node.generation };
    default:
      return { kind: 'local', reason: `node is ${node.state}: boot the installed system` };
  }
}

export function ipxeScriptUrl(settings: Pick<BootPlanSettings, 'httpBaseUrl'>, mac: string): string {
  return `${settings.httpBaseUrl}/boot.ipxe?mac=${mac}`;
}

const NO_ARM64_LOADER = 'arm64 UEFI client, and no arm64 loader is configured (dhcp.arm64Loader)';

function firmwareStep(
  node: BootPlanNode | null,
  mac: string,
  client: ClassifiedClient,
  settings: BootPlanSettings,
): FirmwareStep {
  if (client.isIpxe) return { kind: 'http', url: ipxeScriptUrl(settings, mac) };
  const secureBoot = settings.secureBoot || node?.secureBoot === true;
  switch (client.firmware) {
    case 'uefi-http-x64':
      return { kind: 'http', url: `${settings.httpBaseUrl}/boot/${secureBoot ? SECURE_BOOT_LOADER : settings.uefiX64Loader}` };
    case 'uefi-http-arm64':
      if (!settings.arm64Loader) return { kind: 'none', reason: NO_ARM64_LOADER };
      return { kind: 'http', url: `${settings.httpBaseUrl}/boot/${settings.arm64Loader}` };
    case 'bios':
      if (!client.isPxeClient) return { kind: 'none', reason: 'not a network-boot client (no PXEClient vendor class)' };
      return { kind: 'tftp', file: node?.bootloader === 'pxelinux' ? 'pxelinux.0' : 'undionly.kpxe' };
    case 'uefi-x64':
      return { kind: 'tftp', file: secureBoot ? SECURE_BOOT_LOADER : settings.uefiX64Loader };
    case 'uefi-arm64':
      if (!settings.arm64Loader) return { kind: 'none', reason: NO_ARM64_LOADER };
      return { kind: 'tftp', file: settings.arm64Loader };
    default:
      return {
        kind: 'none',
        reason: client.archCode === null ? 'not a network-boot client' : `no loader for client architecture ${client.archCode}`,
      };
  }
}
