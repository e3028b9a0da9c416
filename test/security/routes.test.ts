// Deny by default, over a real socket: every route the app registers (read from its router stack, so a route
// added later is walked without being named here) is asked with no credentials, as registered and in upper,
// lower and mixed case. Only the short public list of boot and installer routes may answer; nothing answers
// 200 or 500 to a path in the wrong case.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PUBLIC_ROUTES } from '../../server/http/access.ts';
import { createHttpApp } from '../../server/http/app.ts';
import { registeredRoutes, type RegisteredRoute } from '../../server/http/route-list.ts';
import { startTestApi, type TestApi } from '../api/harness.ts';

let api: TestApi;
let nodeId: number;
let routes: RegisteredRoute[];

beforeAll(async () => {
  api = await startTestApi();
  nodeId = api.ctx.services.nodes.add('52:54:00:00:20:01', { hostname: 'walk-1', profile: 'debian-12' }, 'test').id;
  routes = registeredRoutes(createHttpApp(api.ctx));
});
afterAll(async () => {
  await api.close();
});

const key = (route: { method: string; path: string }) => `${route.method} ${route.path}`;

/** A concrete path for a pattern: parameters get values that reach the handler. */
function concrete(path: string): string {
  return path
    .replace(/:token/g, `${nodeId.toString(36)}-${'A'.repeat(30)}`)
    .replace(/:kind/g, 'preseed')
    .replace(/:(ref|id)/g, String(nodeId))
    .replace(/\*path/g, 'debian-12/linux')
    .replace(/\*rest/g, 'app.css')
    .replace(/:[A-Za-z]+/g, 'x')
    .replace(/\*[A-Za-z]+/g, 'x');
}

const upper = (path: string) => path.replace(/[a-z]/g, (c) => c.toUpperCase());
const lower = (path: string) => path.replace(/[A-Z]/g, (c) => c.toLowerCase());
/** First letter of each segment upper-cased: /Api/V1/Nodes. */
const mixed = (path: string) => path.replace(/\/([a-z])/g, (_, c: string) => `/${c.toUpperCase()}`);

async function ask(method: string, path: string): Promise<{ status: number; location: string | null; body: string }> {
  const mutating = method === 'POST' || method === 'PATCH';
  const response = await fetch(`${api.base}${path}`, {
    method,
    redirect: 'manual',
    headers: mutating ? { 'content-type': 'application/json' } : {},
    body: mutating ? '{}' : undefined,
  });
  // A live stream never ends: its status is the answer, its body is not read.
  const streaming = response.headers.get('content-type')?.includes('event-stream');
  const body = streaming ? '' : await response.text();
  if (streaming) await response.body?.cancel();
  return { status: response.status, location: response.headers.get('location'), body };
}

describe('deny by default: every registered route without credentials', () => {
  it('has an access rule for every registered route, and every rule names a registered route', () => {
    const rules = new Set(PUBLIC_ROUTES.map(key));
    const registered = new Set(routes.map(key));
    for (const rule of rules) expect(registered, `public rule ${rule} has no route`).toContain(rule);
    expect(routes.length).toBeGreaterThan(30);
  });

  it('answers 401 (or the login page) on every route that is not on the public list', async () => {
    const publicKeys = new Set(PUBLIC_ROUTES.map(key));
    const answered: string[] = [];
    for (const route of routes) {
      if (publicKeys.has(key(route))) continue;
      const { status, location } = await ask(route.method, concrete(route.path));
      const loginRedirect = status === 303 && (location ?? '').startsWith('/login');
      if (status !== 401 && !loginRedirect) answered.push(`${key(route)} -> ${status}`);
    }
    expect(answered).toEqual([]);
  });

  it('lets the public boot and installer routes answer without credentials, never with a 5xx', async () => {
    for (const route of routes.filter((r) => PUBLIC_ROUTES.some((p) => key(p) === key(r)))) {
      const { status } = await ask(route.method, concrete(route.path));
      expect(status, key(route)).not.toBe(401);
      expect(status, key(route)).toBeLessThan(500);
    }
  });

  it('answers 404 to every route asked in upper, lower or mixed case (never 200, never 500)', async () => {
    const wrong: string[] = [];
    for (const route of routes) {
      const path = concrete(route.path);
      for (const variant of new Set([upper(path), lower(path), mixed(path)])) {
        if (variant === path) continue;
        const { status } = await ask(route.method, variant);
        if (status !== 404) wrong.push(`${route.method} ${variant} -> ${status}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('answers 404 to a registered path with a trailing slash (strict routing)', async () => {
    for (const path of ['/nodes/', '/cluster/', '/api/v1/nodes/', `/nodes/${nodeId}/preview/`]) {
      expect((await ask('GET', path)).status, path).toBe(404);
    }
  });

  it('shows no install token, password hash or event through a wrong-case path', async () => {
    const token = api.ctx.services.nodes.installTokenOf(api.ctx.services.nodes.find(nodeId))!;
    for (const path of ['/NODES', `/Nodes/${nodeId}/preview`, '/CLUSTER', '/Events/stream', `/API/V1/NODES/${nodeId}/PREVIEW`]) {
      const { status, body } = await ask('GET', path);
      expect(status, path).toBe(404);
      expect(body).not.toContain(token);
      expect(body).not.toContain('$6$');
    }
  });
});
