// The bootstrap orchestrator service: validates the stage manifest (a bad one stops the appliance at start),
// marks runs a previous process left `running` as interrupted (they run again), then polls the store and reacts
// to lifecycle events. Live output: `onOutput(listener)` here, or `onStageOutput(ctx, listener)` from live.ts.
import { existsSync } from 'node:fs';
import type { AppContext, RunningService } from '../context.ts';
import { Engine, type OrchestratorOptions } from './engine.ts';
import { onStageOutput, registerKick, type StageOutputListener } from './live.ts';
import { loadManifest, manifestPath, type Manifest } from './manifest.ts';

export type { OrchestratorOptions } from './engine.ts';

export interface Orchestrator extends RunningService {
  manifest: Manifest | null;
  /** Re-evaluate every node now instead of at the next poll. */
  kick(): void;
  /** Masked stage output as it arrives; returns the unsubscribe function. */
  onOutput(listener: StageOutputListener): () => void;
}

export async function startOrchestrator(ctx: AppContext, options: OrchestratorOptions = {}): Promise<Orchestrator> {
  const path = manifestPath(ctx.config.bootstrapDir);
  if (!existsSync(path)) {
    ctx.log.warn({ manifest: path }, 'no stage manifest: the orchestrator is idle and installed nodes stay installed');
    return { name: 'orchestrator', address: `idle (no ${path})`, manifest: null, kick: () => {}, onOutput: (l) => onStageOutput(ctx, l), close: async () => {} };
  }
  const manifest = loadManifest(ctx.config.bootstrapDir, path);
  for (const run of ctx.store.stageRuns.interruptRunning()) {
    const node = ctx.store.nodes.get(run.nodeId);
    ctx.store.events.append({
      nodeId: run.nodeId,
      mac: node?.mac ?? null,
      kind: 'stage',
      message: `stage ${run.stage} was running when the appliance stopped (attempt ${run.attempt}); it runs again`,
      actor: 'orchestrator',
    });
  }
  const engine = new Engine(ctx, manifest, options);
  const pollMs = options.pollMs ?? 5000;
  const timer = setInterval(() => engine.kick(), pollMs);
  timer.unref();
  const unsubscribe = ctx.store.events.subscribe((event) => {
    if (event.kind === 'transition' && (event.toState === 'installed' || event.toState === 'bootstrapping')) engine.kick();
  });
  registerKick(ctx, () => engine.kick());
  engine.kick();
  return {
    name: 'orchestrator',
    address: `${manifest.stages.length} stages, ${ctx.config.orchestrator.concurrency} workers, SSH port ${ctx.config.orchestrator.sshPort}`,
    manifest,
    kick: () => engine.kick(),
    onOutput: (listener) => onStageOutput(ctx, listener),
    close: async () => {
      clearInterval(timer);
      unsubscribe();
      registerKick(ctx, null);
      await engine.stop();
    },
  };
}
