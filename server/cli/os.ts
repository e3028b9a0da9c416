// `racklift os list | import <profile> [--from PATH]`: the OS profiles and their boot media under boot/.
import type { Command } from 'commander';
import { NotFoundError } from '../services/errors.ts';
import { ImportError, importProfile, mediaStatus, type ImportResult } from '../render/os-import.ts';
import { withLocalAppliance, type LocalAppliance } from './local.ts';
import { printJson, printTable } from './output.ts';

export function registerOsCommands(program: Command, configOption: () => string | undefined): void {
  const os = program.command('os').description('OS profiles and their installer media');

  os.command('list')
    .description('list OS profiles and whether their kernel, initrd and install source are in boot/')
    .option('--json', 'print JSON')
    .action((options: { json?: boolean }) =>
      withLocalAppliance(configOption(), ({ config, store }) => {
        const rows = store.profiles.list().map((profile) => ({ ...profile, media: mediaStatus(profile, config.bootDir) }));
        if (options.json) return printJson(rows);
        printTable(
          ['name', 'family', 'release', 'installer', 'legacy', 'kernel+initrd', 'install source'],
          rows.map((row) => [
            row.name,
            row.family,
            row.release,
            row.installer,
            row.legacy ? 'yes' : '',
            row.media.kernel && row.media.initrd ? 'imported' : `missing: racklift os import ${row.name}`,
            row.media.installSource === 'mirror' ? row.mirrorUrl : `boot/${row.name}/${row.media.installSource === 'iso' ? 'install.iso' : 'tree'}`,
          ]),
        );
      }),
    );

  os.command('import <profile>')
    .description('place the installer kernel and initrd of a profile under boot/ (debian-12: from debian-installer-12-netboot-amd64; others: --from an ISO or a mounted tree)')
    .option('--from <path>', 'ISO file or directory (mounted ISO, netboot tree)')
    .option('--json', 'print JSON')
    .action((name: string, options: { from?: string; json?: boolean }) =>
      withLocalAppliance(configOption(), (local) => {
        const result = importCommand(local, name, options.from ?? null, !!options.json);
        if (result && options.json) printJson(result);
      }),
    );
}

/** `racklift os import` (also run by `racklift setup`): prints what it placed, or the reason it could not. */
export function importCommand({ config, store }: LocalAppliance, name: string, from: string | null, quiet = false): ImportResult | null {
  const profile = store.profiles.get(name);
  if (!profile) throw new NotFoundError(`no OS profile named ${name} (racklift os list)`);
  let result;
  try {
    result = importProfile(profile, config.bootDir, from);
  } catch (error) {
    if (!(error instanceof ImportError)) throw error;
    process.stderr.write(`racklift os import ${name}: ${error.message}\n`);
    process.exitCode = 1;
    return null;
  }
  store.profiles.setMediaSource(name, result.source);
  if (quiet) return result;
  process.stdout.write(`${name}: boot/${result.kernel} and boot/${result.initrd} ${result.method === 'link' ? 'linked' : 'extracted'} from ${result.source}; install source: ${result.installSource === 'mirror' ? profile.mirrorUrl : `boot/${name}/${result.installSource === 'iso' ? 'install.iso' : 'tree'}`}\n`);
  for (const note of result.notes) process.stdout.write(`  ${note}\n`);
  return result;
}
