// The IPMI driver against a real BMC simulator (OpenIPMI ipmi_sim) over lanplus on loopback.
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PowerError } from '../../server/power/driver.ts';
import { IpmiDriver } from '../../server/power/ipmi.ts';
import { withDeadline } from '../../server/power/limit.ts';
import { freeUdpPort, haveIpmiSim, startIpmiSim, type IpmiSim } from './ipmi-sim.ts';

if (!haveIpmiSim) console.warn('test/power/ipmi: skipped, ipmi_sim or ipmitool missing (Debian packages openipmi, ipmitool)');

const signal = () => AbortSignal.timeout(20_000);
const bmcOf = (sim: IpmiSim, overrides: Record<string, unknown> = {}) => ({
  driver: 'ipmi' as const,
  address: '127.0.0.1',
  port: sim.port,
  username: sim.username,
  password: sim.password,
  ...overrides,
});

describe.skipIf(!haveIpmiSim)('IPMI driver against ipmi_sim (chassis control)', () => {
  let sim: IpmiSim;
  beforeAll(async () => {
    sim = await startIpmiSim();
  });
  afterAll(async () => {
    await sim?.stop();
  });

  it('reads the power state, powers on, off and cycles', async () => {
    const driver = new IpmiDriver(bmcOf(sim));
    expect(await driver.status(signal())).toBe('off');
    await driver.on(signal());
    expect(sim.chassis('power')).toBe('1');
    expect(await driver.status(signal())).toBe('on');
    await driver.off(signal());
    expect(await driver.status(signal())).toBe('off');

    await driver.cycle(signal()); // off -> on, no cycle command for a machine that is off
    expect(await driver.status(signal())).toBe('on');
    const before = sim.chassisCalls().length;
    await driver.cycle(signal()); // on -> off, then the simulator powers it back on
    const calls = sim.chassisCalls().slice(before);
    expect(calls).toContain('set power 0');
    for (let i = 0; i < 50 && sim.chassis('power') !== '1'; i += 1) await new Promise((r) => setTimeout(r, 100));
    expect(sim.chassisCalls().slice(before).filter((c) => c.startsWith('set power'))).toEqual(['set power 0', 'set power 1']);
    expect(await driver.status(signal())).toBe('on');
  });

  it('sets the next boot device: network once, then disk', async () => {
    const driver = new IpmiDriver(bmcOf(sim));
    await driver.setNextBoot('network-once', signal());
    expect(sim.chassis('boot')).toBe('pxe');
    await driver.setNextBoot('disk', signal());
    expect(sim.chassis('boot')).toBe('default'); // ipmi_sim's name for "force boot from default hard drive"
    await new IpmiDriver(bmcOf(sim), { uefi: true }).setNextBoot('network-once', signal());
    expect(sim.chassis('boot')).toBe('pxe');
  });

  it('refuses a wrong password with a reason that names it', async () => {
    const driver = new IpmiDriver(bmcOf(sim, { password: 'not-the-password' }));
    const error = await driver.status(signal()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PowerError);
    expect((error as PowerError).failure).toBe('auth');
    expect((error as PowerError).message).toMatch(/refused the password/);
    expect((error as PowerError).message).not.toContain('not-the-password');
  });

  it('refuses an unknown user', async () => {
    const error = await new IpmiDriver(bmcOf(sim, { username: 'nobody' })).status(signal()).catch((e: unknown) => e);
    expect((error as PowerError).failure).toBe('auth');
    expect((error as PowerError).message).toMatch(/does not know this user/);
  });

  it('says when nothing answers', async () => {
    const port = await freeUdpPort();
    const driver = new IpmiDriver(bmcOf(sim, { port }), { answerTimeoutSeconds: 1, retries: 1 });
    const error = await driver.status(signal()).catch((e: unknown) => e);
    expect((error as PowerError).failure).toBe('unreachable');
    expect((error as PowerError).message).toContain(`127.0.0.1:${port}`);
  });
});

describe.skipIf(!haveIpmiSim)('IPMI driver against ipmi_sim (startcmd as the machine)', () => {
  let sim: IpmiSim;
  beforeAll(async () => {
    sim = await startIpmiSim({ startcmd: 'sleep 1000' });
  });
  afterAll(async () => {
    await sim?.stop();
  });

  it('powers a process on, off and through a cycle; boot device changes are refused', async () => {
    const driver = new IpmiDriver(bmcOf(sim));
    expect(await driver.status(signal())).toBe('off');
    await driver.on(signal());
    expect(await driver.status(signal())).toBe('on');
    await driver.cycle(signal());
    for (let i = 0; i < 50 && (await driver.status(signal())) !== 'on'; i += 1) await new Promise((r) => setTimeout(r, 100));
    expect(await driver.status(signal())).toBe('on');
    await driver.off(signal());
    for (let i = 0; i < 50 && (await driver.status(signal())) !== 'off'; i += 1) await new Promise((r) => setTimeout(r, 100));
    expect(await driver.status(signal())).toBe('off');

    const error = await driver.setNextBoot('network-once', signal()).catch((e: unknown) => e);
    expect((error as PowerError).failure).toBe('refused');
    expect((error as PowerError).message).toMatch(/Invalid data field/);
  });
});

describe('IPMI driver command line', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'rl-power-fake-ipmitool-'));
    // Stands in for ipmitool: records its arguments and whether the password came through the environment.
    writeFileSync(
      join(dir, 'ipmitool'),
      `#!/bin/sh\nprintf '%s\\n' "$@" > "${dir}/argv"\nprintf '%s' "$IPMI_PASSWORD" > "${dir}/env-password"\necho "Chassis Power is on"\n`,
    );
    chmodSync(join(dir, 'ipmitool'), 0o755);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('passes the password in the environment (-E), never as an argument', async () => {
    const driver = new IpmiDriver(
      { driver: 'ipmi', address: 'bmc-7.example', port: 6230, username: 'ops', password: 'pa ss"word$1' },
      { binary: join(dir, 'ipmitool') },
    );
    expect(await driver.status(signal())).toBe('on');
    const argv = readFileSync(join(dir, 'argv'), 'utf8').split('\n');
    expect(argv.join(' ')).not.toContain('pa ss');
    expect(argv).toContain('-E');
    expect(argv).not.toContain('-P');
    expect(argv.slice(0, 8)).toEqual(['-I', 'lanplus', '-H', 'bmc-7.example', '-p', '6230', '-U', 'ops']);
    expect(readFileSync(join(dir, 'env-password'), 'utf8')).toBe('pa ss"word$1');
  });

  it('kills an ipmitool that outlives the deadline', async () => {
    writeFileSync(join(dir, 'slow-ipmitool'), `#!/bin/sh\necho $$ > "${dir}/slow-pid"\nexec sleep 30\n`);
    chmodSync(join(dir, 'slow-ipmitool'), 0o755);
    const driver = new IpmiDriver({ driver: 'ipmi', address: '127.0.0.1', username: 'u', password: 'p' }, { binary: join(dir, 'slow-ipmitool') });
    const error = await withDeadline(500, 'BMC 127.0.0.1:623 power status', (deadline) => driver.status(deadline)).catch((e: unknown) => e);
    expect((error as PowerError).failure).toBe('timeout');
    expect((error as PowerError).message).toMatch(/no answer within 0.5 s/);
    const pid = Number(readFileSync(join(dir, 'slow-pid'), 'utf8'));
    await new Promise((r) => setTimeout(r, 200));
    expect(() => process.kill(pid, 0)).toThrow();
  });

  it('says so when ipmitool is missing', async () => {
    const driver = new IpmiDriver({ driver: 'ipmi', address: '127.0.0.1', username: 'u', password: 'p' }, { binary: join(dir, 'no-such-ipmitool') });
    await expect(driver.status(signal())).rejects.toThrow(/ipmitool is not installed/);
  });
});
