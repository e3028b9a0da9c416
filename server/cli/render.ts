// `racklift render <mac> [--kind ...]`: prints what a node would get from the appliance right now, and lints it.
import type { Command } from 'commander';
import type { AppContext } from '../context.ts';
import { isMac } from '../domain/mac.ts';
import { createLogger } from '../log.ts';
import { INSTALL_FILE_KINDS, RenderError, renderBootScript, renderInstallFile } from '../render/index.ts';
import { lintRendered, type LintKind } from '../render/lint.ts';
import { renderPxelinuxConfig } from '../render/pxelinux.ts';
import { ValidationError } from '../services/errors.ts';
import { withLocalAppliance } from './local.ts';

const KINDS = ['ipxe', 'pxelinux', 'preseed', 'kickstart', 'user-data', 'meta-data', 'vendor-data', 'finish.sh'] as const;
/** Shown instead of a live token when the node is not installing: the file is a preview, not a usable one. */
const PREVIEW_TOKEN = 'PREVIEW-not-a-live-install-token';

function renderKind(ctx: AppContext, mac: string, kind: (typeof KINDS)[number]): { body: string; note: string | null } {
  if (kind === 'ipxe') return { body: renderBootScript(ctx, mac), note: null };
  if (kind === 'pxelinux') return { body: renderPxelinuxConfig(ctx, mac), note: null };
  const node = ctx.services.nodes.find(mac);
  const live = ctx.services.nodes.installTokenOf(node);
  const body = renderInstallFile(ctx, node, kind, live ? {} : { token: PREVIEW_TOKEN }).body;
  return { body, note: live ? null : `preview: node is ${node.state}, so it would not be served this file; the token in it is a placeholder` };
}

export function registerRenderCommands(program: Command, configOption: () => string | undefined): void {
  program
    .command('render <node>')
    .description('print what a node (MAC, id or hostname) would get, and lint it (debconf-set-selections, shellcheck, Kickstart check)')
    .option('--kind <kind>', `one of ${KINDS.join(', ')}; default: ipxe, or every installer file with --all`, 'ipxe')
    .option('--all', 'every file of the node: ipxe, pxelinux and its installer files')
    .option('--no-lint', 'print only')
    .action((ref: string, options: { kind: string; all?: boolean; lint: boolean }) =>
      withLocalAppliance(configOption(), ({ config, store, services }) => {
        const ctx: AppContext = { config, store, services, log: createLogger('silent') };
        // An unknown MAC still has an answer (its iPXE script and pxelinux file); anything else must be a node.
        const node = isMac(ref) ? services.nodes.findByMac(ref) : services.nodes.find(ref);
        const mac = node?.mac ?? ref;
        let kinds: (typeof KINDS)[number][];
        if (options.all) {
          const profile = node?.profile ? store.profiles.get(node.profile) : null;
          kinds = ['ipxe', 'pxelinux', ...(profile ? INSTALL_FILE_KINDS[profile.installer] : [])];
        } else {
          if (!(KINDS as readonly string[]).includes(options.kind)) throw new ValidationError('kind', `unknown kind ${options.kind}; one of ${KINDS.join(', ')}`);
          kinds = [options.kind as (typeof KINDS)[number]];
        }
        let problems = 0;
        for (const kind of kinds) {
          let rendered;
          try {
            rendered = renderKind(ctx, mac, kind);
          } catch (error) {
            if (!(error instanceof RenderError)) throw error;
            process.stderr.write(`racklift render ${kind}: cannot render: ${error.message}\n`);
            problems += 1;
            continue;
          }
          const { body, note } = rendered;
          if (kinds.length > 1) process.stdout.write(`===== ${kind} =====\n`);
          process.stdout.write(body.endsWith('\n') || body === '' ? body : `${body}\n`);
          if (note) process.stderr.write(`racklift render: ${note}\n`);
          if (!options.lint) continue;
          const report = lintRendered(kind as LintKind, body);
          for (const check of report.checks) process.stderr.write(`lint ${kind}: checked ${check}\n`);
          for (const skipped of report.skipped) process.stderr.write(`lint ${kind}: SKIPPED ${skipped}\n`);
          for (const problem of report.problems) process.stderr.write(`lint ${kind}: PROBLEM ${problem}\n`);
          problems += report.problems.length;
        }
        if (options.lint) process.stderr.write(problems === 0 ? 'lint: no problems\n' : `lint: ${problems} problem(s)\n`);
        if (problems > 0) process.exitCode = 1;
      }),
    );
}
