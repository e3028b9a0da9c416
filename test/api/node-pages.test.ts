// GET /api/v1/nodes in pages: limit, the `after` cursor and `next`, offset, total, the state/role/search
// filters applied by the store (compared with the same filter applied to the whole list here), bad values
// refused with the field named, and the remote CLI following the cursor to the end.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RemoteNodes } from '../../server/cli/remote.ts';
import type { Role } from '../../server/domain/types.ts';
import { call, startTestApi, type TestApi } from './harness.ts';

let api: TestApi;
const COUNT = 240;
const ROLE_CYCLE: Role[][] = [['compute'], ['storage'], ['compute', 'storage'], ['network']];
const mac = (i: number) => `52:54:00:10:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 0xff).toString(16).padStart(2, '0')}`;

beforeAll(async () => {
  api = await startTestApi();
  const nodes = api.ctx.services.nodes;
  for (let i = 0; i < COUNT; i++) {
    const node = nodes.discover(mac(i), { archCode: 7 }, 'dhcp');
    // Every third node is assigned, with roles cycling through the list above.
    if (i % 3 === 0) nodes.assign(node.id, { hostname: `rack1-n${String(i).padStart(3, '0')}`, roles: ROLE_CYCLE[(i / 3) % 4], profile: 'debian-12' }, 'test');
  }
});
afterAll(async () => {
  await api.close();
});

interface Page {
  nodes: { id: number; mac: string; hostname: string | null; state: string; roles: string[]; lastEventAt: string | null }[];
  total: number;
  limit: number;
  next: number | null;
}
const get = async (query: string): Promise<Page> => {
  const res = await call(api, 'GET', `/api/v1/nodes${query}`);
  expect(res.status).toBe(200);
  return res.body as Page;
};
const everything = () => api.ctx.store.nodes.list();

describe('GET /api/v1/nodes pages', () => {
  it('answers 100 nodes by default with the total and a cursor to the next page', async () => {
    const page = await get('');
    expect(page.nodes).toHaveLength(100);
    expect(page).toMatchObject({ total: COUNT, limit: 100, next: page.nodes[99]!.id });
    expect(page.nodes.map((n) => n.id)).toEqual(everything().slice(0, 100).map((n) => n.id));
    expect(page.nodes[0]!.lastEventAt).toMatch(/^\d{4}-/);
  });

  it('walks the whole table with after=next, in id order, each node once, the last page saying next: null', async () => {
    const seen: number[] = [];
    let after: number | null = null;
    let pages = 0;
    do {
      const page = await get(`?limit=37${after !== null ? `&after=${after}` : ''}`);
      seen.push(...page.nodes.map((n) => n.id));
      after = page.next;
      pages++;
    } while (after !== null);
    expect(pages).toBe(Math.ceil(COUNT / 37));
    expect(seen).toEqual(everything().map((n) => n.id));
  });

  it('skips with offset, alone or after a cursor; past the end is an empty page', async () => {
    const ids = everything().map((n) => n.id);
    expect((await get('?limit=10&offset=25')).nodes.map((n) => n.id)).toEqual(ids.slice(25, 35));
    expect((await get(`?limit=10&offset=5&after=${ids[99]}`)).nodes.map((n) => n.id)).toEqual(ids.slice(105, 115));
    const past = await get(`?limit=10&offset=${COUNT + 5}`);
    expect(past).toMatchObject({ nodes: [], total: COUNT, next: null });
    const exact = await get(`?limit=${COUNT}`);
    expect(exact.nodes).toHaveLength(COUNT);
    expect(exact.next).toBeNull();
  });

  it.each([
    ['?state=assigned', (n: Page['nodes'][number]) => n.state === 'assigned'],
    ['?role=storage', (n: Page['nodes'][number]) => n.roles.includes('storage')],
    ['?role=compute&state=assigned', (n: Page['nodes'][number]) => n.roles.includes('compute') && n.state === 'assigned'],
    ['?q=rack1-n1', (n: Page['nodes'][number]) => (n.hostname ?? '').includes('rack1-n1')],
    ['?q=52-54-00-10-00-0A', (n: Page['nodes'][number]) => n.mac === '52:54:00:10:00:0a'],
    ['?q=00:10:00:0', (n: Page['nodes'][number]) => n.mac.includes('00:10:00:0')],
    ['?q=%25', () => false],
    ['?q=_', () => false],
    ['?role=network&q=N0', (n: Page['nodes'][number]) => n.roles.includes('network') && (n.hostname ?? '').toLowerCase().includes('n0')],
  ])('filters %s in the store: the same nodes as filtering the whole list, and the total of all that match', async (query, keep) => {
    const all = (await get(`?limit=${COUNT}`)).nodes;
    const expected = all.filter(keep).map((n) => n.id);
    const page = await get(`${query}&limit=5`);
    expect(page.total).toBe(expected.length);
    expect(page.nodes.map((n) => n.id)).toEqual(expected.slice(0, 5));
    expect(page.next).toBe(expected.length > 5 ? expected[4] : null);
    if (page.next !== null) expect((await get(`${query}&limit=5&after=${page.next}`)).nodes.map((n) => n.id)).toEqual(expected.slice(5, 10));
  });

  it.each([
    ['limit=0', 'limit'],
    ['limit=10001', 'limit'],
    ['limit=-1', 'limit'],
    ['limit=ten', 'limit'],
    ['after=-1', 'after'],
    ['offset=1.5', 'offset'],
    [`q=${'x'.repeat(101)}`, 'q'],
    ['q=a&q=b', 'q'],
  ])('refuses %s naming the field', async (query, field) => {
    const res = await call(api, 'GET', `/api/v1/nodes?${query}`);
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'invalid', field });
  });

  it('stays behind authentication', async () => {
    expect((await call(api, 'GET', '/api/v1/nodes?limit=1', { auth: 'none' })).status).toBe(401);
    expect((await call(api, 'GET', '/api/v1/nodes?limit=1', { auth: 'session-no-csrf' })).status).toBe(200);
  });

  it('the remote CLI follows the cursor to the last page', async () => {
    const remote = new RemoteNodes({ url: api.base, token: api.token }, 7);
    expect((await remote.list({})).map((n) => n.id)).toEqual(everything().map((n) => n.id));
    expect((await remote.list({ role: 'network' })).map((n) => n.id)).toEqual(everything().filter((n) => n.roles.includes('network')).map((n) => n.id));
  });
});
