// `racklift doctor`: plain lines saying whether this appliance can boot machines now; exit 0 only when every
// check holds. `npm start` runs it before serving and prints it (and serves either way).
import type { Command } from 'commander';
import { formatDoctor, runDoctor } from '../doctor/checks.ts';
import { createLogger } from '../log.ts';
import { loadConfig } from '../config.ts';
import { createServices } from '../services/index.ts';
import { databasePath, openStore } from '../store/index.ts';
import { printJson } from './output.ts';

export function registerDoctorCommand(program: Command, configOption: () => string | undefined): void {
  program
    .command('doctor')
    .description('say whether this appliance can boot machines now: boot files, provisioning interface, ports, profiles, mirror, BMCs (exit 0 only when all hold)')
    .option('--json', 'print JSON')
    .option('--no-fail', 'exit 0 even when a check fails (npm start prints the result and serves anyway)')
    .action(async (options: { json?: boolean; fail: boolean }) => {
      const config = loadConfig({ file: configOption() ?? null });
      const store = openStore(databasePath(config.dataDir));
      try {
        const ctx = { config, store, services: createServices(config, store), log: createLogger('silent') };
        const lines = await runDoctor(ctx);
        if (options.json) printJson(lines);
        else process.stdout.write(formatDoctor(lines));
        if (options.fail && lines.some((line) => line.verdict === 'fail')) process.exitCode = 1;
      } finally {
        store.close();
      }
    });
}
