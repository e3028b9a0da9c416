// Automatic enrolment over HTTP: an unknown MAC is enrolled and held in a discovery loop (show the reason,
// sleep, re-chain /boot.ipxe) until an operator assigns it, after which the same loop picks up the installer.
// The pxelinux renderer follows the same plan.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHttp } from '../../server/http/server.ts';
import { renderPxelinuxConfig } from '../../server/render/pxelinux.ts';
import { makeFixture, type Fixture } from '../render/fixture.ts';

let fixture: Fixture;
let base: string;
let close: () => Promise<void>;

beforeAll(async () => {
  fixture = makeFixture({ 'boot.autoEnrol': true });
  const http = await startHttp(fixture.ctx);
  base = `http://127.0.0.1:${http.port}`;
  close = http.close;
});

afterAll(async () => {
  await close?.();
  fixture?.cleanup();
});

describe('discovery loop', () => {
  const mac = '52:54:00:04:30:01';

  it('enrols an unknown MAC and answers a script that waits and asks again', async () => {
    const script = await (await fetch(`${base}/boot.ipxe?mac=${mac.toUpperCase()}`)).text();
    expect(script).toMatch(/^#!ipxe\n/);
    expect(script).toMatch(/^sleep \d+$/m);
    expect(script).toContain(`chain --replace --autofree ${fixture.ctx.config.publicUrl}/boot.ipxe?mac=${mac}`);
    expect(script).not.toMatch(/^kernel /m);
    const node = fixture.ctx.services.nodes.findByMac(mac);
    expect(node?.state).toBe('discovered');
    expect(fixture.ctx.store.events.listForNode(node!.id).some((event) => event.kind === 'boot')).toBe(true);
    expect(renderPxelinuxConfig(fixture.ctx, mac)).toMatch(/MENU DEFAULT\n\s+LOCALBOOT 0/);
  });

  it('hands the installer to the same loop once the node is assigned', async () => {
    fixture.ctx.services.nodes.assign(mac, { hostname: 'enrolled-1', profile: 'debian-12', managementAddress: '10.231.4.31' }, 'test');
    const script = await (await fetch(`${base}/boot.ipxe?mac=${mac}`)).text();
    expect(script).toMatch(/^kernel \S+\/boot\/debian-12\/linux /m);
    const pxelinux = renderPxelinuxConfig(fixture.ctx, mac);
    expect(pxelinux).toMatch(/^DEFAULT install$/m);
    expect(pxelinux).toMatch(/^\s+KERNEL debian-12\/linux$/m);
    expect(pxelinux).toMatch(/^\s+APPEND .*url=\S+\/install\/[A-Za-z0-9_-]{32}\/preseed /m);
  });

  it('gives pxelinux.cfg/default a menu whose default is the local disk', () => {
    const config = renderPxelinuxConfig(fixture.ctx, null);
    expect(config).toMatch(/^ONTIMEOUT local$/m);
    expect(config).toMatch(/^TIMEOUT 900$/m);
    expect(config).toMatch(/LABEL local\n\s+MENU LABEL Boot from local disk\n\s+MENU DEFAULT\n\s+LOCALBOOT 0/);
  });
});
