// Composition root: config -> store -> services -> network services. Nothing else lives here.
import type { Config } from './config.ts';
import type { AppContext, RunningService } from './context.ts';
import { startDhcp } from './dhcp/service.ts';
import { startHttp } from './http/server.ts';
import { createLogger, type Logger } from './log.ts';
import { startOrchestrator, type OrchestratorOptions } from './orchestrator/service.ts';
import { startPackageCache } from './package-cache/service.ts';
import { prepareBootFiles } from './boot-files/check.ts';
import { createServices } from './services/index.ts';
import { startWatchdog } from './services/watchdog.ts';
import { databasePath, openStore } from './store/index.ts';
import { startTftp } from './tftp/service.ts';

export interface Appliance {
  ctx: AppContext;
  services: RunningService[];
  stop(): Promise<void>;
}

/** How long one service may take to close at shutdown before the appliance goes on without it. */
const SERVICE_CLOSE_MS = 4000;

async function closeWithin(service: RunningService, log: Logger): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), SERVICE_CLOSE_MS);
  });
  try {
    const outcome = await Promise.race([service.close().then(() => 'closed' as const), late]);
    if (outcome === 'late') log.error({ service: service.name }, `${service.name} did not close within ${SERVICE_CLOSE_MS / 1000} s; stopping without it`);
  } catch (error) {
    log.error({ err: error, service: service.name }, 'service did not close cleanly');
  } finally {
    clearTimeout(timer);
  }
}

export interface ApplianceOptions {
  /** Orchestrator tuning (tests: fast polling, per-node stage roots). */
  orchestrator?: OrchestratorOptions;
}

export async function startAppliance(config: Config, log: Logger = createLogger(config.log.level), options: ApplianceOptions = {}): Promise<Appliance> {
  const store = openStore(databasePath(config.dataDir));
  const ctx: AppContext = { config, store, services: createServices(config, store), log };
  for (const note of store.notes) log.warn({ dataDir: config.dataDir }, note);
  const running: RunningService[] = [];
  const stop = async () => {
    for (const service of running.reverse()) await closeWithin(service, log);
    store.close();
  };
  try {
    await prepareBootFiles(ctx);
    if (config.packageCacheEnabled) {
      // Not fatal: the appliance still serves, installs fail at their mirror step, and `racklift doctor` says why.
      try {
        running.push(await startPackageCache(ctx));
      } catch (error) {
        log.error({ err: error }, `${(error as Error).message}; installers are still handed ${config.http.packageProxy} as their proxy`);
      }
    }
    running.push(await startHttp(ctx));
    if (config.tftpEnabled) running.push(await startTftp(ctx));
    if (config.dhcpEnabled) running.push(await startDhcp(ctx));
    if (config.orchestrator.enabled) running.push(await startOrchestrator(ctx, options.orchestrator));
    running.push(startWatchdog(ctx));
    ctx.services.contacts.start();
    running.push({ name: 'contacts', address: 'last contact of each node', close: async () => ctx.services.contacts.close() });
  } catch (error) {
    await stop();
    throw error;
  }
  warnAboutInstallerNetwork(config, log);
  for (const service of running.filter((s) => s.name !== 'contacts')) log.info({ service: service.name, address: service.address }, `${service.name} listening on ${service.address}`);
  return { ctx, services: running, stop };
}

/** The Debian installer stops at a question when DHCP gives it no router or name server: say so at start. */
function warnAboutInstallerNetwork(config: Config, log: Logger): void {
  if (!config.dhcpEnabled || config.dhcp.mode !== 'authoritative') return;
  const missing = [config.provisioning.gateway ? null : 'provisioning.gateway', config.provisioning.dns.length > 0 ? null : 'provisioning.dns'].filter(Boolean);
  if (missing.length > 0) {
    log.warn({ missing }, `${missing.join(' and ')} not set: DHCP answers carry no ${missing.length === 2 ? 'router or name server' : missing[0] === 'provisioning.gateway' ? 'router' : 'name server'}, and installers may stop to ask for one`);
  }
}
