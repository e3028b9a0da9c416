// GET /metrics: the real appliance (startAppliance, as `racklift serve` runs it) on loopback answers a DHCP
// DISCOVER, a TFTP read and HTTP requests, then a Prometheus scrape with an API token shows all of them,
// the nodes per state, and an install's duration; without a token the scrape is refused.
import { execFile } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../server/config.ts';
import { Accounts } from '../../server/http/auth/accounts.ts';
import { createLogger } from '../../server/log.ts';
import { startAppliance, type Appliance } from '../../server/main.ts';
import { MessageType } from '../../server/dhcp/options.ts';
import { clientPacket } from '../dhcp/helpers/packets.ts';

let dir: string;
let appliance: Appliance;
let base: string;
let token: string;
const tftpPort = 20_000 + Math.floor(Math.random() * 20_000);
const dhcpPort = tftpPort + 1;

async function scrape(auth = true): Promise<{ status: number; text: string; type: string | null }> {
  const res = await fetch(`${base}/metrics`, { headers: auth ? { authorization: `Bearer ${token}` } : {} });
  return { status: res.status, text: await res.text(), type: res.headers.get('content-type') };
}

function sample(text: string, name: string, labels: string): number | null {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`) || (labels === '' && l.startsWith(`${name} `)));
  return line ? Number(line.split(' ').at(-1)) : null;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rl-metrics-'));
  const bootDir = join(dir, 'boot');
  mkdirSync(bootDir);
  writeFileSync(join(bootDir, 'undionly.kpxe'), Buffer.alloc(5000, 7));
  const config = loadConfig({
    env: {},
    cwd: dir,
    overrides: {
      dataDir: join(dir, 'data'),
      bootDir,
      'http.host': '127.0.0.1',
      'http.port': 0,
      'provisioning.address': '127.0.0.1',
      'provisioning.subnet': '127.0.0.0/24',
      'provisioning.pool': { start: '127.0.0.100', end: '127.0.0.150' },
      'dhcp.enabled': true,
      'dhcp.host': '127.0.0.1',
      'dhcp.port': dhcpPort,
      'tftp.enabled': true,
      'tftp.host': '127.0.0.1',
      'tftp.port': tftpPort,
      'orchestrator.enabled': false,
      // Shares the host's loopback with other tests: no apt-cacher-ng on 127.0.0.1:3142 here.
      'packageCache.enabled': false,
      'http.tls.enabled': false,
    },
  });
  appliance = await startAppliance(config, createLogger('silent'));
  const http = appliance.services.find((service) => service.name === 'http') as unknown as { port: number };
  base = `http://127.0.0.1:${http.port}`;
  const accounts = new Accounts(appliance.ctx.store);
  await accounts.addUser('prometheus', 'a long enough password', 'viewer');
  token = accounts.createApiToken('prometheus', 'scrape').token;
});

afterAll(async () => {
  await appliance?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('GET /metrics', () => {
  it('refuses a scrape without a user', async () => {
    expect((await scrape(false)).status).toBe(401);
  });

  it('counts DHCP, TFTP and HTTP work, nodes per state and install durations', async () => {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    socket.send(clientPacket({ type: MessageType.DISCOVER, mac: '52:54:00:15:0e:01', vendorClass: 'PXEClient:Arch:00000:UNDI:002001', archCode: 0 }), dhcpPort, '127.0.0.1');
    socket.send(clientPacket({ type: MessageType.REQUEST, mac: '52:54:00:15:0e:01', vendorClass: 'PXEClient:Arch:00000:UNDI:002001', archCode: 0, requestedAddress: '127.0.0.100', serverId: '127.0.0.1' }), dhcpPort, '127.0.0.1');
    socket.send(Buffer.from('not dhcp'), dhcpPort, '127.0.0.1');
    await promisify(execFile)('curl', ['-sS', '-o', '/dev/null', `tftp://127.0.0.1:${tftpPort}/undionly.kpxe`]);
    await promisify(execFile)('curl', ['-s', '-o', '/dev/null', `tftp://127.0.0.1:${tftpPort}/missing.efi`]).catch(() => null);
    expect((await fetch(`${base}/boot/undionly.kpxe`)).status).toBe(200);
    expect((await fetch(`${base}/boot/missing.efi`)).status).toBe(404);
    socket.close();

    const { services, store } = appliance.ctx;
    // DHCP records the new machine off the packet path, a moment later.
    for (let i = 0; i < 100 && !services.nodes.findByMac('52:54:00:15:0e:01'); i++) await new Promise((resolve) => setTimeout(resolve, 50));
    const node = services.nodes.add('52:54:00:15:0e:02', { hostname: 'm1', profile: 'debian-12' }, 'test');
    services.nodes.apply(node, { kind: 'install-started' }, 'test');
    services.nodes.apply(store.nodes.get(node.id)!, { kind: 'install-done' }, 'test');

    const { status, text, type } = await scrape();
    expect(status).toBe(200);
    expect(type).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(sample(text, 'racklift_dhcp_total', 'counter="received"')).toBe(3);
    expect(sample(text, 'racklift_dhcp_total', 'counter="offers"')).toBe(1);
    expect(sample(text, 'racklift_dhcp_total', 'counter="acks"')).toBe(1);
    expect(sample(text, 'racklift_dhcp_total', 'counter="malformed"')).toBe(1);
    expect(sample(text, 'racklift_tftp_total', 'counter="transfersCompleted"')).toBe(1);
    expect(sample(text, 'racklift_tftp_total', 'counter="errorsSent"')).toBe(1);
    expect(sample(text, 'racklift_tftp_transfers_in_flight', '')).toBe(0);
    expect(sample(text, 'racklift_http_requests_total', 'route="boot-files",status="200"')).toBe(1);
    expect(sample(text, 'racklift_http_requests_total', 'route="boot-files",status="404"')).toBe(1);
    expect(sample(text, 'racklift_http_requests_total', 'route="metrics",status="401"')).toBe(1);
    expect(sample(text, 'racklift_nodes', 'state="installed"')).toBe(1);
    expect(sample(text, 'racklift_nodes', 'state="discovered"')).toBe(1);
    expect(sample(text, 'racklift_installs_total', 'outcome="installed"')).toBe(1);
    expect(sample(text, 'racklift_install_duration_seconds_count', '')).toBe(1);
    expect(text).toMatch(/^# TYPE racklift_stage_duration_seconds histogram$/m);
  });
});
