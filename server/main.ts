// Composition root: config -> store -> services -> network services. Nothing else lives here.
import type { Config } from './config.ts';
import type { AppContext, RunningService } from './context.ts';
import { startDhcp } from './dhcp/service.ts';
import { startHttp } from './http/server.ts';
import { createLogger, type Logger } from './log.ts';
import { startOrchestrator } from './orchestrator/service.ts';
import { prepareBootFiles } from './render/boot-files.ts';
import { createServices } from './services/index.ts';
import { startWatchdog } from './services/watchdog.ts';
import { databasePath, openStore } from './store/index.ts';
import { startTftp } from './tftp/service.ts';

export interface Appliance {
  ctx: AppContext;
  services: RunningService[];
  stop(): Promise<void>;
}

export async function startAppliance(config: Config, log: Logger = createLogger(config.log.level)): Promise<Appliance> {
  const store = openStore(databasePath(config.dataDir));
  const ctx: AppContext = { config, store, services: createServices(config, store), log };
  for (const note of store.notes) log.warn({ dataDir: config.dataDir }, note);
  const running: RunningService[] = [];
  const stop = async () => {
    for (const service of running.reverse()) {
      try {
        await service.close();
      } catch (error) {
        log.error({ err: error, service: service.name }, 'service did not close cleanly');
      }
    }
    store.close();
  };
  try {
    await prepareBootFiles(ctx);
    running.push(await startHttp(ctx));
    if (config.tftpEnabled) running.push(await startTftp(ctx));
    if (config.dhcpEnabled) running.push(await startDhcp(ctx));
    if (config.orchestrator.enabled) running.push(await startOrchestrator(ctx));
    running.push(startWatchdog(ctx));
  } catch (error) {
    await stop();
    throw error;
  }
  warnAboutInstallerNetwork(config, log);
  for (const service of running) log.info({ service: service.name, address: service.address }, `${service.name} listening on ${service.address}`);
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
