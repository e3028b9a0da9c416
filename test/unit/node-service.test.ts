import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../server/config.ts';
import { IllegalTransitionError } from '../../server/domain/lifecycle.ts';
import { createServices } from '../../server/services/index.ts';
import { ConflictError, ValidationError } from '../../server/services/errors.ts';
import { openStore } from '../../server/store/index.ts';

function setup() {
  const config = loadConfig({
    env: {},
    overrides: {
      dataDir: '/tmp/rl-unused',
      'provisioning.address': '10.20.0.1',
      'provisioning.subnet': '10.20.0.0/24',
      'provisioning.gateway': '10.20.0.254',
      'provisioning.pool': { start: '10.20.0.100', end: '10.20.0.199' },
      'dhcp.enabled': false,
    },
  });
  const store = openStore(':memory:');
  return { store, services: createServices(config, store) };
}

type Services = ReturnType<typeof setup>['services'];
/** The node behind a token, as the install routes see it from `source`, or null when refused. */
const nodeFor = (services: Services, token: string, source = '10.20.0.10') => {
  const verdict = services.callbacks.authorize({ token, what: 'GET preseed', source }, 'refuse');
  return verdict.ok ? verdict.node : null;
};

describe('node service', () => {
  it('adds and assigns in one step when a profile is given, minting a token for the generation', () => {
    const { services, store } = setup();
    const node = services.nodes.add('52-54-00-AA-BB-01', { hostname: 'CTL1', profile: 'debian-12', roles: ['network', 'controller'], managementAddress: '10.20.0.10' }, 'cli');
    expect(node).toMatchObject({ mac: '52:54:00:aa:bb:01', hostname: 'ctl1', state: 'assigned', generation: 1, roles: ['controller', 'network'] });
    const token = services.nodes.installTokenOf(node)!;
    expect(token).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(nodeFor(services, token)?.id).toBe(node.id);
    expect(store.events.listForNode(node.id).map((e) => e.toState)).toEqual(['assigned', 'discovered']);
  });

  it('re-image kills the old token and issues a new one', () => {
    const { services, store } = setup();
    const node = services.nodes.add('52:54:00:aa:bb:02', { hostname: 'cmp1', profile: 'debian-12', managementAddress: '10.20.0.11' }, 'cli');
    const oldToken = services.nodes.installTokenOf(node)!;
    const again = services.nodes.reimage('cmp1', 'alice');
    const newToken = services.nodes.installTokenOf(again)!;
    expect(again.generation).toBe(2);
    expect(newToken).not.toBe(oldToken);
    expect(nodeFor(services, oldToken, '10.20.0.11')).toBeNull();
    expect(nodeFor(services, newToken, '10.20.0.11')?.id).toBe(node.id);
    expect(store.events.listRecent(1)[0]).toMatchObject({
      kind: 'token-refused',
      nodeId: node.id,
      message: expect.stringContaining('token of install generation 1, the node is at generation 2'),
    });
    expect(nodeFor(services, 'zz-' + newToken.slice(3), '10.20.0.11')).toBeNull();
    expect(nodeFor(services, 'not a token', '10.20.0.11')).toBeNull();
    expect(store.events.listRecent(1)[0]).toMatchObject({ nodeId: null, source: '10.20.0.11', message: 'GET preseed from 10.20.0.11 refused: unknown token' });
  });

  it('a token stops working once the install is done', () => {
    const { services, store } = setup();
    let node = services.nodes.add('52:54:00:aa:bb:03', { hostname: 'cmp2', profile: 'debian-12', managementAddress: '10.20.0.12' }, 'cli');
    const token = services.nodes.installTokenOf(node)!;
    node = services.nodes.apply(node, { kind: 'install-started' }, 'installer');
    node = services.nodes.apply(node, { kind: 'install-done' }, 'installer');
    expect(node.installTokenHash).toBeNull();
    expect(services.nodes.installTokenOf(node)).toBeNull();
    expect(nodeFor(services, token, '10.20.0.12')).toBeNull();
    expect(store.events.listRecent(1)[0]!.message).toContain('the install of generation 1 is over (node is installed)');
  });

  it('rejects bad operator input with the field and the reason', () => {
    const { services } = setup();
    const attempt = (settings: Record<string, unknown>) => () => services.nodes.add('52:54:00:aa:bb:04', settings, 'cli');
    expect(attempt({ hostname: 'bad_name' })).toThrow(ValidationError);
    expect(attempt({ hostname: 'a\nb' })).toThrow(/hostname/);
    expect(attempt({ hostname: 'x$(reboot)' })).toThrow(/hostname/);
    expect(attempt({ managementAddress: '10.99.0.5' })).toThrow(/outside the provisioning subnets/);
    expect(attempt({ managementAddress: '10.20.0.150' })).toThrow(/inside the dynamic pool/);
    expect(attempt({ managementAddress: '10.20.0.1' })).toThrow(/appliance's own address/);
    expect(attempt({ roles: ['controller', 'database'] })).toThrow(/role must be one of/);
    expect(attempt({ profile: 'windows' })).toThrow(/no OS profile named windows/);
    expect(attempt({ disks: ['../etc/passwd'] })).toThrow(/disk/);
    expect(() => services.nodes.add('not-a-mac', {}, 'cli')).toThrow(/mac: not a MAC address/);
  });

  it('refuses duplicate MACs, hostnames and reservations', () => {
    const { services } = setup();
    services.nodes.add('52:54:00:aa:bb:05', { hostname: 'ctl1', managementAddress: '10.20.0.10' }, 'cli');
    expect(() => services.nodes.add('52:54:00:aa:bb:05', {}, 'cli')).toThrow(ConflictError);
    expect(() => services.nodes.add('52:54:00:aa:bb:06', { hostname: 'ctl1' }, 'cli')).toThrow(/hostname: ctl1 is already used/);
    expect(() => services.nodes.add('52:54:00:aa:bb:07', { managementAddress: '10.20.0.10' }, 'cli')).toThrow(/reserved for node ctl1/);
  });

  it('assign requires a discovered node with a hostname and profile', () => {
    const { services } = setup();
    services.nodes.discover('52:54:00:aa:bb:08', { archCode: 7 }, 'dhcp');
    expect(() => services.nodes.assign('52:54:00:aa:bb:08', { profile: 'debian-12' }, 'cli')).toThrow(/hostname is required/);
    const node = services.nodes.assign('52:54:00:aa:bb:08', { profile: 'debian-12', hostname: 'cmp3' }, 'cli');
    expect(node.state).toBe('assigned');
    expect(() => services.nodes.assign('cmp3', {}, 'cli')).toThrow(IllegalTransitionError);
  });

  it('discovery records an unknown MAC once', () => {
    const { services, store } = setup();
    const first = services.nodes.discover('52:54:00:aa:bb:09', { archCode: 0 }, 'dhcp');
    const second = services.nodes.discover('52:54:00:aa:bb:09', { archCode: 0 }, 'dhcp');
    expect(second.id).toBe(first.id);
    expect(store.events.listForNode(first.id)).toHaveLength(1);
  });
});
