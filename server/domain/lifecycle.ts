// Every node state and every allowed transition. The store persists what this module decides; nothing else
// decides a state change.
import type { FailedPhase, NodeRecord, NodeState } from './types.ts';

export type LifecycleEvent =
  | { kind: 'assign' }
  | { kind: 'install-started' }
  | { kind: 'install-done' }
  | { kind: 'ssh-answered' }
  | { kind: 'bootstrap-complete' }
  | { kind: 'fail'; phase: FailedPhase; reason: string }
  /** Two machines claimed the same install (a second or different done): the install cannot be trusted. */
  | { kind: 'claim-conflict'; reason: string }
  | { kind: 'retry' }
  | { kind: 'reimage' };

export type LifecycleEventKind = LifecycleEvent['kind'];

/** The part of a node the lifecycle looks at. */
export type LifecycleView = Pick<NodeRecord, 'state' | 'failedPhase' | 'profile' | 'generation'> & {
  id?: number;
  mac?: string;
  hostname?: string | null;
};

export interface Transition {
  from: NodeState;
  to: NodeState;
  event: LifecycleEventKind;
  /** Set when the transition starts a new install generation (assign, reimage); the caller mints a new token. */
  newGeneration: number | null;
  failedPhase: FailedPhase | null;
  failedReason: string | null;
  /** One line for the event log. */
  message: string;
}

export class IllegalTransitionError extends Error {
  readonly code = 'illegal_transition';
  constructor(
    readonly node: LifecycleView,
    readonly event: LifecycleEventKind,
    reason: string,
  ) {
    super(`node ${describe(node)} is ${node.state}: cannot ${event}: ${reason}`);
  }
}

const ALLOWED_FROM: Record<Exclude<LifecycleEventKind, 'reimage'>, readonly NodeState[]> = {
  assign: ['discovered'],
  'install-started': ['assigned'],
  'install-done': ['installing'],
  'ssh-answered': ['installed'],
  'bootstrap-complete': ['bootstrapping'],
  fail: ['installing', 'installed', 'bootstrapping'],
  'claim-conflict': ['installing', 'installed', 'bootstrapping', 'ready'],
  retry: ['failed'],
};

const TARGET: Record<LifecycleEventKind, NodeState> = {
  assign: 'assigned',
  'install-started': 'installing',
  'install-done': 'installed',
  'ssh-answered': 'bootstrapping',
  'bootstrap-complete': 'ready',
  fail: 'failed',
  'claim-conflict': 'failed',
  retry: 'bootstrapping',
  reimage: 'assigned',
};

/** Decide the transition for an event, or throw IllegalTransitionError saying why it is refused. */
export function planTransition(node: LifecycleView, event: LifecycleEvent): Transition {
  const from = node.state;
  if (event.kind !== 'reimage' && !ALLOWED_FROM[event.kind].includes(from)) {
    throw new IllegalTransitionError(node, event.kind, `allowed only from ${ALLOWED_FROM[event.kind].join(', ')}`);
  }
  if ((event.kind === 'assign' || event.kind === 'reimage') && !node.profile) {
    throw new IllegalTransitionError(node, event.kind, 'it has no OS profile; set one first');
  }
  if (event.kind === 'retry' && node.failedPhase !== 'bootstrap') {
    throw new IllegalTransitionError(node, event.kind, 'only a failed bootstrap can be retried; re-image a failed install');
  }
  const to = TARGET[event.kind];
  const base = { from, to, event: event.kind, newGeneration: null, failedPhase: null, failedReason: null };
  switch (event.kind) {
    case 'fail':
      return { ...base, failedPhase: event.phase, failedReason: event.reason, message: `${event.phase} failed: ${event.reason}` };
    case 'claim-conflict':
      return { ...base, failedPhase: 'install', failedReason: event.reason, message: `install failed: ${event.reason}` };
    case 'assign':
      return { ...base, newGeneration: node.generation + 1, message: `assigned: install generation ${node.generation + 1}` };
    case 'reimage':
      return { ...base, newGeneration: node.generation + 1, message: `re-image: install generation ${node.generation + 1}` };
    case 'retry':
      return { ...base, message: 'retry bootstrap from the failed stage' };
    default:
      return { ...base, message: `${from} -> ${to}` };
  }
}

export function canApply(node: LifecycleView, event: LifecycleEvent): boolean {
  try {
    planTransition(node, event);
    return true;
  } catch (error) {
    if (error instanceof IllegalTransitionError) return false;
    throw error;
  }
}

/** States in which the node's current install token is honoured by the installer routes. */
export function installTokenValid(state: NodeState): boolean {
  return state === 'assigned' || state === 'installing';
}

export interface WatchdogLimits {
  /** Longest time a node may stay `installing` (seconds). */
  installSeconds: number;
  /** Longest time an `installed` node may take before SSH answers (seconds). */
  sshWaitSeconds: number;
}

/** The watchdog rule: a node stuck in an install phase past its limit fails with a reason; otherwise null. */
export function watchdogVerdict(
  node: Pick<NodeRecord, 'state' | 'stateChangedAt'>,
  nowMs: number,
  limits: WatchdogLimits,
): Extract<LifecycleEvent, { kind: 'fail' }> | null {
  const elapsed = (nowMs - Date.parse(node.stateChangedAt)) / 1000;
  if (node.state === 'installing' && elapsed > limits.installSeconds) {
    return { kind: 'fail', phase: 'install', reason: `still installing after ${Math.round(elapsed)} s (limit ${limits.installSeconds} s); check the console, then re-image` };
  }
  if (node.state === 'installed' && elapsed > limits.sshWaitSeconds) {
    return { kind: 'fail', phase: 'bootstrap', reason: `SSH did not answer within ${limits.sshWaitSeconds} s of the install finishing; check that it booted its disk` };
  }
  return null;
}

function describe(node: LifecycleView): string {
  return node.hostname ?? node.mac ?? (node.id !== undefined ? `#${node.id}` : '(new)');
}
