// Placeholder until the TFTP service lands (issue: TFTP service).
import type { AppContext, RunningService } from '../context.ts';

export async function startTftp(_ctx: AppContext): Promise<RunningService> {
  throw new Error('TFTP is not implemented yet: set tftp.enabled: false');
}
