// 500 TFTP read requests at once from a private namespace (a rack powering on): the listening socket's receive
// buffer is sized like DHCP's, so the kernel drops none of them (UDP RcvbufErrors of the server's namespace),
// and each is answered. Needs root.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLab, netnsUsable, REPO_ROOT, spawnIn, type Lab, type NsProcess } from '../dhcp/helpers/lab.ts';

const usable = netnsUsable();
if (!usable) console.warn('test/security/tftp-burst.test.ts: SKIPPED - needs root and network namespaces');

/** The namespace's UDP counters from /proc/net/snmp. */
function udpCounters(ns: string): Record<string, number> {
  const lines = execFileSync('ip', ['netns', 'exec', ns, 'cat', '/proc/net/snmp'], { encoding: 'utf8' }).split('\n').filter((line) => line.startsWith('Udp:'));
  const names = lines[0]!.split(/\s+/).slice(1);
  const values = lines[1]!.split(/\s+/).slice(1).map(Number);
  return Object.fromEntries(names.map((name, i) => [name, values[i]!]));
}

describe.skipIf(!usable)('a burst of TFTP requests', () => {
  let lab: Lab;
  let appliance: NsProcess;

  beforeAll(async () => {
    lab = createLab('t');
    const bootDir = join(lab.workDir, 'boot');
    mkdirSync(bootDir);
    writeFileSync(join(bootDir, 'small.bin'), Buffer.alloc(4096, 0x5a));
    const configPath = join(lab.workDir, 'racklift.yaml');
    writeFileSync(configPath, stringify({
      dataDir: join(lab.workDir, 'data'),
      bootDir,
      log: { level: 'warn' },
      http: { host: '127.0.0.1', port: 0 },
      provisioning: { interface: lab.serverIf, address: '10.231.10.1', subnet: '10.231.10.0/24', pool: { start: '10.231.10.100', end: '10.231.10.102' } },
      dhcp: { enabled: false },
      tftp: { enabled: true },
      orchestrator: { enabled: false },
    }));
    appliance = spawnIn(lab.server, process.execPath, [join(REPO_ROOT, 'bin', 'racklift.js'), '--config', configPath, 'serve'], { env: { PATH: process.env.PATH, HOME: lab.workDir, RACKLIFT_LOG_LEVEL: 'info' } });
    await appliance.waitFor(/tftp listening/, 60_000);
  }, 90_000);

  afterAll(async () => {
    await appliance?.stop();
    lab?.destroy();
  });

  it('drops none of 500 read requests sent at once, and answers each', async () => {
    const before = udpCounters(lab.server);
    const client = spawnIn(lab.client, process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'test/security/tftp-burst-client.ts'), '10.231.10.1', '69', 'small.bin', '500']);
    const line = await client.waitFor(/\{"sent":\d+,"answered":\d+\}/, 60_000);
    await client.stop();
    const after = udpCounters(lab.server);
    expect(after.RcvbufErrors! - before.RcvbufErrors!, appliance.output().slice(-1500)).toBe(0);
    expect(JSON.parse(line)).toEqual({ sent: 500, answered: 500 });
  }, 90_000);
});
