// Remembers network-boot clients: an unknown MAC becomes a `discovered` node (one event), a known one gets its
// latest boot facts, and the boot decision DHCP handed out is a `boot` event. Writes are collected and done in
// one transaction shortly after, never on the packet path, and each MAC is written at most once per interval
// however often it asks.
import type { NodeFacts } from '../domain/types.ts';
import type { Logger } from '../log.ts';
import type { NodeBootPlan } from '../services/boot.ts';
import type { BootEvents } from '../services/boot-events.ts';
import type { NodeService } from '../services/nodes.ts';
import type { Db } from '../store/db.ts';
import type { ClientRequest } from './request.ts';
import { userClassForPlan } from './request.ts';
import { isBootClient } from './scope.ts';

/** Nodes written per turn of the event loop: a rack powering on must not hold the loop for long. */
const BATCH = 20;

export interface BootRecorderOptions {
  delayMs?: number;
  minIntervalMs?: number;
  now?: () => number;
}

export class BootRecorder {
  private readonly pending = new Map<string, { facts: NodeFacts; decision: string }>();
  private readonly lastRecorded = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  private readonly delayMs: number;
  private readonly minIntervalMs: number;
  private readonly now: () => number;

  constructor(
    private readonly nodes: NodeService,
    private readonly db: Db,
    private readonly log: Logger,
    private readonly bootEvents: BootEvents | null,
    options: BootRecorderOptions = {},
  ) {
    this.delayMs = options.delayMs ?? 200;
    this.minIntervalMs = options.minIntervalMs ?? 60_000;
    this.now = options.now ?? Date.now;
  }

  record(request: ClientRequest, plan: NodeBootPlan): void {
    if (!isBootClient(plan)) return;
    const now = this.now();
    const last = this.lastRecorded.get(request.mac);
    if (last !== undefined && now - last < this.minIntervalMs) return;
    this.lastRecorded.set(request.mac, now);
    this.pending.set(request.mac, { facts: factsOf(request, plan, now), decision: decisionOf(plan) });
    this.timer ??= setTimeout(() => this.flush(), this.delayMs);
  }

  /** Writes up to one batch now; the rest follows on later turns of the event loop (or all, with `all`). */
  flush(all = false): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    do {
      const batch = [...this.pending].slice(0, BATCH);
      if (batch.length === 0) return;
      for (const [mac] of batch) this.pending.delete(mac);
      this.write(batch);
    } while (all);
    if (this.pending.size > 0) this.timer = setTimeout(() => this.flush(), 0);
    if (this.lastRecorded.size > 10_000) this.forgetOld();
  }

  private write(batch: [string, { facts: NodeFacts; decision: string }][]): void {
    try {
      this.db.transaction(() => {
        for (const [mac, { facts, decision }] of batch) {
          const existing = this.nodes.findByMac(mac);
          if (existing) this.nodes.recordBootFacts(existing, facts);
          else this.log.info({ mac, node: this.nodes.discover(mac, facts, 'dhcp').id }, 'new machine network-booted: recorded as discovered');
          this.bootEvents?.record(mac, 'dhcp', decision);
        }
      })();
    } catch (error) {
      this.log.error({ err: error, macs: batch.map(([mac]) => mac) }, 'could not record network-boot clients');
    }
  }

  private forgetOld(): void {
    const cutoff = this.now() - this.minIntervalMs;
    for (const [mac, at] of this.lastRecorded) if (at < cutoff) this.lastRecorded.delete(mac);
  }

  close(): void {
    this.flush(true);
  }
}

/** The boot decision DHCP handed out, in one line: what the firmware gets and where the plan leads. */
export function decisionOf(plan: NodeBootPlan): string {
  const { firmware, target } = plan;
  const step = firmware.kind === 'tftp' ? `${firmware.file} over TFTP` : firmware.kind === 'http' ? firmware.url : `no boot file (${firmware.reason})`;
  const then = target.kind === 'install' ? `install ${target.profile}, generation ${target.generation}` : target.reason;
  return `DHCP: ${plan.client.firmware} client gets ${step}; plan: ${then}`;
}

function factsOf(request: ClientRequest, plan: NodeBootPlan, now: number): NodeFacts {
  const facts: NodeFacts = { firmware: plan.client.firmware, lastBootAt: new Date(now).toISOString(), lastBootVia: 'dhcp' };
  if (plan.client.archCode !== null) facts.archCode = plan.client.archCode;
  if (request.vendorClass) facts.vendorClass = request.vendorClass;
  const userClass = userClassForPlan(request);
  if (userClass) facts.userClass = userClass;
  if (request.uuid) facts.guid = request.uuid;
  return facts;
}
