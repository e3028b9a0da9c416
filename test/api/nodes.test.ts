import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startTestApi, type TestApi } from './harness.ts';

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(async () => {
  await api.close();
});

const discovered = (mac: string) => api.ctx.services.nodes.discover(mac, { archCode: 7 }, 'dhcp');

describe('GET /api/v1/nodes', () => {
  it('lists nodes with last event time and filters by state and role', async () => {
    discovered('52:54:00:00:01:01');
    await call(api, 'POST', '/api/v1/nodes', { body: { mac: '52:54:00:00:01:02', hostname: 'list-ctl', roles: ['controller'], profile: 'debian-12', managementAddress: '10.236.0.12' } });
    const all = await call(api, 'GET', '/api/v1/nodes');
    expect(all.status).toBe(200);
    const macs = all.body.nodes.map((n: any) => n.mac);
    expect(macs).toEqual(expect.arrayContaining(['52:54:00:00:01:01', '52:54:00:00:01:02']));
    expect(all.body.nodes[0].lastEventAt).toMatch(/^\d{4}-/);
    expect(all.body.nodes[0]).not.toHaveProperty('installTokenHash');
    const assigned = await call(api, 'GET', '/api/v1/nodes?state=assigned&role=controller');
    expect(assigned.body.nodes.map((n: any) => n.mac)).toEqual(['52:54:00:00:01:02']);
  });

  it('refuses an unknown state or role naming the field', async () => {
    const res = await call(api, 'GET', '/api/v1/nodes?state=sleeping');
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'invalid', field: 'state' });
    const role = await call(api, 'GET', '/api/v1/nodes?role=dns');
    expect(role.body.error.field).toBe('role');
  });
});

describe('POST /api/v1/nodes', () => {
  it('adds a node and records the user in its event', async () => {
    const res = await call(api, 'POST', '/api/v1/nodes', { body: { mac: '52-54-00-00-02-01', hostname: 'added-1' } });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ mac: '52:54:00:00:02:01', hostname: 'added-1', state: 'discovered' });
    const events = await call(api, 'GET', `/api/v1/nodes/${res.body.id}/events`);
    expect(events.body.events.at(-1).actor).toBe('alice');
  });

  it.each([
    [{ hostname: 'x' }, 'mac'],
    [{ mac: 'not-a-mac' }, 'mac'],
    [{ mac: '52:54:00:00:02:02', hostname: 'bad_name!' }, 'hostname'],
    [{ mac: '52:54:00:00:02:02', roles: ['dns'] }, 'roles.0'],
    [{ mac: '52:54:00:00:02:02', managementAddress: '10.0.0.300' }, 'managementAddress'],
    [{ mac: '52:54:00:00:02:02', managementAddress: '192.0.2.5' }, 'managementAddress'],
    [{ mac: '52:54:00:00:02:02', managementAddress: '10.236.0.150' }, 'managementAddress'],
    [{ mac: '52:54:00:00:02:02', profile: 'windows-95' }, 'profile'],
    [{ mac: '52:54:00:00:02:02', disks: ['../etc'] }, 'disks.0'],
    [{ mac: '52:54:00:00:02:02', colour: 'blue' }, 'settings'],
  ])('refuses %j naming field %s', async (body, field) => {
    const res = await call(api, 'POST', '/api/v1/nodes', { body });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid');
    expect(res.body.error.field).toBe(field);
    expect(res.body.error.message).toEqual(expect.any(String));
  });

  it('refuses a duplicate MAC and an address reserved by another node with 409', async () => {
    await call(api, 'POST', '/api/v1/nodes', { body: { mac: '52:54:00:00:02:03', managementAddress: '10.236.0.23' } });
    const dup = await call(api, 'POST', '/api/v1/nodes', { body: { mac: '52:54:00:00:02:03' } });
    expect(dup.status).toBe(409);
    expect(dup.body.error).toMatchObject({ code: 'conflict', field: 'mac' });
    const taken = await call(api, 'POST', '/api/v1/nodes', { body: { mac: '52:54:00:00:02:04', managementAddress: '10.236.0.23' } });
    expect(taken.status).toBe(409);
    expect(taken.body.error.field).toBe('managementAddress');
  });

  it('refuses a body that is not JSON or not an object', async () => {
    const broken = await call(api, 'POST', '/api/v1/nodes', { rawBody: '{"mac":' });
    expect(broken.status).toBe(400);
    expect(broken.body.error.code).toBe('invalid_json');
    const array = await call(api, 'POST', '/api/v1/nodes', { body: ['52:54:00:00:02:05'] });
    expect(array.status).toBe(400);
    expect(array.body.error.field).toBe('body');
  });
});

describe('one node', () => {
  it('gets a node by id, MAC or hostname; 404 for an unknown one', async () => {
    const node = discovered('52:54:00:00:03:01');
    api.ctx.services.nodes.update(node.id, { hostname: 'get-me' }, 'test');
    for (const ref of [String(node.id), '52:54:00:00:03:01', 'get-me']) {
      const res = await call(api, 'GET', `/api/v1/nodes/${ref}`);
      expect(res.status).toBe(200);
      expect(res.body.id).toBe(node.id);
    }
    for (const [method, path] of [
      ['GET', '/api/v1/nodes/nobody'],
      ['PATCH', '/api/v1/nodes/nobody'],
      ['DELETE', '/api/v1/nodes/nobody'],
      ['POST', '/api/v1/nodes/nobody/assign'],
      ['POST', '/api/v1/nodes/nobody/reimage'],
      ['POST', '/api/v1/nodes/nobody/retry'],
      ['GET', '/api/v1/nodes/nobody/events'],
      ['GET', '/api/v1/nodes/nobody/stage-runs'],
      ['GET', '/api/v1/nodes/nobody/preview'],
    ] as const) {
      const res = await call(api, method, path, { body: method === 'GET' || method === 'DELETE' ? undefined : {} });
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.body.error.code).toBe('not_found');
      expect(res.body.error.message).toContain('nobody');
    }
  });

  it('updates settings without a state change', async () => {
    const node = discovered('52:54:00:00:03:02');
    const res = await call(api, 'PATCH', `/api/v1/nodes/${node.id}`, { body: { hostname: 'patched', disks: ['/dev/sdb'], interfaces: { management: 'eno1' } } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ hostname: 'patched', disks: ['sdb'], interfaces: { management: 'eno1' }, state: 'discovered' });
    const bad = await call(api, 'PATCH', `/api/v1/nodes/${node.id}`, { body: { interfaces: { management: 'eth0; reboot' } } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.field).toBe('interfaces.management');
  });

  it('assigns a discovered node, then refuses a second assign with the lifecycle message', async () => {
    const node = discovered('52:54:00:00:03:03');
    const res = await call(api, 'POST', `/api/v1/nodes/${node.id}/assign`, {
      body: { hostname: 'compute-3', roles: ['compute', 'network'], profile: 'debian-12', managementAddress: '10.236.0.33' },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ state: 'assigned', generation: 1, roles: ['compute', 'network'] });
    const again = await call(api, 'POST', `/api/v1/nodes/${node.id}/assign`, { body: {} });
    expect(again.status).toBe(409);
    expect(again.body.error).toMatchObject({
      code: 'illegal_transition',
      message: 'node compute-3 is assigned: cannot assign: allowed only from discovered',
    });
  });

  it('refuses to assign without a profile or hostname, naming the field', async () => {
    const node = discovered('52:54:00:00:03:04');
    const res = await call(api, 'POST', `/api/v1/nodes/${node.id}/assign`, { body: { hostname: 'no-profile' } });
    expect(res.status).toBe(400);
    expect(res.body.error.field).toBe('profile');
  });

  it('re-images with a new generation; retry only after a failed bootstrap', async () => {
    const nodes = api.ctx.services.nodes;
    const node = nodes.assign(discovered('52:54:00:00:03:05').id, { hostname: 'reimage-me', profile: 'debian-12' }, 'test');
    const retry = await call(api, 'POST', `/api/v1/nodes/${node.id}/retry`);
    expect(retry.status).toBe(409);
    expect(retry.body.error.message).toBe('node reimage-me is assigned: cannot retry: allowed only from failed');
    const reimage = await call(api, 'POST', `/api/v1/nodes/${node.id}/reimage`);
    expect(reimage.status).toBe(200);
    expect(reimage.body).toMatchObject({ state: 'assigned', generation: 2 });
    let current = nodes.find(node.id);
    for (const event of [{ kind: 'install-started' }, { kind: 'install-done' }, { kind: 'ssh-answered' }] as const) current = nodes.apply(current, event, 'test');
    nodes.apply(current, { kind: 'fail', phase: 'bootstrap', reason: 'keystone did not answer' }, 'orchestrator');
    const retried = await call(api, 'POST', `/api/v1/nodes/${node.id}/retry`);
    expect(retried.status).toBe(200);
    expect(retried.body.state).toBe('bootstrapping');
    const events = await call(api, 'GET', `/api/v1/nodes/${node.id}/events?limit=2`);
    expect(events.body.events).toHaveLength(2);
    expect(events.body.events[0]).toMatchObject({ toState: 'bootstrapping', actor: 'alice' });
  });

  it('forgets a node and keeps its events', async () => {
    const node = discovered('52:54:00:00:03:06');
    const res = await call(api, 'DELETE', `/api/v1/nodes/${node.id}`);
    expect(res.status).toBe(200);
    expect(res.body.mac).toBe('52:54:00:00:03:06');
    expect((await call(api, 'GET', `/api/v1/nodes/${node.id}`)).status).toBe(404);
    const recent = await call(api, 'GET', '/api/v1/events?limit=5');
    expect(recent.body.events[0]).toMatchObject({ kind: 'forget', mac: '52:54:00:00:03:06', actor: 'alice' });
  });

  it('lists stage runs of the current generation and shows the current stage in the list', async () => {
    const node = api.ctx.services.nodes.assign(discovered('52:54:00:00:03:07').id, { hostname: 'staged', profile: 'debian-12' }, 'test');
    const run = api.ctx.store.stageRuns.start(node.id, node.generation, 'common:hosts');
    api.ctx.store.stageRuns.appendLogs([{ id: run.id, chunk: 'writing /etc/hosts\n' }]);
    const res = await call(api, 'GET', `/api/v1/nodes/${node.id}/stage-runs`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ generation: 1, stageRuns: [{ stage: 'common:hosts', status: 'running', log: 'writing /etc/hosts\n' }] });
    const old = await call(api, 'GET', `/api/v1/nodes/${node.id}/stage-runs?generation=0`);
    expect(old.body.stageRuns).toEqual([]);
    const bad = await call(api, 'GET', `/api/v1/nodes/${node.id}/stage-runs?generation=-1`);
    expect(bad.status).toBe(400);
    expect(bad.body.error.field).toBe('generation');
    const list = await call(api, 'GET', '/api/v1/nodes?state=assigned');
    expect(list.body.nodes.find((n: any) => n.id === node.id).currentStage).toEqual({ stage: 'common:hosts', status: 'running' });
  });

  it('previews what the node would be served, one kind or all', async () => {
    const node = api.ctx.services.nodes.assign(discovered('52:54:00:00:03:08').id, { hostname: 'preview-me', profile: 'debian-12' }, 'test');
    const all = await call(api, 'GET', `/api/v1/nodes/${node.id}/preview`);
    expect(all.status).toBe(200);
    expect(all.body.files.map((f: any) => f.kind)).toEqual(['ipxe', 'pxelinux', 'preseed', 'finish.sh']);
    expect(all.body.files[0].body).toContain('#!ipxe');
    // Each file is rendered or says why not (here: the installer kernel is not imported in the test tree).
    for (const file of all.body.files) expect(file.body ?? file.error).toEqual(expect.any(String));
    const one = await call(api, 'GET', `/api/v1/nodes/${node.id}/preview?kind=pxelinux`);
    expect(one.body.files).toHaveLength(1);
    const wrong = await call(api, 'GET', `/api/v1/nodes/${node.id}/preview?kind=kickstart`);
    expect(wrong.status).toBe(400);
    expect(wrong.body.error.field).toBe('kind');
  });
});

describe('GET /api/v1/events', () => {
  it('returns events since an id, oldest first', async () => {
    const before = (await call(api, 'GET', '/api/v1/events?limit=1')).body.events[0].id;
    discovered('52:54:00:00:04:01');
    discovered('52:54:00:00:04:02');
    const res = await call(api, 'GET', `/api/v1/events?since=${before}`);
    expect(res.body.events.map((e: any) => e.mac)).toEqual(['52:54:00:00:04:01', '52:54:00:00:04:02']);
    const bad = await call(api, 'GET', '/api/v1/events?since=yesterday');
    expect(bad.status).toBe(400);
    expect(bad.body.error.field).toBe('since');
  });
});
