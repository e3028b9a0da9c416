// Periodically fails nodes that stay in an install phase past their limit (the lifecycle's watchdog rule), or
// that went silent in it for longer than the phase allows (domain/liveness.ts).
import { watchdogVerdict } from '../domain/lifecycle.ts';
import { silenceVerdict } from '../domain/liveness.ts';
import type { AppContext, RunningService } from '../context.ts';

export function checkOverdueNodes(ctx: AppContext, nowMs = Date.now()): number {
  let failed = 0;
  ctx.services.contacts.flush();
  for (const state of ['installing', 'installed'] as const) {
    for (const node of ctx.store.nodes.list(state)) {
      const verdict = watchdogVerdict(node, nowMs, ctx.config.watchdog) ?? silenceVerdict(node, nowMs, ctx.config.watchdog);
      if (!verdict) continue;
      try {
        ctx.services.nodes.apply(node, verdict, 'watchdog');
        failed += 1;
        ctx.log.warn({ node: node.mac, reason: verdict.reason }, 'watchdog failed a node');
      } catch (error) {
        ctx.log.debug({ err: error, node: node.mac }, 'watchdog: node changed meanwhile');
      }
    }
  }
  return failed;
}

export function startWatchdog(ctx: AppContext): RunningService {
  const timer = setInterval(() => checkOverdueNodes(ctx), ctx.config.watchdog.intervalSeconds * 1000);
  timer.unref();
  return { name: 'watchdog', address: `every ${ctx.config.watchdog.intervalSeconds} s`, close: async () => clearInterval(timer) };
}
