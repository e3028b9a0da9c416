// Broadcast and multicast MACs (and the all-zero one) belong to no network card: refused as nodes, with a
// message, through the API (real loopback socket) and by discovery.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startTestApi, type TestApi } from '../api/harness.ts';

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi({ 'boot.autoEnrol': true });
});
afterAll(async () => {
  await api.close();
});

describe('group MACs are not nodes', () => {
  it.each([
    ['ff:ff:ff:ff:ff:ff', /broadcast MAC address/],
    ['01:00:5e:00:00:fb', /multicast MAC address/],
    ['33:33:00:00:00:01', /multicast MAC address/],
    ['00:00:00:00:00:00', /all-zero MAC address/],
  ])('refuses %s with a message', async (mac, message) => {
    const res = await call(api, 'POST', '/api/v1/nodes', { body: { mac } });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ field: 'mac', message: expect.stringMatching(message) });
    expect(api.ctx.store.nodes.getByMac(mac)).toBeNull();
  });

  it('does not enrol a group MAC that asks for a boot script', async () => {
    const script = await (await fetch(`${api.base}/boot.ipxe?mac=ff:ff:ff:ff:ff:ff`)).text();
    expect(script).toMatch(/^#!ipxe/);
    expect(api.ctx.store.nodes.getByMac('ff:ff:ff:ff:ff:ff')).toBeNull();
  });

  it('still takes a unicast, locally administered MAC', async () => {
    expect((await call(api, 'POST', '/api/v1/nodes', { body: { mac: '02:00:00:00:00:01' } })).status).toBe(201);
  });
});
