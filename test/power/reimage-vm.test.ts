// End to end: a qemu guest whose BMC is OpenIPMI's ipmi_sim (qemu's ipmi-bmc-extern wired to ipmi_sim's VM
// serial interface; ipmi_sim starts qemu as its power-on command). `racklift node reimage --power` must make
// the running VM reboot into PXE and reach the installer with the new install generation, no other hand on it.
// Everything runs inside the e2e harness's network namespace (test/e2e/harness, used as is).
import { existsSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatEvents, REPO_ROOT } from '../e2e/harness/appliance.ts';
import { startLab, type Lab } from '../e2e/harness/lab.ts';
import { skipReason } from '../e2e/harness/preflight.ts';
import { installTokenOnConsole, seconds } from '../e2e/harness/scenario.ts';
import { acquireVmSlot } from '../e2e/harness/vm-slot.ts';
import { plainConsole, qemuArgs, tail } from '../e2e/harness/vm.ts';
import { haveIpmiSim, startIpmiSim, type IpmiSim } from './ipmi-sim.ts';

const skip = skipReason('power: reimage --power of a VM through ipmi_sim', { installer: true }) ?? (haveIpmiSim ? null : 'ipmi_sim or ipmitool missing');
if (!haveIpmiSim) console.warn('test/power/reimage-vm: skipped: ipmi_sim or ipmitool missing (Debian openipmi, ipmitool)');

const MAC = '52:54:00:e2:90:01';
const LAN_PORT = 9623; // inside the lab namespace: its own loopback
const VM_PORT = 9002;
const INSTALLER_MS = 6 * 60_000;
const SLOT_WAIT_MS = 15 * 60_000;
/** Under TCG on a loaded machine the installer took 344 s from the power cycle to its Preseed request. */
const PRESEED_MS = 10 * 60_000;

const shellQuote = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`;

describe.skipIf(skip !== null)('reimage --power of a running VM through its IPMI BMC', () => {
  let lab: Lab;
  let sim: IpmiSim | null = null;
  let releaseSlot: (() => void) | null = null;
  let pidFile = '';
  let serialPath = '';
  const timings: string[] = [];

  const killQemu = () => {
    if (!pidFile || !existsSync(pidFile)) return;
    try {
      process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGKILL');
    } catch {
      /* already gone */
    }
  };
  const consoleText = () => (existsSync(serialPath) ? plainConsole(readFileSync(serialPath, 'latin1')) : '');
  const racklift = (args: string[]) => lab.network.exec(process.execPath, [join(REPO_ROOT, 'bin', 'racklift.js'), '--config', lab.appliance.configPath, ...args]);
  const waitForConsole = async (test: (text: string) => boolean, what: string, timeoutMs: number) => {
    const until = Date.now() + timeoutMs;
    while (!test(consoleText())) {
      if (Date.now() > until) throw new Error(`console did not show ${what} within ${timeoutMs / 1000} s\n${tail(consoleText())}`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  };

  beforeAll(async () => {
    process.on('exit', killQemu);
    // The appliance as the link's router, so the installer's network setup does not stop to ask about it.
    lab = await startLab({ settings: { 'provisioning.gateway': '10.231.50.1' } });
    releaseSlot = await acquireVmSlot(SLOT_WAIT_MS);
    serialPath = join(lab.workDir, 'bmc-vm.serial.log');
    pidFile = join(lab.workDir, 'bmc-vm.pid');
    // The harness's qemu command line (TCG, serial console, tap in the namespace, network first), plus the
    // BMC wiring; the console log is appended to so both boots stay readable.
    const args = qemuArgs(
      { namespace: lab.network.name, tap: lab.network.taps[0]!, mac: MAC, firmware: 'bios', workDir: lab.workDir, label: 'bmc-vm', memoryMiB: 1024, bootOrder: 'n' },
      serialPath,
    ).map((arg) => (arg.includes(`logfile=${serialPath}`) ? `${arg},logappend=on` : arg));
    args.push('-chardev', `socket,id=ipmi0,host=127.0.0.1,port=${VM_PORT},reconnect=10`, '-device', 'ipmi-bmc-extern,chardev=ipmi0,id=bmc0', '-device', 'isa-ipmi-bt,bmc=bmc0');
    const script = join(lab.workDir, 'bmc-vm.sh');
    writeFileSync(script, `#!/bin/sh\necho $$ > ${shellQuote(pidFile)}\nexec qemu-system-x86_64 ${args.map(shellQuote).join(' ')}\n`);
    chmodSync(script, 0o755);
    sim = await startIpmiSim({ namespace: lab.network.name, port: LAN_PORT, vmPort: VM_PORT, startcmd: script });
  }, SLOT_WAIT_MS + 2 * 60_000); // VMs run one at a time machine-wide: another test's VM may hold the slot

  afterAll(async () => {
    if (timings.length > 0) process.stdout.write(`[power e2e] timings (TCG):\n  ${timings.join('\n  ')}\n`);
    killQemu();
    await sim?.stop();
    killQemu();
    releaseSlot?.();
    await lab?.close();
  });

  it('powers the VM on through the BMC, then reimage --power reboots it into the installer of the new generation', async () => {
    racklift(['node', 'add', MAC, '--hostname', 'bmc-vm', '--profile', 'debian-12']);
    writeFileSync(join(lab.workDir, 'bmc.pw'), `${sim!.password}\n`);
    racklift(['node', 'bmc', 'bmc-vm', '--driver', 'ipmi', '--address', '127.0.0.1', '--port', String(LAN_PORT), '--user', sim!.username, '--password-file', join(lab.workDir, 'bmc.pw')]);
    expect(racklift(['node', 'power', 'bmc-vm', 'status'])).toMatch(/power is off/);

    const poweredOn = Date.now();
    expect(racklift(['node', 'power', 'bmc-vm', 'on'])).toMatch(/power on through the BMC/);
    await waitForConsole((text) => installTokenOnConsole(text) !== null && /Linux version/.test(text), 'the installer kernel (first generation)', INSTALLER_MS);
    timings.push(`power on (IPMI) to installer kernel: ${seconds(poweredOn)} s`);
    const firstToken = installTokenOnConsole(consoleText())!;
    const bootsBefore = consoleText().split('Linux version').length - 1;
    const afterId = lab.appliance.lastEventId();

    const reimaged = Date.now();
    const output = racklift(['node', 'reimage', 'bmc-vm', '--power']);
    expect(output).toMatch(/install generation 2/);
    expect(output).toMatch(/ok +re-image: power-cycled through the BMC/);

    await waitForConsole(
      (text) => text.split('Linux version').length - 1 > bootsBefore && (installTokenOnConsole(text) ?? firstToken) !== firstToken,
      'the installer kernel again, with a new install token',
      INSTALLER_MS,
    );
    timings.push(`reimage --power to installer kernel: ${seconds(reimaged)} s`);

    const events = lab.appliance.events(afterId).filter((e) => e.mac === MAC);
    const log = formatEvents(events);
    expect(events.find((e) => e.to_state === 'assigned')?.message, log).toMatch(/install generation 2/);
    expect(events.some((e) => e.kind === 'power' && /power-cycled through the BMC/.test(e.message)), log).toBe(true);
    // The second boot asked the appliance again and was handed the installer of the new generation.
    expect(events.some((e) => e.kind === 'boot' && /generation 2/.test(e.message)), log).toBe(true);
    expect(lab.appliance.node(MAC)?.generation).toBe(2);
    // With RACKLIFT_E2E_POWER_INSTALL=1, also wait until the installer fetched its Preseed (about 2 more minutes).
    if (process.env.RACKLIFT_E2E_POWER_INSTALL === '1') {
      await lab.appliance.waitForState(MAC, 'installing', PRESEED_MS).catch((error: Error) => {
        throw new Error(`${error.message}\n${tail(consoleText())}`);
      });
      timings.push(`reimage --power to Preseed fetched (installing): ${seconds(reimaged)} s`);
    }
    process.stdout.write(`[power e2e] events after reimage:\n${log}\n`);
  }, 2 * INSTALLER_MS + PRESEED_MS);
});
