import { describe, expect, it } from 'vitest';
import { IllegalTransitionError, planTransition, watchdogVerdict, type LifecycleEvent } from '../../server/domain/lifecycle.ts';
import { NODE_STATES, type NodeState } from '../../server/domain/types.ts';

const EVENTS: LifecycleEvent[] = [
  { kind: 'assign' },
  { kind: 'install-started' },
  { kind: 'install-done' },
  { kind: 'ssh-answered' },
  { kind: 'bootstrap-complete' },
  { kind: 'fail', phase: 'bootstrap', reason: 'stage keystone exited 1' },
  { kind: 'claim-conflict', reason: 'two machines claimed the install' },
  { kind: 'retry' },
  { kind: 'reimage' },
];

// Every state x event: the target state, or null where the lifecycle must refuse.
const TABLE: Record<NodeState, Record<LifecycleEvent['kind'], NodeState | null>> = {
  discovered: { assign: 'assigned', 'install-started': null, 'install-done': null, 'ssh-answered': null, 'bootstrap-complete': null, fail: null, 'claim-conflict': null, retry: null, reimage: 'assigned' },
  assigned: { assign: null, 'install-started': 'installing', 'install-done': null, 'ssh-answered': null, 'bootstrap-complete': null, fail: null, 'claim-conflict': null, retry: null, reimage: 'assigned' },
  installing: { assign: null, 'install-started': null, 'install-done': 'installed', 'ssh-answered': null, 'bootstrap-complete': null, fail: 'failed', 'claim-conflict': 'failed', retry: null, reimage: 'assigned' },
  installed: { assign: null, 'install-started': null, 'install-done': null, 'ssh-answered': 'bootstrapping', 'bootstrap-complete': null, fail: 'failed', 'claim-conflict': 'failed', retry: null, reimage: 'assigned' },
  bootstrapping: { assign: null, 'install-started': null, 'install-done': null, 'ssh-answered': null, 'bootstrap-complete': 'ready', fail: 'failed', 'claim-conflict': 'failed', retry: null, reimage: 'assigned' },
  ready: { assign: null, 'install-started': null, 'install-done': null, 'ssh-answered': null, 'bootstrap-complete': null, fail: null, 'claim-conflict': 'failed', retry: null, reimage: 'assigned' },
  failed: { assign: null, 'install-started': null, 'install-done': null, 'ssh-answered': null, 'bootstrap-complete': null, fail: null, 'claim-conflict': null, retry: 'bootstrapping', reimage: 'assigned' },
};

describe('lifecycle: every state x event', () => {
  for (const state of NODE_STATES) {
    for (const event of EVENTS) {
      const expected = TABLE[state][event.kind];
      it(`${state} --${event.kind}--> ${expected ?? 'refused'}`, () => {
        const node = { state, failedPhase: state === 'failed' ? ('bootstrap' as const) : null, profile: 'debian-12', generation: 3, mac: '52:54:00:00:00:01' };
        if (expected === null) {
          expect(() => planTransition(node, event)).toThrow(IllegalTransitionError);
        } else {
          const transition = planTransition(node, event);
          expect(transition.from).toBe(state);
          expect(transition.to).toBe(expected);
        }
      });
    }
  }
});

describe('lifecycle rules', () => {
  const base = { state: 'discovered' as NodeState, failedPhase: null, profile: 'debian-12', generation: 0, hostname: 'cmp1' };

  it('assign and reimage start a new install generation; other events keep it', () => {
    expect(planTransition(base, { kind: 'assign' }).newGeneration).toBe(1);
    expect(planTransition({ ...base, state: 'ready', generation: 4 }, { kind: 'reimage' }).newGeneration).toBe(5);
    expect(planTransition({ ...base, state: 'assigned', generation: 1 }, { kind: 'install-started' }).newGeneration).toBeNull();
  });

  it('refuses to assign or reimage a node without a profile, saying what to do', () => {
    expect(() => planTransition({ ...base, profile: null }, { kind: 'assign' })).toThrow(/cmp1 is discovered: cannot assign: it has no OS profile/);
    expect(() => planTransition({ ...base, state: 'ready', profile: null }, { kind: 'reimage' })).toThrow(/no OS profile/);
  });

  it('retries only a failed bootstrap; a failed install is re-imaged', () => {
    expect(() => planTransition({ ...base, state: 'failed', failedPhase: 'install' }, { kind: 'retry' })).toThrow(/re-image a failed install/);
  });

  it('fail records the phase and the reason', () => {
    const t = planTransition({ ...base, state: 'installing' }, { kind: 'fail', phase: 'install', reason: 'watchdog' });
    expect(t).toMatchObject({ to: 'failed', failedPhase: 'install', failedReason: 'watchdog' });
  });

  it('the error names the node, its state and the allowed states', () => {
    try {
      planTransition({ ...base, state: 'ready' }, { kind: 'install-done' });
      expect.unreachable();
    } catch (error) {
      expect((error as Error).message).toBe('node cmp1 is ready: cannot install-done: allowed only from installing');
    }
  });
});

describe('watchdog rule', () => {
  const limits = { installSeconds: 3600, sshWaitSeconds: 600 };
  const at = (state: NodeState, secondsAgo: number) => ({ state, stateChangedAt: new Date(Date.parse('2026-12-01T12:00:00Z') - secondsAgo * 1000).toISOString() });
  const now = Date.parse('2026-12-01T12:00:00Z');

  it('fails an install that runs past its limit', () => {
    expect(watchdogVerdict(at('installing', 3601), now, limits)).toMatchObject({ kind: 'fail', phase: 'install' });
    expect(watchdogVerdict(at('installing', 3599), now, limits)).toBeNull();
  });

  it('fails an installed node whose SSH never answers', () => {
    expect(watchdogVerdict(at('installed', 601), now, limits)).toMatchObject({ kind: 'fail', phase: 'bootstrap' });
  });

  it('leaves every other state alone', () => {
    for (const state of ['discovered', 'assigned', 'bootstrapping', 'ready', 'failed'] as const) {
      expect(watchdogVerdict(at(state, 1e6), now, limits)).toBeNull();
    }
  });
});
