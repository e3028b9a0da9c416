// Roles over a real socket: a viewer reads (no secrets), an operator also changes nodes (power, re-image, settings)
// but sees no secrets, an admin does everything. Walked over every rule of the access table, so a new route is
// covered by its rule, and checked on what the pages show.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTE_RULES, type RouteRule } from '../../server/http/access.ts';
import { SESSION_COOKIE } from '../../server/http/auth/middleware.ts';
import { mayAccess, type UserRole } from '../../server/domain/user-roles.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestApi, type TestApi } from '../api/harness.ts';
import { placeBootFiles } from '../render/fixture.ts';

let api: TestApi;
let nodeId: number;
let bootDir: string;

beforeAll(async () => {
  bootDir = mkdtempSync(join(tmpdir(), 'rl-roles-boot-'));
  placeBootFiles(bootDir);
  api = await startTestApi({ bootDir });
  nodeId = api.ctx.services.nodes.add('52:54:00:00:30:01', { hostname: 'role-1', profile: 'debian-12', managementAddress: '10.236.0.21' }, 'test').id;
});
afterAll(async () => {
  await api.close();
  rmSync(bootDir, { recursive: true, force: true });
});

const concrete = (path: string) => path.replace(/:(ref|id)/g, String(nodeId)).replace(/:token/g, 'x').replace(/:kind/g, 'preseed').replace(/\*\w+/g, 'x');

async function as(token: string, rule: Pick<RouteRule, 'method' | 'path'>): Promise<{ status: number; body: string }> {
  const body = rule.method === 'POST' || rule.method === 'PATCH' ? '{}' : undefined;
  const response = await fetch(`${api.base}${concrete(rule.path)}`, {
    method: rule.method,
    redirect: 'manual',
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body,
    signal: AbortSignal.timeout(10_000),
  });
  const streaming = response.headers.get('content-type')?.includes('event-stream');
  const text = streaming ? '' : await response.text();
  if (streaming) await response.body?.cancel();
  return { status: response.status, body: text };
}

// Routes whose effect would spoil the walk for the next ones (the node is forgotten, re-imaged, powered).
const SIDE_EFFECTS = /forget|DELETE|reimage|bulk|power|assign|retry|logout/;

describe('roles on every route', () => {
  for (const role of ['viewer', 'operator'] as UserRole[]) {
    it(`refuses a ${role} exactly the routes above its role (403), and lets the others through`, async () => {
      const token = role === 'viewer' ? api.viewerToken : api.operatorToken;
      const wrong: string[] = [];
      for (const rule of ROUTE_RULES.filter((r) => r.access !== 'public')) {
        const allowed = mayAccess(role, rule.access);
        if (allowed && SIDE_EFFECTS.test(`${rule.method} ${rule.path}`)) continue;
        const { status, body } = await as(token, rule);
        if (allowed && status === 403) wrong.push(`${rule.method} ${rule.path} refused: ${body}`);
        if (!allowed && status !== 403) wrong.push(`${rule.method} ${rule.path} -> ${status}, expected 403`);
        if (!allowed && !body.includes(`is a ${role}`)) wrong.push(`${rule.method} ${rule.path}: refusal does not name the role: ${body}`);
      }
      expect(wrong).toEqual([]);
    });
  }

  it('changes nothing when a viewer tries to re-image, forget or power a node', async () => {
    for (const path of [`/api/v1/nodes/${nodeId}/reimage`, `/nodes/${nodeId}/forget`, `/api/v1/nodes/${nodeId}/power`]) {
      expect((await as(api.viewerToken, { method: 'POST', path })).status, path).toBe(403);
    }
    const node = api.ctx.services.nodes.find(nodeId);
    expect(node.generation).toBe(1);
    expect(node.state).toBe('assigned');
  });

  it('lets an operator re-image a node, and an admin reveal the secrets', async () => {
    const reimage = await as(api.operatorToken, { method: 'POST', path: `/api/v1/nodes/${nodeId}/reimage` });
    expect(reimage.status).toBe(200);
    expect(api.ctx.services.nodes.find(nodeId).generation).toBe(2);
    expect((await as(api.operatorToken, { method: 'POST', path: '/api/v1/cluster/secrets/reveal' })).status).toBe(403);
    const secrets = await as(api.token, { method: 'POST', path: '/api/v1/cluster/secrets/reveal' });
    expect(secrets.status).toBe(200);
    expect(Object.keys(JSON.parse(secrets.body).secrets).length).toBeGreaterThan(5);
  });

  it('masks the install token, the root password hash and the service passwords in a preview for anyone but an admin', async () => {
    const node = api.ctx.services.nodes.find(nodeId);
    const token = api.ctx.services.nodes.installTokenOf(node)!;
    const secrets = Object.values(api.ctx.services.cluster.secrets());
    const admin = (await as(api.token, { method: 'GET', path: `/api/v1/nodes/${nodeId}/preview` })).body;
    expect(admin).toContain(token);
    expect(admin).toMatch(/\$6\$/);
    for (const token_ of [api.viewerToken, api.operatorToken]) {
      for (const path of [`/api/v1/nodes/${nodeId}/preview`, `/nodes/${nodeId}/preview`]) {
        const { status, body } = await as(token_, { method: 'GET', path });
        expect(status, path).toBe(200);
        expect(body, path).not.toContain(token);
        expect(body, path).not.toMatch(/\$6\$[^*]/);
        for (const secret of secrets) expect(body, path).not.toContain(secret);
        expect(body, path).toContain('********');
      }
    }
  });
});

describe('roles in the web form', () => {
  const page = async (username: string, path: string) => {
    const user = api.ctx.store.users.findUser(username)!;
    const { sessionId } = api.accounts.startSession(user.id);
    const response = await fetch(`${api.base}${path}`, { headers: { cookie: `${SESSION_COOKIE}=${sessionId}` }, redirect: 'manual' });
    return response.text();
  };

  it('shows each user their role and only the actions it allows', async () => {
    const viewer = await page('victor', `/nodes/${nodeId}`);
    expect(viewer).toMatch(/id="user-role"[^>]*>viewer</);
    expect(viewer).not.toContain('id="reimage-form"');
    expect(viewer).not.toContain('id="forget"');
    expect(viewer).toContain('id="read-only"');
    const operator = await page('olga', `/nodes/${nodeId}`);
    expect(operator).toMatch(/id="user-role"[^>]*>operator</);
    expect(operator).toContain('id="reimage-form"');
    expect(await page('olga', '/cluster')).not.toContain('id="show-secrets"');
    expect(await page('olga', '/nodes')).toContain('id="bulkbar"');
    expect(await page('victor', '/nodes')).not.toContain('id="bulkbar"');
    const admin = await page('alice', '/cluster');
    expect(admin).toMatch(/id="user-role"[^>]*>admin</);
    expect(admin).toContain('id="show-secrets"');
  });
});
