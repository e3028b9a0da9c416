// Placeholder until the orchestrator lands (issue: Bootstrap orchestrator).
import type { AppContext, RunningService } from '../context.ts';

export async function startOrchestrator(_ctx: AppContext): Promise<RunningService> {
  return { name: 'orchestrator', address: 'not implemented yet', close: async () => {} };
}
