// The whole appliance (HTTP, orchestrator, watchdog) in its own process, stopped by SIGTERM through the same
// handler as `racklift serve`. Argument: JSON { overrides, root }.
import { loadConfig } from '../../server/config.ts';
import { createLogger } from '../../server/log.ts';
import { startAppliance } from '../../server/main.ts';
import { stopOnSignals } from '../../server/shutdown.ts';
import { FAST, stageRootFor } from '../orchestrator/helpers.ts';

const { overrides, root } = JSON.parse(process.argv[2]!) as { overrides: Record<string, unknown>; root: string };
const config = loadConfig({ overrides, env: {} });
const appliance = await startAppliance(config, createLogger('info'), { orchestrator: { ...FAST, stageRoot: stageRootFor(root) } });
stopOnSignals(appliance);
process.stdout.write('appliance started\n');
