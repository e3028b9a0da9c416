// `racklift setup`: what `npm start` does before serving (after scripts/install-deps.sh runtime), and what the
// e2e harness does to the boot dir its appliance serves: link every boot file from its Debian package into
// boot/ and import the Debian 12 installer. Safe to run again: links are replaced, the import is repeated.
import type { Command } from 'commander';
import { linkBootFiles } from '../boot-files/setup.ts';
import { importCommand } from './os.ts';
import { withLocalAppliance } from './local.ts';

const line = (text: string) => process.stdout.write(`${text}\n`);

export function registerSetupCommand(program: Command, configOption: () => string | undefined): void {
  program
    .command('setup')
    .description('link the boot loaders from their Debian packages into boot/ and import the Debian 12 installer (npm start runs it)')
    .option('--quiet', 'print only problems')
    .action((options: { quiet?: boolean }) =>
      withLocalAppliance(configOption(), (local) => {
        const report = linkBootFiles(local.config.bootDir);
        for (const entry of report.missing) {
          process.stderr.write(`setup: ${entry.source} is missing (${entry.purpose}): install the Debian package ${entry.debianPackage}\n`);
        }
        for (const entry of report.kept) line(`setup: kept ${local.config.bootDir}/${entry.file}: a file of your own, not a link (remove it to link ${entry.source})`);
        if (!options.quiet) line(`setup: ${report.linked.length} boot files linked into ${local.config.bootDir}/ from their Debian packages (${report.missing.length} missing)`);
        importCommand(local, 'debian-12', null, !!options.quiet);
        if (report.missing.length > 0) process.exitCode = 1;
      }),
    );
}
