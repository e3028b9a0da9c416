// The power service: BMC settings, test connection, re-image with power, failures, deadlines, concurrency.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../server/config.ts';
import { PowerError, type PowerDriver } from '../../server/power/driver.ts';
import { PowerService, type PowerServiceOptions } from '../../server/power/service.ts';
import { createServices, type Services } from '../../server/services/index.ts';
import { openStore, type Store } from '../../server/store/index.ts';
import { freeUdpPort, haveIpmiSim, startIpmiSim, type IpmiSim } from './ipmi-sim.ts';
import { startRedfishServer, type RedfishServer } from './redfish-server.ts';

let store: Store;
let services: Services;

function fresh(): void {
  store?.close();
  store = openStore(':memory:');
  services = createServices(loadConfig({ env: {}, overrides: { dataDir: '/nonexistent-rl-power' } }), store);
}

let macCounter = 0;
function addNode(hostname: string) {
  macCounter += 1;
  const mac = `52:54:00:10:00:${macCounter.toString(16).padStart(2, '0')}`;
  return services.nodes.add(mac, { hostname, profile: 'debian-12' }, 'test');
}

const eventsOf = (nodeId: number) => store.events.listForNode(nodeId).reverse();

/** A driver that records calls; `fail` makes one step fail, `hang` makes every call wait forever. */
function fakeDriver(calls: string[], behaviour: { fail?: Partial<Record<string, PowerError>>; hang?: boolean; delayMs?: number } = {}): PowerDriver {
  const step = async (name: string) => {
    calls.push(name);
    if (behaviour.hang) await new Promise(() => {});
    if (behaviour.delayMs) await new Promise((r) => setTimeout(r, behaviour.delayMs));
    const failure = behaviour.fail?.[name];
    if (failure) throw failure;
  };
  return {
    name: 'ipmi',
    status: async () => (await step('status'), 'off'),
    on: () => step('on'),
    off: () => step('off'),
    cycle: () => step('cycle'),
    setNextBoot: (device) => step(`boot ${device}`),
  };
}

const powerWith = (options: PowerServiceOptions) => new PowerService(store, services.nodes, options);

describe('BMC settings', () => {
  beforeEach(fresh);

  it('validates the input and never shows or records the password', () => {
    const node = addNode('r1n1');
    const power = powerWith({});
    expect(() => power.setBmc(node.id, { driver: 'ipmi', address: '10.0.0.5;reboot', username: 'admin', password: 'x' }, 'test')).toThrow(/IPv4 address or a host name/);
    expect(() => power.setBmc(node.id, { driver: 'ipmi', address: '10.0.0.5', username: 'ad\nmin', password: 'x' }, 'test')).toThrow(/control characters/);
    expect(() => power.setBmc(node.id, { driver: 'ipmi', address: '10.0.0.5', port: 70000, username: 'admin', password: 'x' }, 'test')).toThrow(/port/);
    expect(() => power.setBmc(node.id, { driver: 'ipmi', address: '10.0.0.5', username: 'admin' }, 'test')).toThrow(/no BMC password yet/);
    expect(() => power.setBmc(node.id, { driver: 'ipmi', address: '10.0.0.5', port: 'abc', username: 'admin', password: 'x' }, 'test')).toThrow(/port must be a number/);
    expect(() => power.setBmc(node.id, { driver: 'ipmi', address: '10.0.0.5', username: 'a-very-long-ipmi-user', password: 'x' }, 'test')).toThrow(/16 bytes/);
    expect(() => power.setBmc(node.id, { driver: 'redfish', address: 'bmc1', username: 'root', password: 'x', certFingerprint: 'abc' }, 'test')).toThrow(/64 hex/);

    const set = power.setBmc(node.id, { driver: 'ipmi', address: 'BMC-r1n1.example', port: 6230, username: 'admin', password: 'hunter2-secret' }, 'test');
    expect(set.bmc).toMatchObject({ driver: 'ipmi', address: 'bmc-r1n1.example', port: 6230, password: 'hunter2-secret' });
    // Changing the address without a password keeps the stored one.
    const moved = power.setBmc(node.id, { driver: 'ipmi', address: '10.0.0.6', username: 'admin' }, 'test');
    expect(moved.bmc?.password).toBe('hunter2-secret');
    const messages = eventsOf(node.id).map((e) => e.message).join('\n');
    expect(messages).toContain('BMC set by test: ipmi admin@bmc-r1n1.example:6230, new password');
    expect(messages).not.toContain('hunter2');
  });

  it('normalises a Redfish fingerprint', () => {
    const node = addNode('r1n2');
    const hex = 'ab'.repeat(32);
    const set = powerWith({}).setBmc(node.id, { driver: 'redfish', address: '10.0.0.7', username: 'root', password: 'p', certFingerprint: hex }, 'test');
    expect(set.bmc?.certFingerprint).toBe(Array(32).fill('AB').join(':'));
  });
});

describe('re-image with power (fake drivers)', () => {
  beforeEach(fresh);

  it('sets the next boot to the network, power-cycles, and records each step', async () => {
    const node = addNode('r2n1');
    const calls: string[] = [];
    const power = powerWith({ driverFor: () => fakeDriver(calls) });
    power.setBmc(node.id, { driver: 'ipmi', address: '10.0.0.8', username: 'admin', password: 'p' }, 'test');
    services.nodes.reimage(node.id, 'test');
    const outcome = await power.reimageWithPower(node.id, 'test');
    expect(outcome.ok).toBe(true);
    expect(calls).toEqual(['boot network-once', 'cycle']);
    expect(outcome.steps.map((s) => [s.step, s.ok])).toEqual([['next-boot', true], ['power-cycle', true]]);
    const kinds = eventsOf(node.id).slice(-2).map((e) => `${e.kind}: ${e.message}`);
    expect(kinds[0]).toMatch(/^power: re-image: next boot set to the network \(once\)/);
    expect(kinds[1]).toMatch(/^power: re-image: power-cycled through the BMC/);
    expect(store.nodes.get(node.id)!.powerState).toBe('on');
  });

  it('a BMC that times out leaves the node assigned with an event saying to power it on by hand', async () => {
    const node = addNode('r2n2');
    const calls: string[] = [];
    const power = powerWith({ driverFor: () => fakeDriver(calls, { hang: true }), timeoutMs: 200 });
    power.setBmc(node.id, { driver: 'ipmi', address: '10.0.0.9', username: 'admin', password: 'p' }, 'test');
    services.nodes.reimage(node.id, 'test');
    const outcome = await power.reimageWithPower(node.id, 'test');
    expect(outcome.ok).toBe(false);
    expect(outcome.failure).toBe('timeout');
    expect(calls).toEqual(['boot network-once']);
    expect(store.nodes.get(node.id)!.state).toBe('assigned');
    const last = eventsOf(node.id).at(-1)!;
    expect(last.kind).toBe('power-error');
    expect(last.message).toMatch(/no answer within 0.2 s.*stays assigned: power it on by hand/);
  });

  it('a BMC without a boot override is still power-cycled, with a warning event', async () => {
    const node = addNode('r2n3');
    const calls: string[] = [];
    const refused = new PowerError('refused', 'Set Chassis Boot Parameter 5 failed: Invalid data field in request');
    const power = powerWith({ driverFor: () => fakeDriver(calls, { fail: { 'boot network-once': refused } }) });
    power.setBmc(node.id, { driver: 'ipmi', address: '10.0.0.10', username: 'admin', password: 'p' }, 'test');
    const outcome = await power.reimageWithPower(node.id, 'test');
    expect(outcome.ok).toBe(true);
    expect(calls).toEqual(['boot network-once', 'cycle']);
    expect(eventsOf(node.id).some((e) => e.kind === 'power-error' && /only if the network is first in its boot order/.test(e.message))).toBe(true);
  });

  it('a node without a BMC gets an event, not an exception', async () => {
    const node = addNode('r2n4');
    const outcome = await powerWith({}).reimageWithPower(node.id, 'test');
    expect(outcome.ok).toBe(false);
    expect(eventsOf(node.id).at(-1)!.message).toMatch(/no BMC is set.*power it on by hand/);
  });

  it('bounds the BMC calls in flight across many nodes', async () => {
    const calls: string[] = [];
    const power = powerWith({ driverFor: () => fakeDriver(calls, { delayMs: 20 }), concurrency: 3 });
    const ids = Array.from({ length: 12 }, (_, i) => {
      const node = addNode(`r3n${i}`);
      power.setBmc(node.id, { driver: 'ipmi', address: `10.0.1.${i + 1}`, username: 'admin', password: 'p' }, 'test');
      return node.id;
    });
    const outcomes = await power.actMany(ids, 'on', 'test');
    expect(outcomes.every((o) => o.ok)).toBe(true);
    expect(calls.filter((c) => c === 'on')).toHaveLength(12);
    expect(power.peakConcurrency).toBe(3);
  });

  it('powers on waiting nodes with known BMCs, network boot first', async () => {
    const calls: string[] = [];
    const power = powerWith({ driverFor: () => fakeDriver(calls) });
    const withBmc = addNode('r4n1');
    addNode('r4n2'); // no BMC: not touched
    power.setBmc(withBmc.id, { driver: 'ipmi', address: '10.0.2.1', username: 'admin', password: 'p' }, 'test');
    const outcomes = await power.powerOnWaiting('test');
    expect(outcomes.map((o) => o.nodeId)).toEqual([withBmc.id]);
    expect(calls).toEqual(['status', 'boot network-once', 'on']);
  });
});

describe.skipIf(!haveIpmiSim)('power service against ipmi_sim', () => {
  let sim: IpmiSim;
  beforeAll(async () => {
    sim = await startIpmiSim();
  });
  afterAll(async () => {
    await sim?.stop();
  });
  beforeEach(fresh);

  it('test connection records the result; a wrong password is refused with a clear event', async () => {
    const node = addNode('sim1');
    const power = powerWith({});
    power.setBmc(node.id, { driver: 'ipmi', address: '127.0.0.1', port: sim.port, username: sim.username, password: sim.password }, 'test');
    const ok = await power.test(node.id, 'test');
    expect(ok).toMatchObject({ ok: true, powerState: 'off' });
    expect(eventsOf(node.id).at(-1)).toMatchObject({ kind: 'power-test', message: expect.stringMatching(/test connection ok .*power is off/) });

    power.setBmc(node.id, { driver: 'ipmi', address: '127.0.0.1', port: sim.port, username: sim.username, password: 'wrong-password' }, 'test');
    const refused = await power.test(node.id, 'test');
    expect(refused).toMatchObject({ ok: false, failure: 'auth' });
    const event = eventsOf(node.id).at(-1)!;
    expect(event.kind).toBe('power-test');
    expect(event.message).toMatch(/test connection failed for node sim1 \(#\d+\) \(state assigned\): BMC 127.0.0.1:\d+ refused the password/);
    expect(event.message).not.toContain('wrong-password');
  });

  it('re-image with power: next boot PXE once, then the machine is powered', async () => {
    const node = addNode('sim2');
    const power = powerWith({});
    power.setBmc(node.id, { driver: 'ipmi', address: '127.0.0.1', port: sim.port, username: sim.username, password: sim.password }, 'test');
    services.nodes.reimage(node.id, 'test');
    const outcome = await power.reimageWithPower(node.id, 'test');
    expect(outcome.ok).toBe(true);
    expect(sim.chassis('boot')).toBe('pxe');
    expect(sim.chassis('power')).toBe('1');
    expect((await power.status(node.id, 'test')).powerState).toBe('on');
    expect(store.nodes.get(node.id)!.powerState).toBe('on');
    await power.act(node.id, 'off', 'test');
    expect(sim.chassis('power')).toBe('0');
    expect(store.nodes.get(node.id)!.powerState).toBe('off');
  });

  it('an unreachable BMC leaves the node assigned and says to power it on by hand', async () => {
    const node = addNode('sim3');
    const power = powerWith({ ipmi: { answerTimeoutSeconds: 1, retries: 1 } });
    power.setBmc(node.id, { driver: 'ipmi', address: '127.0.0.1', port: await freeUdpPort(), username: 'admin', password: 'p' }, 'test');
    const outcome = await power.reimageWithPower(services.nodes.reimage(node.id, 'test').id, 'test');
    expect(outcome).toMatchObject({ ok: false, failure: 'unreachable' });
    expect(store.nodes.get(node.id)!.state).toBe('assigned');
    expect(eventsOf(node.id).at(-1)!.message).toMatch(/does not answer IPMI over LAN.*stays assigned: power it on by hand/);
  });
});

describe('power service against the Redfish test service', () => {
  let server: RedfishServer;
  beforeAll(async () => {
    server = await startRedfishServer({ powerState: 'Off' });
  });
  afterAll(async () => {
    await server?.close();
  });
  beforeEach(fresh);

  it('re-images with power over Redfish', async () => {
    const node = addNode('rf1');
    const power = powerWith({});
    power.setBmc(node.id, { driver: 'redfish', address: '127.0.0.1', port: server.port, username: 'root', password: 'calvin-rl', certFingerprint: server.opensslFingerprint }, 'test');
    const outcome = await power.reimageWithPower(node.id, 'test');
    expect(outcome.ok).toBe(true);
    const patch = server.requests.find((r) => r.method === 'PATCH');
    expect(patch?.body).toEqual({ Boot: { BootSourceOverrideTarget: 'Pxe', BootSourceOverrideEnabled: 'Once' } });
    expect(server.state().resets).toEqual(['On']); // it was off: a cycle of an off machine is On
  });
});
