// Power through the API and the web form, with a scripted BMC driver (the real drivers are tested in test/power).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PowerDriver, PowerState } from '../../server/power/driver.ts';
import { PowerError } from '../../server/power/driver.ts';
import { PowerService } from '../../server/power/service.ts';
import { usePowerService } from '../../server/http/routes/web-power.ts';
import { call, startTestApi, type TestApi } from './harness.ts';

let api: TestApi;
const calls: string[] = [];
let power: PowerState = 'off';
let broken = false;

const driver: PowerDriver = {
  name: 'ipmi',
  status: async () => {
    calls.push('status');
    if (broken) throw new PowerError('unreachable', 'no answer from 127.0.0.1:623');
    return power;
  },
  on: async () => void (calls.push('on'), (power = 'on')),
  off: async () => void (calls.push('off'), (power = 'off')),
  cycle: async () => void (calls.push('cycle'), (power = 'on')),
  setNextBoot: async (device) => void calls.push(`next-boot ${device}`),
};

let nodeId: number;
beforeAll(async () => {
  api = await startTestApi();
  const service = new PowerService(api.ctx.store, api.ctx.services.nodes, { driverFor: () => driver });
  usePowerService(api.ctx, service);
  const node = api.ctx.services.nodes.assign(api.ctx.services.nodes.discover('52:54:00:00:20:01', {}, 'dhcp').id, { hostname: 'bmc-1', profile: 'debian-12' }, 'test');
  service.setBmc(node.id, { driver: 'ipmi', address: '127.0.0.1', username: 'admin', password: 'secret-pw' }, 'test');
  nodeId = node.id;
});
afterAll(async () => {
  await api.close();
});

describe('power through the API', () => {
  it('powers on and reads the status, recording who did it', async () => {
    const on = await call(api, 'POST', `/api/v1/nodes/${nodeId}/power`, { body: { action: 'on' } });
    expect(on.status).toBe(200);
    expect(on.body).toMatchObject({ ok: true, powerState: 'on' });
    expect(api.ctx.store.events.listForNode(nodeId, 1)[0]).toMatchObject({ kind: 'power', actor: 'alice' });
    expect((await call(api, 'POST', `/api/v1/nodes/${nodeId}/power`, { body: { action: 'status' } })).body.powerState).toBe('on');
  });

  it('refuses an unknown action, a node without BMC, and answers 502 when the BMC fails', async () => {
    const bad = await call(api, 'POST', `/api/v1/nodes/${nodeId}/power`, { body: { action: 'explode' } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.field).toBe('action');
    const plain = api.ctx.services.nodes.discover('52:54:00:00:20:02', {}, 'dhcp');
    const noBmc = await call(api, 'POST', `/api/v1/nodes/${plain.id}/power`, { body: { action: 'on' } });
    expect(noBmc.status).toBe(404);
    expect(noBmc.body.error.message).toContain('has no BMC');
    broken = true;
    const down = await call(api, 'POST', `/api/v1/nodes/${nodeId}/power`, { body: { action: 'status' } });
    broken = false;
    expect(down.status).toBe(502);
    expect(down.body.message).toContain('no answer from 127.0.0.1:623');
    expect((await call(api, 'POST', `/api/v1/nodes/${nodeId}/power`, { body: { action: 'on' }, auth: 'none' })).status).toBe(401);
  });

  it('re-images with a network boot and a power cycle when asked', async () => {
    calls.length = 0;
    const res = await call(api, 'POST', `/api/v1/nodes/${nodeId}/reimage`, { body: { power: true } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ state: 'assigned', generation: 2, power: { ok: true } });
    expect(calls).toEqual(['next-boot network-once', 'cycle']);
    const wrong = await call(api, 'POST', `/api/v1/nodes/${nodeId}/reimage`, { body: { power: 'yes' } });
    expect(wrong.body.error.field).toBe('power');
  });
});

describe('power from the web form', () => {
  const form = (path: string, fields: Record<string, string>) =>
    fetch(`${api.base}${path}`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: api.session.cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: api.session.csrf, ...fields }),
    });

  it('shows the power buttons for a node with a BMC and runs them', async () => {
    const page = await (await fetch(`${api.base}/nodes/${nodeId}`, { headers: { cookie: api.session.cookie } })).text();
    expect(page).toContain('id="power-cycle"');
    calls.length = 0;
    const res = await form(`/nodes/${nodeId}/power`, { action: 'off' });
    expect(res.status).toBe(303);
    expect(calls).toEqual(['off']);
    expect(api.ctx.services.nodes.find(nodeId).powerState).toBe('off');
  });

  it('power-cycles selected nodes in bulk only with the typed confirmation', async () => {
    calls.length = 0;
    await form('/nodes/bulk', { action: 'power-cycle', ids: String(nodeId) });
    expect(calls).toEqual([]);
    await form('/nodes/bulk', { action: 'power-cycle', ids: String(nodeId), confirm: 'power-cycle' });
    expect(calls).toEqual(['cycle']);
  });
});
