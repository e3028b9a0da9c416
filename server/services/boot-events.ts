// Every boot decision the appliance makes for a machine is written as a `boot` event, whichever door it came
// through first (DHCP, TFTP or HTTP), on the machine's node when there is one and by its MAC when there is
// not yet (the node adopts those events when it is created). A decision that repeats the last one for the
// same MAC within a quarter hour is not written again: a machine in a discovery loop asks every few seconds.
import type { Store } from '../store/index.ts';

const REPEAT_WINDOW_MS = 15 * 60_000;
const REMEMBERED_MACS = 10_000;

export type BootDoor = 'dhcp' | 'tftp' | 'http';

export class BootEvents {
  private readonly last = new Map<string, { message: string; at: number }>();

  constructor(
    private readonly store: Store,
    private readonly now: () => number = Date.now,
  ) {}

  /** Writes the decision unless it repeats the last one; returns whether it was written. Throws what the store throws. */
  record(mac: string, door: BootDoor, message: string): boolean {
    const at = this.now();
    const previous = this.last.get(mac);
    if (previous && previous.message === message && at - previous.at < REPEAT_WINDOW_MS) return false;
    if (this.last.size >= REMEMBERED_MACS) this.last.clear();
    const node = this.store.nodes.getByMac(mac);
    this.store.events.append({ nodeId: node?.id ?? null, mac, kind: 'boot', message, actor: door });
    this.last.set(mac, { message, at });
    return true;
  }
}
