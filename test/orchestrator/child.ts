// The appliance's orchestrator in its own process, so a test can kill it mid-stage and start it again on the
// same data directory. Argument: JSON { overrides, root }.
import { loadConfig } from '../../server/config.ts';
import type { AppContext } from '../../server/context.ts';
import { createLogger } from '../../server/log.ts';
import { startOrchestrator } from '../../server/orchestrator/service.ts';
import { createServices } from '../../server/services/index.ts';
import { databasePath, openStore } from '../../server/store/index.ts';
import { FAST, stageRootFor } from './helpers.ts';

const { overrides, root } = JSON.parse(process.argv[2]!) as { overrides: Record<string, unknown>; root: string };
const config = loadConfig({ overrides, env: {} });
const store = openStore(databasePath(config.dataDir));
const ctx: AppContext = { config, store, services: createServices(config, store), log: createLogger('silent') };
const orchestrator = await startOrchestrator(ctx, { ...FAST, stageRoot: stageRootFor(root) });
process.stdout.write('orchestrator started\n');
process.on('SIGTERM', () => {
  void orchestrator.close().then(() => {
    store.close();
    process.exit(0);
  });
});
setInterval(() => {}, 1 << 30);
