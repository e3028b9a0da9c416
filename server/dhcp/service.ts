// Placeholder until the DHCP service lands (issue: DHCP service for network boot).
import type { AppContext, RunningService } from '../context.ts';

export async function startDhcp(_ctx: AppContext): Promise<RunningService> {
  throw new Error('DHCP is not implemented yet: set dhcp.enabled: false');
}
