// The forged-done attack over real loopback sockets. The provisioning subnet of this appliance is a loopback
// range (127.231.4.0/24), so a test can be the machine at a node's reserved address, or any other machine.
// Anyone can read a node's install token from /boot.ipxe?mac=...; only the node's address may use it, done is
// one claim per install generation, and a second machine claiming the node fails it, visibly.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHttp } from '../../server/http/server.ts';
import type { StoredNode } from '../../server/store/nodes.ts';
import { httpFrom, leaseTo } from '../helpers/http-from.ts';
import { assignedNode, makeFixture, SAMPLE_HOST_KEY, type Fixture } from '../render/fixture.ts';

const ATTACKER_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGF0dGFja2VyLWhvc3Qta2V5LWZvci10ZXN0cy1vbmx5IQ attacker@evil';

let fixture: Fixture;
let base: string;
let close: () => Promise<void>;
let mac = 0x40;

beforeAll(async () => {
  fixture = makeFixture({
    'http.publicUrl': 'http://127.231.4.1:8080',
    'provisioning.address': '127.231.4.1',
    'provisioning.subnet': '127.231.4.0/24',
    'provisioning.gateway': '127.231.4.254',
    'provisioning.dns': ['127.231.4.1'],
    'provisioning.ntp': ['127.231.4.1'],
    'provisioning.pool': { start: '127.231.4.100', end: '127.231.4.199' },
  });
  const http = await startHttp(fixture.ctx);
  base = `http://127.0.0.1:${http.port}`;
  close = http.close;
});
afterAll(async () => {
  await close?.();
  fixture?.cleanup();
});

const attacker = () => httpFrom(base, '127.231.4.66');
const node = (address: string) =>
  assignedNode(fixture.ctx, 'debian-12', { hostname: `claim-${mac}`, address, mac: `52:54:00:04:01:${(mac++).toString(16).padStart(2, '0')}` });
const reload = (n: StoredNode) => fixture.ctx.store.nodes.get(n.id)!;
const eventsOf = (n: StoredNode) => fixture.ctx.store.events.listForNode(n.id, 100);
const tokenFromBootScript = async (n: StoredNode) => /\/install\/([A-Za-z0-9_-]{32})\//.exec(await (await fetch(`${base}/boot.ipxe?mac=${n.mac}`)).text())![1]!;

describe('installer callbacks only from the node', () => {
  it('refuses a forged done from another address (403, an event naming it), then takes the real one', async () => {
    const victim = node('127.231.4.20');
    const token = await tokenFromBootScript(victim);
    const forged = await attacker().post(`/install/${token}/done`, ATTACKER_KEY);
    expect(forged.status).toBe(403);
    expect(reload(victim)).toMatchObject({ state: 'assigned', sshHostKey: null });
    expect(eventsOf(victim)[0]).toMatchObject({ kind: 'token-refused', source: '127.231.4.66', message: expect.stringContaining('from 127.231.4.66 refused') });
    expect(eventsOf(victim)[0]!.message).toContain('127.231.4.20');

    const real = httpFrom(base, '127.231.4.20');
    expect((await real.get(`/install/${token}/preseed`)).status).toBe(200);
    expect((await real.post(`/install/${token}/done`, SAMPLE_HOST_KEY)).status).toBe(200);
    expect(reload(victim)).toMatchObject({ state: 'installed', sshHostKey: SAMPLE_HOST_KEY, installDoneFrom: '127.231.4.20' });
  });

  it('serves no installer file (root password hash) to another address', async () => {
    const victim = node('127.231.4.21');
    const token = await tokenFromBootScript(victim);
    const stolen = await attacker().get(`/install/${token}/preseed`);
    expect(stolen.status).toBe(403);
    expect(stolen.body).not.toContain('$6$');
    expect(reload(victim).state).toBe('assigned');
  });

  it('accepts callbacks from an address the appliance leased to the MAC (no reservation)', async () => {
    const pooled = assignedNode(fixture.ctx, 'debian-12', { hostname: 'claim-pool', address: null, mac: '52:54:00:04:02:01' });
    const token = fixture.ctx.services.nodes.installTokenOf(pooled)!;
    expect((await httpFrom(base, '127.231.4.150').get(`/install/${token}/preseed`)).status).toBe(403);
    leaseTo(fixture.ctx, pooled.mac, '127.231.4.150', '127.231.4.0/24');
    expect((await httpFrom(base, '127.231.4.150').get(`/install/${token}/preseed`)).status).toBe(200);
  });

  it('records the source address of every callback in the event log', async () => {
    const n = node('127.231.4.22');
    const token = fixture.ctx.services.nodes.installTokenOf(n)!;
    const from = httpFrom(base, '127.231.4.22');
    await from.get(`/install/${token}/preseed`);
    await from.post(`/install/${token}/started`);
    await from.post(`/install/${token}/done`, SAMPLE_HOST_KEY);
    const callbacks = eventsOf(n).filter((e) => e.actor === 'installer');
    expect(callbacks.length).toBeGreaterThanOrEqual(2);
    for (const event of callbacks) expect(event.source, event.message).toBe('127.231.4.22');
  });
});

describe('done is one claim per install generation', () => {
  it('answers the same done from the same machine again and changes nothing', async () => {
    const n = node('127.231.4.30');
    const token = fixture.ctx.services.nodes.installTokenOf(n)!;
    const real = httpFrom(base, '127.231.4.30');
    expect((await real.post(`/install/${token}/done`, SAMPLE_HOST_KEY)).status).toBe(200);
    expect((await real.post(`/install/${token}/done`, SAMPLE_HOST_KEY)).status).toBe(200);
    expect(reload(n)).toMatchObject({ state: 'installed', sshHostKey: SAMPLE_HOST_KEY });
  });

  it('fails the node when a second machine claims it (another host key), with an event that says so', async () => {
    const n = node('127.231.4.31');
    const token = await tokenFromBootScript(n);
    // The attacker also took the node's address: its forged done is accepted first.
    const spoofer = httpFrom(base, '127.231.4.31');
    expect((await spoofer.post(`/install/${token}/done`, ATTACKER_KEY)).status).toBe(200);
    expect(reload(n).state).toBe('installed');
    // The real installer's done arrives later: it must not vanish in a 404.
    const late = await httpFrom(base, '127.231.4.31').post(`/install/${token}/done`, SAMPLE_HOST_KEY);
    expect(late.status).toBe(409);
    const failed = reload(n);
    expect(failed.state).toBe('failed');
    expect(failed.failedReason).toMatch(/two machines claimed/);
    const conflict = eventsOf(n).find((e) => e.kind === 'claim-conflict');
    expect(conflict?.message).toMatch(/two machines claimed claim-\d+ \(install generation 1\)/);
    expect(conflict?.source).toBe('127.231.4.31');
  });

  it('fails the node when a failure report follows its done', async () => {
    const n = node('127.231.4.32');
    const token = fixture.ctx.services.nodes.installTokenOf(n)!;
    const from = httpFrom(base, '127.231.4.32');
    expect((await from.post(`/install/${token}/done`, SAMPLE_HOST_KEY)).status).toBe(200);
    expect((await from.post(`/install/${token}/failed`, 'disk vanished')).status).toBe(409);
    expect(reload(n).state).toBe('failed');
  });

  it('keeps refusing the token of an older generation with 404 after a re-image', async () => {
    const n = node('127.231.4.33');
    const old = fixture.ctx.services.nodes.installTokenOf(n)!;
    const from = httpFrom(base, '127.231.4.33');
    expect((await from.post(`/install/${old}/done`, SAMPLE_HOST_KEY)).status).toBe(200);
    const again = fixture.ctx.services.nodes.reimage(n.id, 'test');
    expect(again.installDoneFrom).toBeNull();
    expect((await from.post(`/install/${old}/done`, SAMPLE_HOST_KEY)).status).toBe(404);
    expect(reload(n).state).toBe('assigned');
  });
});
