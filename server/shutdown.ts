// SIGTERM and SIGINT stop the appliance: every service closes (each bounded in main.ts), then the process
// exits. Whatever a peer does (a node that stopped answering, a client that never reads), the process is gone
// within SHUTDOWN_MS: past it the appliance logs what was still closing and exits anyway.
import type { Appliance } from './main.ts';

export const SHUTDOWN_MS = 9000;

export function stopOnSignals(appliance: Appliance): void {
  const log = appliance.ctx.log;
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    const started = Date.now();
    log.info({ signal }, 'shutting down');
    setTimeout(() => {
      log.error({ signal, afterMs: Date.now() - started }, `not stopped within ${SHUTDOWN_MS / 1000} s; exiting anyway`);
      process.exit(1);
    }, SHUTDOWN_MS).unref();
    void appliance.stop().then(
      () => {
        log.info({ ms: Date.now() - started }, 'stopped');
        process.exit(0);
      },
      (error: unknown) => {
        log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}
