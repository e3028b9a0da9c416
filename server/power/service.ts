// Power control of nodes through their BMCs, shared by the CLI, the REST API and the web form. Every action
// is recorded as an event on the node; every BMC call runs under a deadline and a bound on concurrency.
import type { BmcSettings, NodeState } from '../domain/types.ts';
import type { Logger } from '../log.ts';
import { NotFoundError, ValidationError } from '../services/errors.ts';
import type { NodeService } from '../services/nodes.ts';
import type { Store } from '../store/index.ts';
import type { StoredNode } from '../store/nodes.ts';
import { PowerError, type BootDevice, type PowerAction, type PowerDriver, type PowerState } from './driver.ts';
import { IpmiDriver, type IpmiOptions } from './ipmi.ts';
import { Limiter, withDeadline } from './limit.ts';
import { RedfishDriver, type RedfishOptions } from './redfish.ts';
import { bmcInputSchema, defaultPort, type BmcInput } from './settings.ts';

export interface PowerServiceOptions {
  /** BMC calls in flight at once, over all nodes. */
  concurrency?: number;
  /** Deadline of one BMC operation (one ipmitool run, or one Redfish exchange of a few requests). */
  timeoutMs?: number;
  ipmi?: IpmiOptions;
  redfish?: RedfishOptions;
  /** Tests replace the drivers. */
  driverFor?: (node: StoredNode, bmc: BmcSettings) => PowerDriver;
  log?: Logger;
}

export interface PowerOutcome {
  nodeId: number;
  ok: boolean;
  powerState: PowerState | null;
  message: string;
  failure?: PowerError['failure'];
}

export interface ReimageStep {
  step: 'next-boot' | 'power-cycle';
  ok: boolean;
  message: string;
}

export interface PowerReimageOutcome extends PowerOutcome {
  steps: ReimageStep[];
}

/** Nodes that wait for their first install: the candidates for "power on what was just racked". */
const WAITING_FOR_INSTALL: NodeState[] = ['discovered', 'assigned'];

export class PowerService {
  private readonly limiter: Limiter;
  private readonly timeoutMs: number;

  constructor(
    private readonly store: Store,
    private readonly nodes: NodeService,
    private readonly options: PowerServiceOptions = {},
  ) {
    this.limiter = new Limiter(options.concurrency ?? 8);
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  /** Highest number of BMC operations seen in flight at once. */
  get peakConcurrency(): number {
    return this.limiter.peak;
  }

  /** Sets a node's BMC. A password left out keeps the stored one; it is never echoed or put in an event. */
  setBmc(ref: string | number, input: BmcInput, actor: string): StoredNode {
    const node = this.nodes.find(ref);
    const parsed = bmcInputSchema.safeParse(input);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new ValidationError(`bmc.${issue.path.join('.') || 'settings'}`, issue.message);
    }
    const password = parsed.data.password ?? node.bmc?.password;
    if (!password) throw new ValidationError('bmc.password', `node ${label(node)} has no BMC password yet: give one (--password-file or --password-stdin)`);
    const bmc: BmcSettings = { ...parsed.data, password };
    const updated = this.store.nodes.update(node.id, { bmc, powerState: null });
    this.record(node, 'bmc', `BMC set by ${actor}: ${describeBmc(bmc)}${parsed.data.password ? ', new password' : ''}`, actor);
    return updated;
  }

  clearBmc(ref: string | number, actor: string): StoredNode {
    const node = this.nodes.find(ref);
    const updated = this.store.nodes.update(node.id, { bmc: null, powerState: null });
    this.record(node, 'bmc', `BMC settings removed by ${actor}`, actor);
    return updated;
  }

  /** Reads the power state and records it on the node; a failure is an event. */
  async status(ref: string | number, actor: string): Promise<PowerOutcome> {
    const node = this.nodes.find(ref);
    try {
      const state = await this.call(node, 'power status', (driver, signal) => driver.status(signal));
      this.store.nodes.update(node.id, { powerState: state });
      return { nodeId: node.id, ok: true, powerState: state, message: `power is ${state}` };
    } catch (error) {
      return this.failed(node, 'power status', error, actor);
    }
  }

  /** "Test connection": logs in, reads the power state, and records the result either way. */
  async test(ref: string | number, actor: string): Promise<PowerOutcome> {
    const node = this.nodes.find(ref);
    try {
      const state = await this.call(node, 'test connection', (driver, signal) => driver.status(signal));
      this.store.nodes.update(node.id, { powerState: state });
      const message = `BMC test connection ok (${describeBmc(node.bmc!)}): power is ${state}`;
      this.record(node, 'power-test', message, actor);
      return { nodeId: node.id, ok: true, powerState: state, message };
    } catch (error) {
      return this.failed(node, 'test connection', error, actor, 'power-test');
    }
  }

  async act(ref: string | number, action: PowerAction, actor: string): Promise<PowerOutcome> {
    const node = this.nodes.find(ref);
    const what = `power ${action}`;
    try {
      await this.call(node, what, (driver, signal) => driver[action](signal));
      const state: PowerState = action === 'off' ? 'off' : 'on';
      this.store.nodes.update(node.id, { powerState: state });
      const message = `${what} through the BMC (${describeBmc(node.bmc!)}) by ${actor}`;
      this.record(node, 'power', message, actor);
      return { nodeId: node.id, ok: true, powerState: state, message };
    } catch (error) {
      return this.failed(node, what, error, actor);
    }
  }

  async setNextBoot(ref: string | number, device: BootDevice, actor: string): Promise<PowerOutcome> {
    const node = this.nodes.find(ref);
    const what = `next boot ${device}`;
    try {
      await this.call(node, what, (driver, signal) => driver.setNextBoot(device, signal));
      const message = `${what} set through the BMC by ${actor}`;
      this.record(node, 'power', message, actor);
      return { nodeId: node.id, ok: true, powerState: node.powerState as PowerState | null, message };
    } catch (error) {
      return this.failed(node, what, error, actor);
    }
  }

  /**
   * The power half of "re-image from scratch", after NodeService.reimage put the node in `assigned`: next
   * boot from the network (once), then a power cycle. Each step is an event. When the BMC fails, the node
   * stays `assigned` (its boot plan is already "install") and the event says to power it on by hand.
   */
  async reimageWithPower(ref: string | number, actor: string): Promise<PowerReimageOutcome> {
    const node = this.nodes.find(ref);
    const steps: ReimageStep[] = [];
    const byHand = `node ${label(node)} stays ${node.state}: power it on by hand and let it boot from the network to install`;
    if (!node.bmc) {
      const message = `re-image: no BMC is set, so it was not power-cycled; ${byHand}`;
      this.record(node, 'power-error', message, actor);
      return { nodeId: node.id, ok: false, powerState: null, message, steps };
    }
    try {
      await this.call(node, 'next boot network-once', (driver, signal) => driver.setNextBoot('network-once', signal));
      steps.push({ step: 'next-boot', ok: true, message: 're-image: next boot set to the network (once) through the BMC' });
      this.record(node, 'power', steps[0]!.message, actor);
    } catch (error) {
      const reason = reasonOf(error);
      if (!(error instanceof PowerError) || error.failure !== 'refused') {
        return this.reimageFailed(node, steps, 'next-boot', `re-image: setting the next boot to the network failed: ${reason}; ${byHand}`, error, actor);
      }
      // A BMC that answers but has no boot override: a node that boots the network first still installs.
      const message = `re-image: the BMC refused a one-time network boot (${reason}); power-cycling anyway, the node installs only if the network is first in its boot order`;
      steps.push({ step: 'next-boot', ok: false, message });
      this.record(node, 'power-error', message, actor);
    }
    try {
      await this.call(node, 'power cycle', (driver, signal) => driver.cycle(signal));
      this.store.nodes.update(node.id, { powerState: 'on' });
      steps.push({ step: 'power-cycle', ok: true, message: `re-image: power-cycled through the BMC (${describeBmc(node.bmc)}); it should now boot the installer` });
      this.record(node, 'power', steps[steps.length - 1]!.message, actor);
    } catch (error) {
      return this.reimageFailed(node, steps, 'power-cycle', `re-image: power cycle failed: ${reasonOf(error)}; ${byHand}`, error, actor);
    }
    return { nodeId: node.id, ok: true, powerState: 'on', message: steps[steps.length - 1]!.message, steps };
  }

  /**
   * Powers on nodes that wait for their first install and have a BMC (freshly racked machines), each with a
   * one-time network boot first. Nodes already on are left alone. Runs with the service's concurrency bound.
   */
  async powerOnWaiting(actor: string, nodeIds?: number[]): Promise<PowerOutcome[]> {
    const candidates = (nodeIds ? nodeIds.map((id) => this.store.nodes.get(id)) : this.store.nodes.list()).filter(
      (node): node is StoredNode => !!node && !!node.bmc && WAITING_FOR_INSTALL.includes(node.state),
    );
    return Promise.all(candidates.map((node) => this.powerOnOne(node, actor)));
  }

  /** Runs one action on many nodes; the bound on BMC calls applies across all of them. */
  async actMany(refs: (string | number)[], action: PowerAction | 'status', actor: string): Promise<PowerOutcome[]> {
    return Promise.all(refs.map((ref) => (action === 'status' ? this.status(ref, actor) : this.act(ref, action, actor))));
  }

  private async powerOnOne(node: StoredNode, actor: string): Promise<PowerOutcome> {
    const status = await this.status(node.id, actor);
    if (!status.ok) return status;
    if (status.powerState === 'on') return { ...status, message: 'already on: left alone' };
    const boot = await this.setNextBoot(node.id, 'network-once', actor);
    if (!boot.ok && boot.failure !== 'refused') return boot;
    return this.act(node.id, 'on', actor);
  }

  private async call<T>(node: StoredNode, what: string, use: (driver: PowerDriver, signal: AbortSignal) => Promise<T>): Promise<T> {
    const bmc = node.bmc;
    if (!bmc) throw new NotFoundError(`node ${label(node)} has no BMC (racklift node bmc ${node.id} --driver ipmi --address ...)`);
    return this.limiter.run(() =>
      withDeadline(this.timeoutMs, `BMC ${describeBmc(bmc)} ${what}`, (signal) => use(this.driverFor(node, bmc), signal)),
    );
  }

  private driverFor(node: StoredNode, bmc: BmcSettings): PowerDriver {
    if (this.options.driverFor) return this.options.driverFor(node, bmc);
    if (bmc.driver === 'redfish') return new RedfishDriver(bmc, this.options.redfish);
    return new IpmiDriver(bmc, { ...this.options.ipmi, uefi: node.facts.firmware?.startsWith('uefi') ?? false });
  }

  private failed(node: StoredNode, what: string, error: unknown, actor: string, kind = 'power-error'): PowerOutcome {
    if (error instanceof NotFoundError) throw error;
    const reason = reasonOf(error);
    const message = `${what} failed for node ${label(node)} (state ${node.state}): ${reason}`;
    this.record(node, kind, message, actor);
    this.options.log?.warn({ nodeId: node.id, what, reason }, 'BMC call failed');
    if (!(error instanceof PowerError) || error.failure === 'unreachable' || error.failure === 'timeout') {
      this.store.nodes.update(node.id, { powerState: 'unknown' });
    }
    return { nodeId: node.id, ok: false, powerState: null, message, failure: error instanceof PowerError ? error.failure : undefined };
  }

  private reimageFailed(node: StoredNode, steps: ReimageStep[], step: ReimageStep['step'], message: string, error: unknown, actor: string): PowerReimageOutcome {
    steps.push({ step, ok: false, message });
    this.record(node, 'power-error', message, actor);
    this.options.log?.warn({ nodeId: node.id, step, reason: reasonOf(error) }, 're-image power step failed');
    return { nodeId: node.id, ok: false, powerState: null, message, steps, failure: error instanceof PowerError ? error.failure : undefined };
  }

  private record(node: StoredNode, kind: string, message: string, actor: string): void {
    this.store.events.append({ nodeId: node.id, mac: node.mac, kind, message, actor });
  }
}

export function describeBmc(bmc: BmcSettings): string {
  return `${bmc.driver} ${bmc.username}@${bmc.address}:${bmc.port ?? defaultPort(bmc.driver)}`;
}

function label(node: StoredNode): string {
  return node.hostname ? `${node.hostname} (#${node.id})` : `#${node.id} (${node.mac})`;
}

function reasonOf(error: unknown): string {
  if (error instanceof PowerError) return error.message;
  return error instanceof Error ? `unexpected error: ${error.message}` : String(error);
}
