import { describe, expect, it } from 'vitest';
import { planTransition } from '../../server/domain/lifecycle.ts';
import { openStore } from '../../server/store/index.ts';
import { StaleStateError } from '../../server/store/nodes.ts';

describe('node store', () => {
  it('writes a transition and its event together', () => {
    const store = openStore(':memory:');
    let node = store.nodes.create('52:54:00:00:00:01', { archCode: 0 }, 'discovered via dhcp', 'dhcp');
    node = store.nodes.update(node.id, { profile: 'debian-12', hostname: 'cmp1', roles: ['compute'], addresses: { management: '10.0.0.11', tunnel: '10.1.0.11' } });
    node = store.nodes.writeTransition(node, planTransition(node, { kind: 'assign' }), { tokenHash: 'h1', actor: 'alice' });
    expect(node).toMatchObject({ state: 'assigned', generation: 1, installTokenHash: 'h1', hostname: 'cmp1', addresses: { management: '10.0.0.11', tunnel: '10.1.0.11' } });
    const events = store.events.listForNode(node.id);
    expect(events.map((e) => [e.fromState, e.toState, e.actor])).toEqual([
      ['discovered', 'assigned', 'alice'],
      [null, 'discovered', 'dhcp'],
    ]);
    expect(store.nodes.getByInstallTokenHash('h1')?.id).toBe(node.id);
    expect(store.nodes.getByManagementAddress('10.0.0.11')?.id).toBe(node.id);
  });

  it('refuses a transition planned from a state the node has already left', () => {
    const store = openStore(':memory:');
    const node = store.nodes.update(store.nodes.create('52:54:00:00:00:02', {}, 'added', 'cli').id, { profile: 'debian-12' });
    const first = planTransition(node, { kind: 'assign' });
    store.nodes.writeTransition(node, first);
    expect(() => store.nodes.writeTransition(node, first)).toThrow(StaleStateError);
    expect(store.events.listForNode(node.id)).toHaveLength(2);
  });

  it('keeps the events of a forgotten node', () => {
    const store = openStore(':memory:');
    const node = store.nodes.create('52:54:00:00:00:03', {}, 'added', 'cli');
    store.nodes.delete(node, 'bob');
    expect(store.nodes.get(node.id)).toBeNull();
    expect(store.events.listForNode(node.id).map((e) => e.kind)).toEqual(['forget', 'transition']);
  });

  it('never lets update() touch the state', () => {
    const store = openStore(':memory:');
    const node = store.nodes.create('52:54:00:00:00:04', {}, 'added', 'cli');
    // @ts-expect-error state is not an updatable field
    expect(() => store.nodes.update(node.id, { state: 'ready' })).toThrow();
    expect(store.nodes.get(node.id)?.state).toBe('discovered');
  });
});
