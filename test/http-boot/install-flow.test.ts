// The HTTP boot chain end to end over a real socket: /boot.ipxe per target, the installer file moving the node
// to installing, tokens refused when wrong, old or used, and the done callback flipping every route to local.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHttp } from '../../server/http/server.ts';
import { renderPxelinuxConfig } from '../../server/render/pxelinux.ts';
import type { StoredNode } from '../../server/store/nodes.ts';
import { httpFrom, leaseTo } from '../helpers/http-from.ts';
import { assignedNode, makeFixture, SAMPLE_HOST_KEY, type Fixture } from '../render/fixture.ts';

let fixture: Fixture;
let base: string;
let close: () => Promise<void>;

beforeAll(async () => {
  fixture = makeFixture();
  const http = await startHttp(fixture.ctx);
  base = `http://127.0.0.1:${http.port}`;
  close = http.close;
});

afterAll(async () => {
  await close?.();
  fixture?.cleanup();
});

const get = (path: string) => fetch(`${base}${path}`);
let nextSource = 20;
/** The node's installer: requests from the loopback address the appliance leased to the node's MAC. */
const installerOf = (node: StoredNode) => {
  const source = `127.0.4.${nextSource++}`;
  leaseTo(fixture.ctx, node.mac, source);
  return httpFrom(base, source);
};
const tokenIn = (script: string) => /\/install\/([A-Za-z0-9_-]{32})\//.exec(script)?.[1];
const eventsOf = (kind: string) => fixture.ctx.store.events.listRecent(500).filter((event) => event.kind === kind);

describe('GET /boot.ipxe', () => {
  it('answers an unknown MAC with local boot (exit), not a 404', async () => {
    const response = await get('/boot.ipxe?mac=52:54:00:04:ff:01');
    expect(response.status).toBe(200);
    const script = await response.text();
    expect(script.startsWith('#!ipxe\n')).toBe(true);
    expect(script).toMatch(/^exit$/m);
  });

  it('re-chains with the MAC when none was given', async () => {
    const script = await (await get('/boot.ipxe')).text();
    expect(script).toContain('boot.ipxe?mac=${net0/mac}');
  });

  it('answers a bad MAC with a script that says so', async () => {
    const script = await (await get('/boot.ipxe?mac=not-a-mac')).text();
    expect(script).toMatch(/^#!ipxe\necho racklift: cannot boot/);
  });

  it('answers a render failure with a script naming the reason, and records it', async () => {
    const node = assignedNode(fixture.ctx, 'debian-12', { hostname: 'missing-kernel' });
    fixture.ctx.store.profiles.upsert({ ...fixture.ctx.store.profiles.get('debian-12')!, name: 'debian-12-nokernel', kernel: 'nowhere/linux' });
    fixture.ctx.store.nodes.update(node.id, { profile: 'debian-12-nokernel' });
    const response = await get(`/boot.ipxe?mac=${node.mac}`);
    expect(response.status).toBe(200);
    const script = await response.text();
    expect(script).toContain('boot/nowhere/linux is missing; run: racklift os import debian-12-nokernel');
    expect(script).toContain('chain --replace --autofree');
    expect(eventsOf('render-failed').some((event) => event.nodeId === node.id)).toBe(true);
  });
});

describe('one install, start to finish', () => {
  it('boots the installer, serves the preseed once per generation, and turns to local boot after done', async () => {
    const ctx = fixture.ctx;
    const node = assignedNode(ctx, 'debian-12', { hostname: 'flow-1' });
    const script = await (await get(`/boot.ipxe?mac=${node.mac}`)).text();
    expect(script).toContain(`kernel ${ctx.config.publicUrl}/boot/debian-12/linux`);
    expect(script).toContain(`initrd --name initrd.gz ${ctx.config.publicUrl}/boot/debian-12/initrd.gz`);
    expect(eventsOf('boot').some((event) => event.nodeId === node.id)).toBe(true);
    const token = tokenIn(script)!;
    expect(token).toBeDefined();
    const installer = installerOf(node);

    const preseed = await installer.get(`/install/${token}/preseed`);
    expect(preseed.status).toBe(200);
    expect(preseed.body).toContain('d-i preseed/late_command string');
    expect(ctx.store.nodes.get(node.id)!.state).toBe('installing');
    // Fetching again while installing is fine (idempotent), and so is the finish script.
    expect((await installer.get(`/install/${token}/preseed`)).status).toBe(200);
    expect((await installer.get(`/install/${token}/finish.sh`)).status).toBe(200);
    expect((await installer.get(`/install/${token}/kickstart`)).status).toBe(404);

    const refused = await installer.post(`/install/${token}/done`, 'echo $(reboot)');
    expect(refused.status).toBe(400);
    expect(ctx.store.nodes.get(node.id)!.state).toBe('installing');

    const done = await installer.post(`/install/${token}/done`, `${SAMPLE_HOST_KEY}\n`);
    expect(done.status).toBe(200);
    const installed = ctx.store.nodes.get(node.id)!;
    expect(installed.state).toBe('installed');
    expect(installed.sshHostKey).toBe(SAMPLE_HOST_KEY);

    // The token is dead and every route gives local boot now.
    const refusedBefore = eventsOf('token-refused').length;
    const reused = await installer.get(`/install/${token}/preseed`);
    expect(reused.status).toBe(404);
    expect(eventsOf('token-refused').length).toBe(refusedBefore + 1);
    // The same done again (an installer retrying a lost answer) is answered again and changes nothing.
    expect((await installer.post(`/install/${token}/done`, SAMPLE_HOST_KEY)).status).toBe(200);
    expect(ctx.store.nodes.get(node.id)!.state).toBe('installed');
    const after = await (await get(`/boot.ipxe?mac=${node.mac}`)).text();
    expect(after).toMatch(/^exit$/m);
    expect(after).not.toContain('kernel ');
    expect(renderPxelinuxConfig(ctx, node.mac)).toMatch(/DEFAULT local[\s\S]*LOCALBOOT 0/);
    expect(ctx.services.boot.planFor({ mac: node.mac, vendorClass: 'PXEClient:Arch:00000:UNDI:002001', archCode: 0 }).target.kind).toBe('local');
  });

  it('refuses the token of an older generation after a re-image, and serves the new one', async () => {
    const ctx = fixture.ctx;
    const node = assignedNode(ctx, 'rocky-9', { hostname: 'regen-1' });
    const oldToken = ctx.services.nodes.installTokenOf(node)!;
    const reimaged = ctx.services.nodes.reimage(node.id, 'test');
    const newToken = ctx.services.nodes.installTokenOf(reimaged)!;
    expect(newToken).not.toBe(oldToken);
    const refusedBefore = eventsOf('token-refused').length;
    const installer = installerOf(reimaged);
    expect((await installer.get(`/install/${oldToken}/kickstart`)).status).toBe(404);
    // The store keeps only the live token's hash, so an old token is recorded as unknown (no node to name).
    expect(eventsOf('token-refused').length).toBe(refusedBefore + 1);
    const fresh = await installer.get(`/install/${newToken}/kickstart`);
    expect(fresh.status).toBe(200);
    expect(fresh.body).toContain(`/install/${newToken}/done`);
  });

  it('refuses a made-up token with 404 and an event', async () => {
    const before = eventsOf('token-refused').length;
    expect((await get('/install/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/preseed')).status).toBe(404);
    expect((await get('/install/short/preseed')).status).toBe(404);
    expect(eventsOf('token-refused').length).toBe(before + 2);
  });

  it('records a failed install with the installer reason', async () => {
    const ctx = fixture.ctx;
    const node = assignedNode(ctx, 'ubuntu-24.04', { hostname: 'fails-1' });
    const token = ctx.services.nodes.installTokenOf(node)!;
    const installer = installerOf(node);
    expect((await installer.post(`/install/${token}/started`, '')).status).toBe(200);
    expect(ctx.store.nodes.get(node.id)!.state).toBe('installing');
    expect((await installer.post(`/install/${token}/failed`, 'curtin: no disk found\n$(rm -rf /)')).status).toBe(200);
    const failed = ctx.store.nodes.get(node.id)!;
    expect(failed.state).toBe('failed');
    expect(failed.failedPhase).toBe('install');
    expect(failed.failedReason).toContain('curtin: no disk found');
    expect((await get(`/boot.ipxe?mac=${node.mac}`)).ok).toBe(true);
    expect(await (await get(`/boot.ipxe?mac=${node.mac}`)).text()).toMatch(/^exit$/m);
  });

  it('serves meta-data and user-data for autoinstall', async () => {
    const ctx = fixture.ctx;
    const node = assignedNode(ctx, 'ubuntu-24.04', { hostname: 'auto-1' });
    const token = ctx.services.nodes.installTokenOf(node)!;
    const installer = installerOf(node);
    const meta = (await installer.get(`/install/${token}/meta-data`)).body;
    expect(meta).toContain('local-hostname: "auto-1"');
    const user = (await installer.get(`/install/${token}/user-data`)).body;
    expect(user.startsWith('#cloud-config\n')).toBe(true);
    expect((await installer.get(`/install/${token}/vendor-data`)).status).toBe(200);
    const failures = eventsOf('render-failed').length;
    expect((await installer.get(`/install/${token}/network-config`)).status).toBe(404);
    expect(eventsOf('render-failed').length).toBe(failures);
  });
});
