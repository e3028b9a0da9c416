// How long a machine has been silent, said the same way on the node page, in `node list` and by the watchdog:
// a node that is installing and has not asked the appliance for anything (no DHCP, TFTP or HTTP request, no
// package through the appliance's cache) for longer than its phase allows has stopped, and fails with that
// reason instead of waiting for the two-hour install limit.
import type { LifecycleEvent } from './lifecycle.ts';
import type { NodeRecord } from './types.ts';

export type ContactView = Pick<NodeRecord, 'lastContactAt' | 'lastContactVia'>;

/** Seconds since the last contact, or null if the machine was never heard from. */
export function secondsSinceContact(node: ContactView, nowMs: number): number | null {
  if (!node.lastContactAt) return null;
  return Math.max(0, Math.floor((nowMs - Date.parse(node.lastContactAt)) / 1000));
}

export function formatSilence(seconds: number): string {
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ${minutes % 60} min`;
  return `${Math.floor(hours / 24)} days`;
}

/** One short phrase: `in contact (12 s ago, tftp grubx64.efi)`, `no contact for 7 min`, `never in contact`. */
export function describeContact(node: ContactView, nowMs: number): string {
  const seconds = secondsSinceContact(node, nowMs);
  if (seconds === null) return 'never in contact';
  if (seconds < 60) return `in contact (${seconds} s ago${node.lastContactVia ? `, ${node.lastContactVia}` : ''})`;
  return `no contact for ${formatSilence(seconds)}`;
}

export interface ContactLimits {
  /** Longest a node may stay silent while `installing` (seconds). */
  installNoContactSeconds: number;
}

/** The per-phase silence rule: an installing node silent past its limit fails, saying what it last asked for. */
export function silenceVerdict(
  node: Pick<NodeRecord, 'state' | 'stateChangedAt' | 'lastContactAt' | 'lastContactVia'>,
  nowMs: number,
  limits: ContactLimits,
): Extract<LifecycleEvent, { kind: 'fail' }> | null {
  if (node.state !== 'installing') return null;
  // Silence counts from the later of the last contact and the moment the install started.
  const since = Math.max(Date.parse(node.stateChangedAt), node.lastContactAt ? Date.parse(node.lastContactAt) : 0);
  const silent = Math.floor((nowMs - since) / 1000);
  if (silent <= limits.installNoContactSeconds) return null;
  const last = node.lastContactAt ? `last contact ${node.lastContactAt}${node.lastContactVia ? ` (${node.lastContactVia})` : ''}` : 'never heard from since it started installing';
  return {
    kind: 'fail',
    phase: 'install',
    reason: `no contact for ${formatSilence(silent)} while installing (limit ${formatSilence(limits.installNoContactSeconds)}; ${last}): the installer stopped asking for anything; check its console (a question, a bad mirror), then re-image`,
  };
}
