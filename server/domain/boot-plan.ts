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
//     - UEFI HTTP boot (`HTTPClient`):       HTTP URL of the iPXE EFI loader
//     - BIOS, node on the legacy path:       pxelinux.0 over TFTP
//     - BIOS:                                undionly.kpxe over TFTP
//     - x86-64 UEFI:                         ipxe.efi (or snponly.efi by setting) over TFTP
//     - arm64 UEFI:                          the arm64 iPXE loader over TFTP
//     - anything else:                       nothing (with the reason)
import { classifyClient, type ClassifiedClient } from './client-facts.ts';
import type { BootLoaderChoice, ClientFacts, NodeState } from './types.ts';

export interface BootPlanSettings {
  autoEnrol: boolean;
  /** Base URL of the appliance's HTTP service as seen by booting clients, without a trailing slash. */
  httpBaseUrl: string;
  uefiX64Loader: 'ipxe.efi' | 'snponly.efi';
  arm64Loader: string;
}

export interface BootPlanNode {
  mac: string;
  state: NodeState;
  profile: string | null;
  generation: number;
  bootloader: BootLoaderChoice;
}

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

function firmwareStep(
  node: BootPlanNode | null,
  mac: string,
  client: ClassifiedClient,
  settings: BootPlanSettings,
): FirmwareStep {
  if (client.isIpxe) return { kind: 'http', url: ipxeScriptUrl(settings, mac) };
  switch (client.firmware) {
    case 'uefi-http-x64':
      return { kind: 'http', url: `${settings.httpBaseUrl}/boot/${settings.uefiX64Loader}` };
    case 'uefi-http-arm64':
      return { kind: 'http', url: `${settings.httpBaseUrl}/boot/${settings.arm64Loader}` };
    case 'bios':
      if (!client.isPxeClient) return { kind: 'none', reason: 'not a network-boot client (no PXEClient vendor class)' };
      return { kind: 'tftp', file: node?.bootloader === 'pxelinux' ? 'pxelinux.0' : 'undionly.kpxe' };
    case 'uefi-x64':
      return { kind: 'tftp', file: settings.uefiX64Loader };
    case 'uefi-arm64':
      return { kind: 'tftp', file: settings.arm64Loader };
    default:
      return {
        kind: 'none',
        reason: client.archCode === null ? 'not a network-boot client' : `no loader for client architecture ${client.archCode}`,
      };
  }
}
