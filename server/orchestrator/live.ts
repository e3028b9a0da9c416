// The live view of stage output: an in-process emitter per appliance (keyed by its AppContext), so the web
// form can stream output without a database row per line. Events (kind 'stage') carry start and finish.
import { EventEmitter } from 'node:events';
import type { AppContext } from '../context.ts';

export interface StageOutput {
  nodeId: number;
  hostname: string;
  stage: string;
  runId: number;
  attempt: number;
  /** `verify` is the output of the verify command. */
  stream: 'stdout' | 'stderr' | 'verify';
  /** Masked text, in the order it arrived; not necessarily whole lines. */
  text: string;
}

export type StageOutputListener = (output: StageOutput) => void;

interface Live {
  emitter: EventEmitter;
  kick: (() => void) | null;
}

const perAppliance = new WeakMap<AppContext, Live>();

function liveOf(ctx: AppContext): Live {
  let live = perAppliance.get(ctx);
  if (!live) {
    live = { emitter: new EventEmitter(), kick: null };
    live.emitter.setMaxListeners(0);
    perAppliance.set(ctx, live);
  }
  return live;
}

/** Subscribes to the stage output of this appliance; returns the unsubscribe function. */
export function onStageOutput(ctx: AppContext, listener: StageOutputListener): () => void {
  const { emitter } = liveOf(ctx);
  const safe = (output: StageOutput) => {
    try {
      listener(output);
    } catch {
      /* a broken subscriber never breaks a stage */
    }
  };
  emitter.on('output', safe);
  return () => emitter.off('output', safe);
}

export function emitStageOutput(ctx: AppContext, output: StageOutput): void {
  liveOf(ctx).emitter.emit('output', output);
}

/** Asks the running orchestrator (if any) to re-evaluate now, e.g. after `node retry` through the API. */
export function kickOrchestrator(ctx: AppContext): void {
  liveOf(ctx).kick?.();
}

export function registerKick(ctx: AppContext, kick: (() => void) | null): void {
  liveOf(ctx).kick = kick;
}
