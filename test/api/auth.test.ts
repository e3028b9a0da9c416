import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startTestApi, type TestApi } from './harness.ts';

let api: TestApi;
let nodeId: number;
beforeAll(async () => {
  api = await startTestApi();
  nodeId = api.ctx.services.nodes.discover('52:54:00:00:10:01', {}, 'dhcp').id;
});
afterAll(async () => {
  await api.close();
});

const MUTATING = () =>
  [
    ['POST', '/api/v1/nodes', { mac: '52:54:00:00:10:02' }],
    ['PATCH', `/api/v1/nodes/${nodeId}`, { hostname: 'sneaky' }],
    ['DELETE', `/api/v1/nodes/${nodeId}`, undefined],
    ['POST', `/api/v1/nodes/${nodeId}/assign`, { hostname: 'sneaky', profile: 'debian-12' }],
    ['POST', `/api/v1/nodes/${nodeId}/reimage`, undefined],
    ['POST', `/api/v1/nodes/${nodeId}/retry`, undefined],
    ['PATCH', '/api/v1/cluster', { region: 'Sneaky' }],
    ['POST', '/api/v1/cluster/secrets/reveal', undefined],
  ] as const;

const READS = () => ['/api/v1/whoami', '/api/v1/nodes', `/api/v1/nodes/${nodeId}`, `/api/v1/nodes/${nodeId}/events`, `/api/v1/nodes/${nodeId}/stage-runs`, `/api/v1/nodes/${nodeId}/preview`, '/api/v1/events', '/api/v1/cluster', '/api/v1/cluster/checks', '/api/v1/profiles'];

describe('who may use the API', () => {
  it('refuses every route without a session or token (401), and changes nothing', async () => {
    for (const [method, path, body] of MUTATING()) {
      const res = await call(api, method, path, { body, auth: 'none' });
      expect(res.status, `${method} ${path}`).toBe(401);
      expect(res.body.error.code).toBe('unauthorized');
    }
    for (const path of READS()) expect((await call(api, 'GET', path, { auth: 'none' })).status, path).toBe(401);
    const node = api.ctx.services.nodes.find(nodeId);
    expect(node.hostname).toBeNull();
    expect(api.ctx.services.cluster.settings().region).toBe('RegionOne');
  });

  it('refuses a cookie session without the CSRF token, or with a wrong one (403)', async () => {
    for (const [method, path, body] of MUTATING()) {
      const missing = await call(api, method, path, { body, auth: 'session-no-csrf' });
      expect(missing.status, `${method} ${path}`).toBe(403);
      expect(missing.body.error.code).toBe('csrf');
      const wrong = await call(api, method, path, { body, auth: 'session', csrf: 'x'.repeat(api.session.csrf.length) });
      expect(wrong.status, `${method} ${path}`).toBe(403);
    }
    expect(api.ctx.services.nodes.find(nodeId).hostname).toBeNull();
  });

  it('lets a session read without CSRF and change with it, naming the user', async () => {
    for (const path of READS()) expect((await call(api, 'GET', path, { auth: 'session-no-csrf' })).status, path).toBe(200);
    const res = await call(api, 'PATCH', `/api/v1/nodes/${nodeId}`, { body: { hostname: 'via-session' }, auth: 'session' });
    expect(res.status).toBe(200);
    expect(api.ctx.store.events.listForNode(nodeId, 1)[0]).toMatchObject({ kind: 'operator', actor: 'alice' });
    expect((await call(api, 'GET', '/api/v1/whoami', { auth: 'session' })).body).toEqual({ username: 'alice', role: 'admin', via: 'session' });
  });

  it('accepts an API token without CSRF and refuses an unknown one', async () => {
    expect((await call(api, 'GET', '/api/v1/whoami')).body).toEqual({ username: 'alice', role: 'admin', via: 'token' });
    const forged = await fetch(`${api.base}/api/v1/nodes`, { headers: { authorization: `Bearer rlt_${'A'.repeat(43)}` } });
    expect(forged.status).toBe(401);
    expect(((await forged.json()) as any).error.message).toContain('unknown or revoked');
  });

  it('stores only hashes of session ids and tokens', async () => {
    const rows = api.ctx.store.db.prepare('SELECT id_hash FROM sessions').all() as { id_hash: string }[];
    const sessionId = api.session.cookie.split('=')[1]!;
    expect(rows.some((r) => r.id_hash.includes(sessionId))).toBe(false);
    const tokens = api.ctx.store.db.prepare('SELECT token_hash FROM api_tokens').all() as { token_hash: string }[];
    expect(tokens.map((t) => t.token_hash)).not.toContain(api.token);
    const user = api.ctx.store.users.findUser('alice')!;
    expect(user.passwordHash).toMatch(/^\$argon2id\$/);
  });

  it('serves the OpenAPI document without a user, and sends security headers', async () => {
    const res = await call(api, 'GET', '/api/v1/openapi.json', { auth: 'none' });
    expect(res.status).toBe(200);
    expect(res.body.openapi).toMatch(/^3\./);
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN');
  });

  it('answers an unknown API route with a JSON 404', async () => {
    const res = await call(api, 'GET', '/api/v1/nope');
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('no_route');
  });
});
