// Power control from the API and the web form, through the PowerService (server/power/). One service per
// appliance so its bound on concurrent BMC calls holds across every request; tests may put their own.
import type { AppContext } from '../../context.ts';
import type { PowerAction } from '../../power/driver.ts';
import { PowerService } from '../../power/service.ts';

export const POWER_ACTIONS = ['on', 'off', 'cycle', 'status'] as const satisfies readonly (PowerAction | 'status')[];
export type PowerRequest = (typeof POWER_ACTIONS)[number];

const services = new WeakMap<AppContext, PowerService>();

export function powerFor(ctx: AppContext): PowerService {
  let power = services.get(ctx);
  if (!power) {
    power = new PowerService(ctx.store, ctx.services.nodes, { log: ctx.log });
    services.set(ctx, power);
  }
  return power;
}

export function usePowerService(ctx: AppContext, power: PowerService): void {
  services.set(ctx, power);
}

export function isPowerRequest(value: unknown): value is PowerRequest {
  return typeof value === 'string' && (POWER_ACTIONS as readonly string[]).includes(value);
}
