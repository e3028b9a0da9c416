// The scheduler: polls the store for nodes in `installed` (wait for SSH) and `bootstrapping` (run their next
// stage), one stage at a time per node, nodes in parallel up to the configured concurrency. A node that waits
// for another node's stage holds no worker: waiting is a re-evaluation on the next tick, not a blocked task.
import type { AppContext } from '../context.ts';
import { IllegalTransitionError, type LifecycleEvent } from '../domain/lifecycle.ts';
import { ClusterView, formatRequirement, nextStep, type GraphNode, type StageDefinition } from '../domain/stage-graph.ts';
import { StaleStateError, type StoredNode } from '../store/nodes.ts';
import { buildStageContext, controllerOf } from './context.ts';
import { emitStageOutput } from './live.ts';
import { LogBuffer } from './log-buffer.ts';
import type { Manifest } from './manifest.ts';
import { Masker } from './masking.ts';
import { StageRenderer } from './render.ts';
import { ConnectionLostError, HostKeyMismatchError, SshSession } from './ssh.ts';
import { DEFAULT_STAGE_ROOT, runAttempt, type AttemptOutcome } from './stage-runner.ts';

export interface OrchestratorOptions {
  /** How often the store is polled (ms). */
  pollMs?: number;
  /** Backoff between SSH attempts to a node that does not answer (ms). */
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  /** Root-only directory on the node for uploaded stages; tests give each fake node its own. */
  stageRoot?: (target: StoredNode) => string;
  sshReadyTimeoutMs?: number;
  logFlushMs?: number;
  /** Delay that gathers a burst of kicks into one pass (ms). */
  kickDelayMs?: number;
}

interface Unreachable {
  since: number;
  attempts: number;
  nextAt: number;
  lastError: string;
}

export class Engine {
  private readonly renderer: StageRenderer;
  private readonly logs: LogBuffer;
  private readonly busy = new Set<number>();
  private readonly away = new Map<number, Unreachable>();
  private readonly probing = new Set<number>();
  private readonly announced = new Map<number, string>();
  private readonly verified = new Map<number, { generation: number; stages: Set<string> }>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly sessions = new Set<SshSession>();
  private workers = 0;
  private stopping = false;
  private readonly stopSignal = new AbortController();
  private tickQueued = false;

  constructor(
    private readonly ctx: AppContext,
    private readonly manifest: Manifest,
    private readonly options: OrchestratorOptions = {},
  ) {
    this.renderer = new StageRenderer(manifest);
    this.logs = new LogBuffer(ctx.store.stageRuns, options.logFlushMs ?? 250, 32 * 1024, (error) => ctx.log.error({ err: error }, 'stage log write failed'));
  }

  /** Re-evaluates soon; a burst of kicks (many stages finishing) is one pass. */
  kick(): void {
    if (this.tickQueued || this.stopping) return;
    this.tickQueued = true;
    setTimeout(() => {
      this.tickQueued = false;
      try {
        this.tick();
      } catch (error) {
        this.ctx.log.error({ err: error }, 'orchestrator tick failed');
      }
    }, this.options.kickDelayMs ?? 250);
  }

  /**
   * Verified stages per node, kept in memory: this process is the only one that marks a stage verified, so the
   * store is read once per node and install generation, not on every pass.
   */
  private verifiedOf(node: StoredNode): Set<string> {
    const cached = this.verified.get(node.id);
    if (cached && cached.generation === node.generation) return cached.stages;
    const stages = this.ctx.store.stageRuns.verifiedStages(node.id, node.generation);
    this.verified.set(node.id, { generation: node.generation, stages });
    return stages;
  }

  /** One pass over the nodes that need the orchestrator. */
  tick(): void {
    if (this.stopping) return;
    const nodes = this.ctx.store.nodes.list();
    for (const node of nodes) if (node.state === 'installed') this.probe(node);
    const graph: GraphNode[] = nodes
      .filter((node) => node.roles.length > 0)
      .map((node) => ({ id: node.id, roles: node.roles, verified: this.verifiedOf(node) }));
    const graphById = new Map(graph.map((g) => [g.id, g]));
    const view = new ClusterView(graph);
    const now = Date.now();
    const runnable: { node: StoredNode; stage: StageDefinition }[] = [];
    for (const node of nodes) {
      if (node.state !== 'bootstrapping' || this.busy.has(node.id)) continue;
      const away = this.away.get(node.id);
      if (away && away.nextAt > now) continue;
      const self = graphById.get(node.id) ?? { id: node.id, roles: [], verified: new Set<string>() };
      const step = nextStep(this.manifest.stages, self, view);
      if (step.kind === 'complete') {
        this.transition(node, { kind: 'bootstrap-complete' }, `bootstrap complete: ${self.verified.size} stages verified`);
      } else if (step.kind === 'blocked') {
        this.announce(node, `stage ${step.stage} is blocked: no node holds the role ${step.missingRoles.join(', ')}; assign one`);
      } else if (step.kind === 'wait') {
        const on = [...new Set(step.waiting.flatMap((w) => w.on).filter((r) => r.includes(':')))];
        if (on.length > 0) this.announce(node, `waiting for ${on.join(', ')}`);
      } else {
        runnable.push({ node, stage: step.stage });
      }
    }
    // A stage that runs on the controller for another node goes first: otherwise the controller's own stages
    // would keep it busy and the other node would wait for all of them.
    runnable.sort((a, b) => Number(b.stage.runsOn === 'controller') - Number(a.stage.runsOn === 'controller'));
    for (const { node, stage } of runnable) {
      if (this.workers >= this.ctx.config.orchestrator.concurrency) break;
      const target = stage.runsOn === 'controller' ? controllerOf(nodes) : node;
      if (!target || this.busy.has(node.id) || this.busy.has(target.id) || (target.id !== node.id && !this.reachableTarget(target, now))) continue;
      this.track(this.runStage(node, target, stage));
    }
  }

  /** A node another node's stage runs on (runsOn: controller) must be past its own SSH wait and not backing off. */
  private reachableTarget(target: StoredNode, now: number): boolean {
    const away = this.away.get(target.id);
    return (target.state === 'bootstrapping' || target.state === 'ready') && !(away && away.nextAt > now);
  }

  /** Stops at once: logins in progress are given up and sessions dropped, so no peer can hold the shutdown. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.stopSignal.abort();
    for (const session of this.sessions) session.close();
    await Promise.allSettled([...this.inFlight]);
    this.logs.flush();
  }

  private track(task: Promise<void>): void {
    const tracked = task
      .catch((error) => this.ctx.log.error({ err: error }, 'orchestrator task failed'))
      .finally(() => {
        this.inFlight.delete(tracked);
        this.kick();
      });
    this.inFlight.add(tracked);
  }

  /** One event per distinct situation of a node (waiting on X, blocked on Y), not one per tick. */
  private announce(node: StoredNode, message: string): void {
    const key = `${node.generation}:${node.stateChangedAt}:${message}`;
    if (this.announced.get(node.id) === key) return;
    this.announced.set(node.id, key);
    this.event(node, message);
  }

  private event(node: StoredNode, message: string, kind = 'stage'): void {
    this.ctx.store.events.append({ nodeId: node.id, mac: node.mac, kind, message, actor: 'orchestrator' });
  }

  private transition(node: StoredNode, event: LifecycleEvent, message?: string): StoredNode | null {
    try {
      return this.ctx.services.nodes.apply(node, event, 'orchestrator', message);
    } catch (error) {
      if (error instanceof StaleStateError || error instanceof IllegalTransitionError) return null;
      throw error;
    }
  }

  private backoff(attempts: number): number {
    const initial = this.options.backoffInitialMs ?? 2000;
    return Math.min(initial * 2 ** Math.min(attempts - 1, 16), this.options.backoffMaxMs ?? 60_000);
  }

  private async connect(node: StoredNode): Promise<SshSession> {
    const host = node.addresses.management;
    if (!host) throw new ConnectionLostError(`node ${node.hostname ?? node.mac} has no management address`);
    const session = await SshSession.connect({
      host,
      port: this.ctx.config.orchestrator.sshPort,
      username: this.ctx.config.orchestrator.sshUser,
      privateKey: this.ctx.services.sshIdentity().privateKey,
      pinnedHostKeys: node.sshHostKey ?? '',
      readyTimeoutMs: this.options.sshReadyTimeoutMs,
      stallMs: this.ctx.config.orchestrator.sshStallSeconds * 1000,
      signal: this.stopSignal.signal,
    });
    this.sessions.add(session);
    return session;
  }

  private release(session: SshSession): void {
    this.sessions.delete(session);
    session.close();
  }

  private refuseHostKey(node: StoredNode, error: HostKeyMismatchError): void {
    const name = node.hostname ?? node.mac;
    if (error.expected.length === 0) {
      this.event(node, `SSH refused: no host key was recorded for ${name} at install, so it cannot be trusted`, 'host-key-mismatch');
      this.transition(node, { kind: 'fail', phase: 'bootstrap', reason: `no SSH host key was recorded for ${name} by the install done callback; re-image the node` });
      return;
    }
    this.event(node, `SSH refused: ${error.message}`, 'host-key-mismatch');
    this.transition(node, { kind: 'fail', phase: 'bootstrap', reason: `SSH host key of ${name} does not match the one recorded at install (got ${error.offered}); re-image the node, or correct its recorded key if it was replaced on purpose` });
  }

  /** An `installed` node: try SSH (bounded, backoff); when it answers with the pinned key, it is bootstrapping. */
  private probe(node: StoredNode): void {
    if (this.probing.has(node.id) || this.probing.size >= this.ctx.config.orchestrator.concurrency * 2) return;
    const state = this.away.get(node.id);
    if (state && state.nextAt > Date.now()) return;
    this.probing.add(node.id);
    const task = (async () => {
      try {
        const session = await this.connect(node);
        this.release(session);
        this.away.delete(node.id);
        this.transition(node, { kind: 'ssh-answered' }, `SSH answered on ${node.addresses.management} with the pinned host key`);
      } catch (error) {
        if (error instanceof HostKeyMismatchError) this.refuseHostKey(node, error);
        else this.unreachable(node, error as Error, 'after the install');
      } finally {
        this.probing.delete(node.id);
      }
    })();
    this.track(task);
  }

  /** Records a failed SSH attempt; past the limit the node fails with the reason. */
  private unreachable(node: StoredNode, error: Error, when: string): void {
    const now = Date.now();
    const state = this.away.get(node.id) ?? { since: now, attempts: 0, nextAt: now, lastError: '' };
    state.attempts += 1;
    state.nextAt = now + this.backoff(state.attempts);
    state.lastError = error.message;
    this.away.set(node.id, state);
    const limit = this.ctx.config.watchdog.sshWaitSeconds;
    const since = node.state === 'installed' ? Math.min(state.since, Date.parse(node.stateChangedAt)) : state.since;
    if (now - since > limit * 1000) {
      this.away.delete(node.id);
      this.transition(node, { kind: 'fail', phase: 'bootstrap', reason: `SSH did not answer within ${limit} s ${when} (${state.attempts} attempts; last: ${error.message})` });
    }
  }

  private async runStage(owner: StoredNode, target: StoredNode, stage: StageDefinition): Promise<void> {
    this.workers += 1;
    this.busy.add(owner.id).add(target.id);
    try {
      await this.attempt(owner, target, stage);
    } finally {
      this.workers -= 1;
      this.busy.delete(owner.id);
      this.busy.delete(target.id);
    }
  }

  private async attempt(owner: StoredNode, target: StoredNode, stage: StageDefinition): Promise<void> {
    const secrets = this.ctx.services.cluster.secrets();
    const masker = new Masker(Object.values(secrets));
    let rendered;
    try {
      rendered = this.renderer.render(stage, buildStageContext(this.ctx, owner, target));
    } catch (error) {
      const run = this.ctx.store.stageRuns.start(owner.id, owner.generation, stage.id);
      const reason = `stage ${stage.id}: template did not render: ${masker.mask((error as Error).message)}`;
      this.ctx.store.stageRuns.appendLogs([{ id: run.id, chunk: `${reason}\n` }]);
      this.ctx.store.stageRuns.complete(run.id, 'failed', null);
      this.transition(owner, { kind: 'fail', phase: 'bootstrap', reason });
      return;
    }
    let session: SshSession;
    try {
      session = await this.connect(target);
    } catch (error) {
      if (error instanceof HostKeyMismatchError) this.refuseHostKey(target, error);
      else this.unreachable(owner, error as Error, `while bootstrapping (stage ${stage.id})`);
      return;
    }
    this.away.delete(owner.id);
    const current = this.ctx.store.nodes.get(owner.id);
    if (!current || current.state !== 'bootstrapping' || current.generation !== owner.generation || this.stopping) {
      this.release(session);
      return;
    }
    const run = this.ctx.store.stageRuns.start(owner.id, owner.generation, stage.id);
    const where = target.id === owner.id ? `on ${target.hostname}` : `for ${owner.hostname} on ${target.hostname}`;
    this.event(owner, `stage ${stage.id} started ${where} (attempt ${run.attempt})`);
    const started = Date.now();
    const root = this.options.stageRoot?.(target) ?? DEFAULT_STAGE_ROOT;
    let outcome: AttemptOutcome;
    try {
      outcome = await runAttempt({
        session,
        stage,
        rendered,
        stageRoot: root,
        runDir: `${root}/${target.id === owner.id ? stage.id : `${stage.id}@${owner.hostname}`}`,
        inputs: this.inputsFor(stage),
        masker,
        onOutput: (stream, text) => {
          this.logs.append(run.id, text);
          emitStageOutput(this.ctx, { nodeId: owner.id, hostname: owner.hostname ?? owner.mac, stage: stage.id, runId: run.id, attempt: run.attempt, stream, text });
        },
      });
    } finally {
      this.release(session);
    }
    if (this.stopping && outcome.status !== 'succeeded') outcome = { status: 'interrupted', reason: 'the appliance is stopping' };
    this.finishRun(owner, stage, run, outcome, masker, (Date.now() - started) / 1000, where);
  }

  private finishRun(owner: StoredNode, stage: StageDefinition, run: { id: number; attempt: number }, outcome: AttemptOutcome, masker: Masker, seconds: number, where: string): void {
    const stageRuns = this.ctx.store.stageRuns;
    const tail = this.logs.tail(run.id);
    this.logs.append(run.id, outcome.status === 'succeeded' ? '' : `--- ${outcome.status}: ${outcome.reason}\n`);
    this.logs.finish(run.id);
    if (outcome.status === 'succeeded') {
      this.ctx.store.db.transaction(() => {
        stageRuns.replaceOutputs(owner.id, stage.id, outcome.published);
        stageRuns.complete(run.id, 'succeeded', 0);
      })();
      const cached = this.verified.get(owner.id);
      if (cached && cached.generation === owner.generation) cached.stages.add(stage.id);
      this.event(owner, `stage ${stage.id} verified ${where} in ${seconds.toFixed(1)} s${outcome.published.length ? ` (published ${outcome.published.length} files)` : ''}`);
      return;
    }
    if (outcome.status === 'interrupted') {
      stageRuns.complete(run.id, 'interrupted', null);
      this.event(owner, `stage ${stage.id} interrupted ${where}: ${outcome.reason}; it runs again when the node answers`);
      if (!this.stopping) this.unreachable(owner, new ConnectionLostError(outcome.reason), `while bootstrapping (stage ${stage.id})`);
      return;
    }
    stageRuns.complete(run.id, 'failed', outcome.exitCode);
    const failures = stageRuns.failedAttemptsSince(owner.id, owner.generation, stage.id, owner.stateChangedAt);
    if (failures <= stage.retries) {
      this.event(owner, `stage ${stage.id} failed ${where}: ${outcome.reason}; trying again (${failures} of ${stage.retries + 1} attempts used)`);
      return;
    }
    const reason = masker.mask(`stage ${stage.id} failed ${where} after ${failures} attempt${failures > 1 ? 's' : ''}: ${outcome.reason}${tail ? `\n${tail}` : ''}`);
    this.event(owner, `stage ${stage.id} failed ${where}: ${outcome.reason}`);
    const current = this.ctx.store.nodes.get(owner.id);
    if (current) this.transition(current, { kind: 'fail', phase: 'bootstrap', reason });
  }

  /** Files a stage consumes: what each node of the named role published for that stage, merged by name. */
  private inputsFor(stage: StageDefinition): { path: string; value: Buffer }[] {
    if (stage.consumes.length === 0) return [];
    const nodes = this.ctx.store.nodes.list();
    const files = new Map<string, Buffer>();
    for (const ref of stage.consumes) {
      const holders = new Set(nodes.filter((node) => node.roles.includes(ref.role)).map((node) => node.id));
      for (const output of this.ctx.store.stageRuns.outputsOf(ref.stage)) {
        if (holders.has(output.nodeId)) files.set(`${ref.stage}/${output.name}`, output.value);
      }
      if (![...files.keys()].some((path) => path.startsWith(`${ref.stage}/`))) {
        this.ctx.log.warn({ stage: stage.id, consumes: formatRequirement(ref) }, 'consumed stage published no files');
      }
    }
    return [...files].map(([path, value]) => ({ path, value }));
  }
}
