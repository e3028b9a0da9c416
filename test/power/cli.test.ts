// `racklift node bmc|power|reimage --power` as an operator runs them, against ipmi_sim.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveIpmiSim, startIpmiSim, type IpmiSim } from './ipmi-sim.ts';

const bin = resolve(import.meta.dirname, '../../bin/racklift.js');

describe.skipIf(!haveIpmiSim)('racklift node bmc / power / reimage --power', () => {
  let sim: IpmiSim;
  let dataDir: string;
  const racklift = (args: string[], input?: string) => {
    const run = spawnSync(process.execPath, [bin, ...args], {
      env: { PATH: process.env.PATH, RACKLIFT_DATA_DIR: dataDir, RACKLIFT_LOG_LEVEL: 'silent' },
      input,
      encoding: 'utf8',
      timeout: 60_000,
    });
    return { code: run.status, out: run.stdout, err: run.stderr };
  };

  beforeAll(async () => {
    sim = await startIpmiSim();
    dataDir = mkdtempSync(join(tmpdir(), 'rl-power-cli-'));
  });
  afterAll(async () => {
    await sim?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('sets the BMC from stdin, tests it, powers the node and re-images it with power', () => {
    expect(racklift(['node', 'add', '52:54:00:aa:00:01', '--hostname', 'cli1', '--profile', 'debian-12']).code).toBe(0);
    const set = racklift(['node', 'bmc', 'cli1', '--driver', 'ipmi', '--address', '127.0.0.1', '--port', String(sim.port), '--user', sim.username, '--password-stdin'], `${sim.password}\n`);
    expect(set).toMatchObject({ code: 0 });
    expect(set.out).toContain(`BMC ipmi ${sim.username}@127.0.0.1:${sim.port}, password (set)`);

    const test = racklift(['node', 'power', 'cli1', 'test']);
    expect(test.code).toBe(0);
    expect(test.out).toMatch(/test connection ok .*power is off/);
    expect(racklift(['node', 'power', 'cli1', 'on']).code).toBe(0);
    expect(sim.chassis('power')).toBe('1');

    const reimage = racklift(['node', 'reimage', 'cli1', '--power']);
    expect(reimage.code).toBe(0);
    expect(reimage.out).toMatch(/is assigned, install generation 2/);
    expect(reimage.out).toMatch(/ok +re-image: next boot set to the network \(once\)/);
    expect(reimage.out).toMatch(/ok +re-image: power-cycled through the BMC/);
    expect(sim.chassis('boot')).toBe('pxe');
    expect(sim.chassisCalls()).toContain('set power 0');

    const shown = racklift(['node', 'show', 'cli1', '--json']);
    expect(shown.out).not.toContain(sim.password);
    expect(JSON.parse(shown.out)).toMatchObject({ powerState: 'on', bmc: { password: '(set)' } });
  });

  it('refuses bad BMC input and a wrong password, with reasons', () => {
    const bad = racklift(['node', 'bmc', 'cli1', '--driver', 'ipmi', '--address', '10.0.0.1 -P x', '--user', 'admin']);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/IPv4 address or a host name/);
    writeFileSync(join(dataDir, 'wrong'), 'wrong-password\n');
    racklift(['node', 'bmc', 'cli1', '--driver', 'ipmi', '--address', '127.0.0.1', '--port', String(sim.port), '--user', sim.username, '--password-file', join(dataDir, 'wrong')]);
    const refused = racklift(['node', 'power', 'cli1', 'test']);
    expect(refused.code).toBe(1);
    expect(refused.out).toMatch(/refused the password/);
  });
});
