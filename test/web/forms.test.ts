// The web form's routes over plain HTTP: who may post, CSRF, login limits, typed confirmations, the live
// stream, and the nodes table's pages at 1,000 nodes. The browser test (operator.test.ts) covers the same pages in Chromium.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOGIN_ATTEMPTS } from '../../server/http/routes/web-login.ts';
import { PASSWORD, startTestApi, type TestApi } from '../api/harness.ts';

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(async () => {
  await api.close();
});

function post(path: string, fields: Record<string, string | string[]>, options: { cookie?: string | null; csrf?: string | null } = {}) {
  const body = new URLSearchParams();
  const csrf = options.csrf === undefined ? api.session.csrf : options.csrf;
  if (csrf !== null) body.append('_csrf', csrf);
  for (const [name, value] of Object.entries(fields)) for (const v of [value].flat()) body.append(name, v);
  const cookie = options.cookie === undefined ? api.session.cookie : options.cookie;
  return fetch(`${api.base}${path}`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(cookie ? { cookie } : {}) },
    body,
  });
}

const page = async (path: string) => {
  const res = await fetch(`${api.base}${path}`, { headers: { cookie: api.session.cookie }, redirect: 'manual' });
  return { status: res.status, html: await res.text(), headers: res.headers };
};

const discovered = (mac: string) => api.ctx.services.nodes.discover(mac, {}, 'dhcp');

describe('who may use the web form', () => {
  it('sends a browser without a session to the login page, keeping where it was going', async () => {
    const res = await fetch(`${api.base}/cluster`, { redirect: 'manual' });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/login?next=%2Fcluster');
  });

  it('refuses every form post without a session, without the CSRF token, or with a wrong one', async () => {
    const node = discovered('52:54:00:00:30:01');
    const targets: [string, Record<string, string>][] = [
      [`/nodes/${node.id}`, { hostname: 'sneaky', action: 'save' }],
      [`/nodes/${node.id}/reimage`, { confirm: node.mac }],
      [`/nodes/${node.id}/retry`, {}],
      [`/nodes/${node.id}/forget`, {}],
      [`/nodes/${node.id}/power`, { action: 'on' }],
      ['/nodes/bulk', { action: 'forget', ids: String(node.id), confirm: 'forget' }],
      ['/cluster', { region: 'Sneaky' }],
      ['/cluster/secrets', {}],
      ['/logout', {}],
    ];
    for (const [path, fields] of targets) {
      expect((await post(path, fields, { cookie: null })).status, path).toBe(401);
      expect((await post(path, fields, { csrf: null })).status, path).toBe(403);
      expect((await post(path, fields, { csrf: 'x'.repeat(api.session.csrf.length) })).status, path).toBe(403);
    }
    expect(api.ctx.services.nodes.find(node.id)).toMatchObject({ hostname: null, state: 'discovered' });
    expect(api.ctx.services.cluster.settings().region).toBe('RegionOne');
  });

  it('sends security headers with a CSP that allows no inline script', async () => {
    const { headers, html } = await page('/nodes');
    const csp = headers.get('content-security-policy')!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).toContain("frame-ancestors 'none'");
    expect(html).not.toMatch(/<script>(?!<\/script>)|<script(?![^>]*src=)[^>]*>/);
    expect(html).not.toMatch(/ on[a-z]+="/);
    expect(headers.get('cache-control')).toBe('no-store');
  });
});

describe('login', () => {
  const loginForm = async () => {
    const res = await fetch(`${api.base}/login`);
    const html = await res.text();
    const token = /name="_csrf" value="([^"]+)"/.exec(html)![1]!;
    const cookie = res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
    return { token, cookie };
  };
  const attempt = async (username: string, password: string, next = '/nodes') => {
    const { token, cookie } = await loginForm();
    return post('/login', { username, password, next }, { cookie, csrf: token });
  };

  it('logs in with a session cookie that is HttpOnly and SameSite=Strict, and never redirects off-site', async () => {
    const res = await attempt('alice', PASSWORD, '//evil.example/');
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/nodes');
    const session = res.headers.getSetCookie().find((c) => c.startsWith('racklift_session='))!;
    expect(session).toMatch(/HttpOnly/);
    expect(session).toMatch(/SameSite=Strict/);
    expect(api.ctx.store.events.listRecent(1)[0]).toMatchObject({ kind: 'auth', actor: 'alice' });
    const cookie = session.split(';')[0]!;
    const inside = await fetch(`${api.base}/nodes`, { headers: { cookie }, redirect: 'manual' });
    expect(inside.status).toBe(200);
    const csrf = /name="csrf-token" content="([^"]+)"/.exec(await inside.text())![1]!;
    expect((await post('/logout', {}, { cookie, csrf })).status).toBe(303);
    expect((await fetch(`${api.base}/nodes`, { headers: { cookie }, redirect: 'manual' })).status).toBe(303);
  });

  it('refuses a login post without the form token (cross-site)', async () => {
    const res = await post('/login', { username: 'alice', password: PASSWORD }, { cookie: null, csrf: null });
    expect(res.status).toBe(403);
  });

  it(`limits failed log-ins to ${LOGIN_ATTEMPTS} per address`, async () => {
    // The cross-site post above was a failed attempt too: it counts.
    for (let i = 0; i < LOGIN_ATTEMPTS - 1; i += 1) expect((await attempt('alice', 'not the password')).status).toBe(401);
    const limited = await attempt('alice', PASSWORD);
    expect(limited.status).toBe(429);
    expect(await limited.text()).toContain('Too many failed log-ins');
  });
});

describe('node actions', () => {
  it('refuses a re-image without the typed name and leaves the node alone', async () => {
    const node = api.ctx.services.nodes.assign(discovered('52:54:00:00:31:01').id, { hostname: 'wipe-me', profile: 'debian-12' }, 'test');
    const res = await post(`/nodes/${node.id}/reimage`, { confirm: 'wipe-m' });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('type the node&#x27;s name wipe-me exactly');
    expect(api.ctx.services.nodes.find(node.id).generation).toBe(1);
    expect((await post(`/nodes/${node.id}/reimage`, { confirm: 'wipe-me' })).status).toBe(303);
    expect(api.ctx.services.nodes.find(node.id).generation).toBe(2);
  });

  it('shows the lifecycle refusal of a retry on the node page', async () => {
    const node = discovered('52:54:00:00:31:02');
    const res = await post(`/nodes/${node.id}/retry`, {});
    expect(res.status).toBe(409);
    expect(await res.text()).toContain('is discovered: cannot retry: allowed only from failed');
  });

  it('saves only changed fields, clears an emptied address, and names the user', async () => {
    const node = discovered('52:54:00:00:31:03');
    api.ctx.services.nodes.update(node.id, { managementAddress: '10.236.0.31' }, 'test');
    const res = await post(`/nodes/${node.id}`, { action: 'save', hostname: 'saved-1', managementAddress: '', roles: ['compute', 'network'], disks: 'sdb, sdc', bootloader: 'ipxe' });
    expect(res.status).toBe(303);
    const saved = api.ctx.services.nodes.find(node.id);
    expect(saved).toMatchObject({ hostname: 'saved-1', roles: ['compute', 'network'], disks: ['sdb', 'sdc'], addresses: {} });
    expect(api.ctx.store.events.listForNode(node.id, 1)[0]).toMatchObject({ message: 'settings changed: roles, hostname, managementAddress, disks', actor: 'alice' });
    const bad = await post(`/nodes/${node.id}`, { action: 'save', roles: 'dns' });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('role must be one of');
  });

  it('answers 404 for an unknown node', async () => {
    expect((await page('/nodes/99999')).status).toBe(404);
    expect((await post('/nodes/99999/retry', {})).status).toBe(404);
  });

  it('runs bulk actions only with the typed confirmation and reports refusals per node', async () => {
    const a = api.ctx.services.nodes.assign(discovered('52:54:00:00:32:01').id, { hostname: 'bulk-a', profile: 'debian-12' }, 'test');
    const b = discovered('52:54:00:00:32:02');
    await post('/nodes/bulk', { action: 'reimage', ids: [String(a.id), String(b.id)], confirm: 'yes' });
    expect(api.ctx.services.nodes.find(a.id).generation).toBe(1);
    const res = await post('/nodes/bulk', { action: 'reimage', ids: [String(a.id), String(b.id)], confirm: 'reimage', back: '/nodes?state=assigned' });
    expect(res.headers.get('location')).toBe('/nodes?state=assigned');
    expect(api.ctx.services.nodes.find(a.id).generation).toBe(2);
    const flash = decodeURIComponent(res.headers.getSetCookie().find((c) => c.startsWith('racklift_flash='))!);
    expect(flash).toContain('re-imaged 1: bulk-a');
    expect(flash).toContain('it has no OS profile');
  });
});

describe('cluster and preview pages', () => {
  it('saves settings, shows a refusal with its field, and shows passwords only on request (audited)', async () => {
    const before = await page('/cluster');
    expect(before.html).toContain('no node has the controller role');
    const secret = api.ctx.services.cluster.secrets().keystoneDb;
    expect(before.html).not.toContain(secret);
    const fields = { region: 'RackOne', release: 'zed', domain: 'lab.example', controllerAddress: '', ntpServers: '10.236.0.1', packageProxy: '', 'neutron.mechanism': 'openvswitch', 'neutron.providerPhysnet': 'provider', 'neutron.providerInterface': 'eth1', 'neutron.vniRanges': '1:1000', 'swift.partPower': '10', 'swift.replicas': '3', 'swift.minPartHours': '1', 'image.name': 'cirros', 'image.url': '' };
    expect((await post('/cluster', fields)).status).toBe(303);
    expect(api.ctx.services.cluster.settings()).toMatchObject({ region: 'RackOne', domain: 'lab.example', ntpServers: ['10.236.0.1'] });
    const bad = await post('/cluster', { ...fields, 'swift.replicas': '9' });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('swift.replicas');
    const shown = await post('/cluster/secrets', {});
    expect(await shown.text()).toContain(secret);
    expect(api.ctx.store.events.listRecent(1)[0]).toMatchObject({ message: 'service passwords shown', actor: 'alice' });
  });

  it('previews the boot script, pxelinux config and installer file of a node', async () => {
    const node = api.ctx.services.nodes.assign(discovered('52:54:00:00:33:01').id, { hostname: 'peek', profile: 'debian-12', managementAddress: '10.236.0.33' }, 'test');
    const { status, html } = await page(`/nodes/${node.id}/preview`);
    expect(status).toBe(200);
    expect(html).toContain('/boot.ipxe?mac&#x3D;52:54:00:00:33:01');
    expect(html).toContain('pxelinux.cfg/01-52-54-00-00-33-01');
    expect(html).toContain('/install/&lt;token&gt;/preseed (debian-12)');
  });
});

describe('live stream', () => {
  it('streams node events as server-sent events and replays what a reconnecting page missed', async () => {
    const controller = new AbortController();
    const res = await fetch(`${api.base}/events/stream`, { headers: { cookie: api.session.cookie }, signal: controller.signal });
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    const node = discovered('52:54:00:00:34:01');
    while (!text.includes('52:54:00:00:34:01')) text += decoder.decode((await reader.read()).value);
    expect(text).toMatch(/id: \d+\nevent: node-event\ndata: \{.*"toState":"discovered".*"node":\{"state":"discovered"/);
    controller.abort();
    const lastId = Number(/id: (\d+)/.exec(text)![1]);
    api.ctx.services.nodes.update(node.id, { hostname: 'missed-1' }, 'test');
    const again = new AbortController();
    const replay = await fetch(`${api.base}/events/stream?node=${node.id}`, { headers: { cookie: api.session.cookie, 'last-event-id': String(lastId) }, signal: again.signal });
    const replayReader = replay.body!.getReader();
    let replayed = '';
    while (!replayed.includes('settings changed: hostname')) replayed += decoder.decode((await replayReader.read()).value);
    again.abort();
  });

  it('refuses the stream without a session', async () => {
    expect((await fetch(`${api.base}/events/stream`, { redirect: 'manual' })).status).toBe(303);
  });
});

describe('nodes table at rack scale', () => {
  it('shows 1,000 nodes a page at a time, with paging links that keep the filters', async () => {
    const insert = api.ctx.store.db.transaction(() => {
      for (let i = 0; i < 1000; i += 1) api.ctx.services.nodes.discover(`52:54:01:00:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`, {}, 'dhcp');
    });
    insert();
    const total = api.ctx.store.nodes.size();
    const ids = api.ctx.store.nodes.list().map((n) => n.id);
    const rowIds = (html: string) => [...html.matchAll(/<tr id="node-(\d+)"/g)].map((m) => Number(m[1]));
    // Handlebars writes `=` in attribute values as an entity; the browser reads it back as `=`.
    const hrefs = (html: string) => html.replaceAll('&#x3D;', '=');
    const pages = Math.ceil(total / 100);

    const first = await page('/nodes');
    expect(first.status).toBe(200);
    expect(rowIds(first.html)).toEqual(ids.slice(0, 100));
    expect(first.html).toContain(`Page 1 of ${pages} · 1–100 of ${total}`);
    expect(hrefs(first.html)).toContain('<a href="/nodes?page=2" class="page-next" rel="next">');
    expect(hrefs(first.html)).toContain(`<a href="/nodes?page=${pages}" class="page-last">`);
    expect(first.html).toContain('<span class="page-previous disabled">');

    expect(rowIds((await page('/nodes?page=3')).html)).toEqual(ids.slice(200, 300));
    // Past the end shows the last page; nonsense shows the first.
    const past = await page('/nodes?page=999');
    expect(past.html).toContain(`Page ${pages} of ${pages}`);
    expect(rowIds(past.html)).toEqual(ids.slice((pages - 1) * 100));
    expect(rowIds((await page('/nodes?page=abc&limit=-4')).html)).toEqual(ids.slice(0, 100));

    const search = await page('/nodes?q=52:54:01:00:03&limit=50');
    expect(rowIds(search.html)).toHaveLength(50);
    const matching = api.ctx.store.nodes.list().filter((n) => n.mac.startsWith('52:54:01:00:03')).length;
    expect(search.html).toContain(`<span class="count" id="nodes-count">${matching} of ${total}</span>`);
    expect(hrefs(search.html)).toContain('<a href="/nodes?q=52%3A54%3A01%3A00%3A03&amp;limit=50&amp;page=2" class="page-next" rel="next">');

    const whole = await page('/nodes?limit=1000');
    expect(rowIds(whole.html)).toEqual(ids.slice(0, 1000));
    const started = performance.now();
    await page('/nodes');
    console.log(`nodes page: first 100 of ${total} nodes in ${(performance.now() - started).toFixed(0)} ms`);
  });

  it('renders the search text escaped and matches it literally', async () => {
    const { html } = await page(`/nodes?q=${encodeURIComponent('<b>x%_</b>')}`);
    expect(html).toContain('value="&lt;b&gt;x%_&lt;/b&gt;"');
    expect(html).not.toContain('<b>x');
    expect(html).toContain('No node matches this filter.');
  });
});
