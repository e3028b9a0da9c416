import { describe, expect, it } from 'vitest';
import { bootPlan, type BootPlanNode, type BootPlanSettings } from '../../server/domain/boot-plan.ts';
import { classifyClient } from '../../server/domain/client-facts.ts';
import { NODE_STATES, type ClientFacts, type NodeState } from '../../server/domain/types.ts';

const MAC = '52:54:00:aa:bb:cc';
const settings: BootPlanSettings = { autoEnrol: false, httpBaseUrl: 'http://10.0.0.1:8080', uefiX64Loader: 'ipxe.efi', arm64Loader: 'ipxe-arm64.efi', secureBoot: false };

const FIRMWARE: Record<string, { client: ClientFacts; firmware: ReturnType<typeof bootPlan>['firmware'] }> = {
  bios: {
    client: { mac: MAC, archCode: 0, vendorClass: 'PXEClient:Arch:00000:UNDI:002001' },
    firmware: { kind: 'tftp', file: 'undionly.kpxe' },
  },
  'uefi-x64 (arch 7)': {
    client: { mac: MAC, archCode: 7, vendorClass: 'PXEClient:Arch:00007:UNDI:003016' },
    firmware: { kind: 'tftp', file: 'ipxe.efi' },
  },
  'uefi-x64 (arch 9)': {
    client: { mac: MAC, archCode: 9, vendorClass: 'PXEClient:Arch:00009:UNDI:003016' },
    firmware: { kind: 'tftp', file: 'ipxe.efi' },
  },
  'uefi-arm64': {
    client: { mac: MAC, archCode: 11, vendorClass: 'PXEClient:Arch:00011:UNDI:003016' },
    firmware: { kind: 'tftp', file: 'ipxe-arm64.efi' },
  },
  'uefi-http-x64': {
    client: { mac: MAC, archCode: 16, vendorClass: 'HTTPClient:Arch:00016:UNDI:003001' },
    firmware: { kind: 'http', url: 'http://10.0.0.1:8080/boot/ipxe.efi' },
  },
  'already iPXE': {
    client: { mac: MAC, archCode: 0, vendorClass: 'PXEClient:Arch:00000:UNDI:002001', userClass: 'iPXE' },
    firmware: { kind: 'http', url: `http://10.0.0.1:8080/boot.ipxe?mac=${MAC}` },
  },
  'iPXE on UEFI': {
    client: { mac: MAC, archCode: 7, vendorClass: 'PXEClient:Arch:00007:UNDI:003016', userClass: 'iPXE' },
    firmware: { kind: 'http', url: `http://10.0.0.1:8080/boot.ipxe?mac=${MAC}` },
  },
};

function expectedTarget(state: NodeState | 'none', autoEnrol: boolean): string {
  if (state === 'none' || state === 'discovered') return autoEnrol ? 'discover' : 'local';
  if (state === 'assigned' || state === 'installing') return 'install';
  return 'local';
}

describe('boot plan: every state x firmware', () => {
  for (const autoEnrol of [false, true]) {
    for (const state of ['none', ...NODE_STATES] as const) {
      for (const [name, { client, firmware }] of Object.entries(FIRMWARE)) {
        const target = expectedTarget(state, autoEnrol);
        it(`${state}, ${name}, autoEnrol ${autoEnrol} -> ${target}, ${firmware.kind}`, () => {
          const node: BootPlanNode | null =
            state === 'none' ? null : { mac: MAC, state, profile: 'debian-12', generation: 2, bootloader: 'ipxe', secureBoot: false };
          const plan = bootPlan({ node, client, settings: { ...settings, autoEnrol } });
          expect(plan.target.kind).toBe(target);
          expect(plan.firmware).toEqual(firmware);
          if (plan.target.kind === 'install') expect(plan.target).toEqual({ kind: 'install', profile: 'debian-12', generation: 2 });
        });
      }
    }
  }
});

describe('boot plan rules', () => {
  const node = (overrides: Partial<BootPlanNode>): BootPlanNode => ({ mac: MAC, state: 'assigned', profile: 'debian-12', generation: 1, bootloader: 'ipxe', secureBoot: false, ...overrides });

  it('never installs an unknown machine, even with automatic enrolment', () => {
    for (const autoEnrol of [false, true]) {
      const plan = bootPlan({ node: null, client: FIRMWARE.bios!.client, settings: { ...settings, autoEnrol } });
      expect(plan.target.kind).not.toBe('install');
    }
  });

  it('sends the legacy pxelinux path to BIOS clients of nodes that ask for it, UEFI still gets iPXE', () => {
    expect(bootPlan({ node: node({ bootloader: 'pxelinux' }), client: FIRMWARE.bios!.client, settings }).firmware).toEqual({ kind: 'tftp', file: 'pxelinux.0' });
    expect(bootPlan({ node: node({ bootloader: 'pxelinux' }), client: FIRMWARE['uefi-x64 (arch 7)']!.client, settings }).firmware).toEqual({ kind: 'tftp', file: 'ipxe.efi' });
  });

  it('uses snponly.efi for x86-64 UEFI when configured', () => {
    const plan = bootPlan({ node: null, client: FIRMWARE['uefi-x64 (arch 7)']!.client, settings: { ...settings, uefiX64Loader: 'snponly.efi' } });
    expect(plan.firmware).toEqual({ kind: 'tftp', file: 'snponly.efi' });
  });

  it('gives nothing to a plain DHCP client or an unsupported architecture, with the reason', () => {
    expect(bootPlan({ node: null, client: { mac: MAC }, settings }).firmware).toEqual({ kind: 'none', reason: 'not a network-boot client' });
    expect(bootPlan({ node: null, client: { mac: MAC, archCode: 10, vendorClass: 'PXEClient:Arch:00010' }, settings }).firmware).toEqual({
      kind: 'none',
      reason: 'no loader for client architecture 10',
    });
  });

  it('hands a Secure Boot node the signed shim on UEFI (TFTP or HTTP boot), iPXE its script, BIOS its usual loader', () => {
    const secure = node({ secureBoot: true });
    expect(bootPlan({ node: secure, client: FIRMWARE['uefi-x64 (arch 7)']!.client, settings }).firmware).toEqual({ kind: 'tftp', file: 'shimx64.efi' });
    expect(bootPlan({ node: secure, client: FIRMWARE['uefi-http-x64']!.client, settings }).firmware).toEqual({ kind: 'http', url: 'http://10.0.0.1:8080/boot/shimx64.efi' });
    expect(bootPlan({ node: secure, client: FIRMWARE['iPXE on UEFI']!.client, settings }).firmware).toEqual(FIRMWARE['iPXE on UEFI']!.firmware);
    expect(bootPlan({ node: secure, client: FIRMWARE.bios!.client, settings }).firmware).toEqual({ kind: 'tftp', file: 'undionly.kpxe' });
    expect(bootPlan({ node: secure, client: FIRMWARE['uefi-x64 (arch 7)']!.client, settings }).target).toEqual({ kind: 'install', profile: 'debian-12', generation: 1 });
  });

  it('with Secure Boot on for the appliance, an unknown UEFI machine gets the shim too, and boots its disk', () => {
    const plan = bootPlan({ node: null, client: FIRMWARE['uefi-x64 (arch 7)']!.client, settings: { ...settings, secureBoot: true } });
    expect(plan.firmware).toEqual({ kind: 'tftp', file: 'shimx64.efi' });
    expect(plan.target.kind).toBe('local');
  });

  it('gives an arm64 client nothing, with the reason, when no arm64 loader is configured', () => {
    expect(bootPlan({ node: null, client: FIRMWARE['uefi-arm64']!.client, settings: { ...settings, arm64Loader: null } }).firmware).toEqual({
      kind: 'none',
      reason: 'arm64 UEFI client, and no arm64 loader is configured (dhcp.arm64Loader)',
    });
  });

  it('an assigned node without a profile boots its disk', () => {
    expect(bootPlan({ node: node({ profile: null }), client: FIRMWARE.bios!.client, settings }).target.kind).toBe('local');
  });

  it('reads the architecture from option 60 when option 93 is missing', () => {
    expect(classifyClient({ mac: MAC, vendorClass: 'PXEClient:Arch:00007:UNDI:003016' }).firmware).toBe('uefi-x64');
    expect(classifyClient({ mac: MAC, vendorClass: 'HTTPClient:Arch:00016' }).firmware).toBe('uefi-http-x64');
  });
});
