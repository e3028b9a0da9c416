import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startTestApi, type TestApi } from './harness.ts';

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(async () => {
  await api.close();
});

describe('cluster, checks, secrets, profiles', () => {
  it('reads and updates settings, refusing bad values with their field', async () => {
    expect((await call(api, 'GET', '/api/v1/cluster')).body).toMatchObject({ region: 'RegionOne', release: 'zed' });
    const res = await call(api, 'PATCH', '/api/v1/cluster', { body: { region: 'RackOne', controllerAddress: '10.236.0.10' } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ region: 'RackOne', controllerAddress: '10.236.0.10' });
    const bad = await call(api, 'PATCH', '/api/v1/cluster', { body: { region: 'no spaces please' } });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ code: 'invalid', field: 'region' });
    const nested = await call(api, 'PATCH', '/api/v1/cluster', { body: { neutron: { mechanism: 'carrier-pigeon' } } });
    expect(nested.body.error.field).toBe('neutron.mechanism');
    const unknown = await call(api, 'PATCH', '/api/v1/cluster', { body: { colour: 'blue' } });
    expect(unknown.status).toBe(400);
    expect(api.ctx.store.events.listRecent(1)[0]).toMatchObject({ kind: 'cluster', actor: 'alice' });
  });

  it('lists the pre-bootstrap checks', async () => {
    const res = await call(api, 'GET', '/api/v1/cluster/checks');
    expect(res.body.checks).toContainEqual(expect.objectContaining({ level: 'error', message: expect.stringContaining('no node has the controller role') }));
  });

  it('reveals the service passwords only on a POST, and records who asked', async () => {
    const res = await call(api, 'POST', '/api/v1/cluster/secrets/reveal');
    expect(res.status).toBe(200);
    expect(res.body.secrets.keystoneDb).toMatch(/^[A-Za-z0-9]{24}$/);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(api.ctx.store.events.listRecent(1)[0]).toMatchObject({ kind: 'cluster', message: 'service passwords shown', actor: 'alice' });
    expect((await call(api, 'GET', '/api/v1/cluster/secrets/reveal')).status).toBe(404);
    expect(JSON.stringify((await call(api, 'GET', '/api/v1/cluster')).body)).not.toContain(res.body.secrets.keystoneDb);
  });

  it('lists OS profiles', async () => {
    const res = await call(api, 'GET', '/api/v1/profiles');
    expect(res.body.profiles.map((p: any) => p.name)).toContain('debian-12');
  });
});
