// The harness's own pure parts: console clean-up, what scenarios read off a console and a log, qemu arguments.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applianceConfig } from './harness/appliance.ts';
import type { LabNetwork } from './harness/netns.ts';
import { installTokenOnConsole, tftpTransfers } from './harness/scenario.ts';
import { plainConsole, qemuArgs } from './harness/vm.ts';

describe('e2e harness', () => {
  it('removes escapes, carriage returns and iPXE progress from console text', () => {
    const raw = '\x1b[2J\x1b[0mhttp://10.231.50.1:8080/boot/debian-12/linux... 45%\b\b\b\b    \b\b\b\b ok\r\nnext\rline\r\n';
    expect(plainConsole(raw)).toBe('http://10.231.50.1:8080/boot/debian-12/linux... ok\nnext\nline\n');
  });

  it('finds the last install token on a kernel command line', () => {
    const console = '[    0.000000] Command line: initrd=initrd.gz auto=true url=http://10.231.50.1:8080/install/DgCByBxnhNzm4I68B-lxcRsXgbgRzB_I/preseed ipv6.disable=1';
    expect(installTokenOnConsole(console)).toBe('DgCByBxnhNzm4I68B-lxcRsXgbgRzB_I');
    expect(installTokenOnConsole('no kernel here')).toBeNull();
  });

  it('reads TFTP transfers from the appliance log and ignores other lines', () => {
    const log = [
      '{"level":30,"service":"tftp","client":"10.231.50.100:61484","file":"undionly.kpxe","bytes":74213,"msg":"tftp: sent"}',
      '{"level":30,"service":"dhcp","msg":"ACK 10.231.50.100"}',
      'not json',
    ].join('\n');
    expect(tftpTransfers(log)).toEqual([{ client: '10.231.50.100:61484', file: 'undionly.kpxe', bytes: 74213 }]);
  });

  it('builds TCG qemu arguments: SeaBIOS serial console for BIOS, OVMF without an option ROM for UEFI', () => {
    const workDir = mkdtempSync(join(tmpdir(), 'rl-e2e-args-'));
    const base = { namespace: 'rl-e2e-1', tap: 'rltap0', mac: '52:54:00:e2:50:01', workDir, label: 'vm' };
    const bios = qemuArgs({ ...base, firmware: 'bios' }, join(workDir, 'vm.serial.log')).join(' ');
    rmSync(workDir, { recursive: true, force: true });
    expect(bios).toContain('-accel tcg');
    expect(bios).toContain(`name=etc/sercon-port,file=${workDir}/sercon-port.bin`);
    expect(bios).toContain('e1000,netdev=n0,mac=52:54:00:e2:50:01');
    const uefi = qemuArgs({ ...base, firmware: 'uefi' }, join(workDir, 'vm.serial.log')).join(' ');
    expect(uefi).toContain('-bios /usr/share/ovmf/OVMF.fd');
    expect(uefi).toContain('virtio-net-pci,netdev=n0,mac=52:54:00:e2:50:01,romfile=');
    expect(uefi).not.toContain('sercon');
  });

  it('generates an appliance config that serves the lab bridge with a pool and a router', () => {
    const network = { name: 'rl-e2e-1', bridge: 'rlbr0', address: '10.231.50.1', subnet: '10.231.50.0/24' } as LabNetwork;
    const config = applianceConfig({ network, workDir: '/tmp/x', settings: { 'boot.autoEnrol': true } }) as {
      provisioning: Record<string, unknown>;
      boot: { autoEnrol: boolean };
      dataDir: string;
    };
    expect(config.provisioning).toMatchObject({ interface: 'rlbr0', address: '10.231.50.1', gateway: '10.231.50.1', pool: { start: '10.231.50.100', end: '10.231.50.150' } });
    expect(config.boot.autoEnrol).toBe(true);
    expect(config.dataDir).toBe('/tmp/x/data');
  });
});
