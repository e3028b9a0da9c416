// `racklift node bmc|power ...` and the power half of `racklift node reimage --power`: the same PowerService
// the REST API and the web form use.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { loadConfig } from '../config.ts';
import type { PowerAction } from '../power/driver.ts';
import { PowerService, type PowerOutcome } from '../power/service.ts';
import { publicBmc, type BmcInput } from '../power/settings.ts';
import { createServices } from '../services/index.ts';
import { ValidationError } from '../services/errors.ts';
import { databasePath, openStore } from '../store/index.ts';
import type { LocalAppliance } from './local.ts';
import { publicNode } from './node.ts';
import { printJson, printTable } from './output.ts';

const POWER_ACTIONS = ['on', 'off', 'cycle', 'status', 'test'] as const;

/** Like withLocalAppliance, for work that awaits BMCs: the store stays open until the promise settles. */
async function withLocalPower<T>(configFile: string | undefined, use: (local: LocalAppliance & { power: PowerService }) => Promise<T>): Promise<T> {
  const config = loadConfig({ file: configFile ?? null });
  const store = openStore(databasePath(config.dataDir));
  try {
    const services = createServices(config, store);
    return await use({ config, store, services, power: new PowerService(store, services.nodes) });
  } finally {
    store.close();
  }
}

function readPassword(options: { passwordFile?: string; passwordStdin?: boolean }): string | undefined {
  if (options.passwordFile && options.passwordStdin) throw new ValidationError('password', 'give --password-file or --password-stdin, not both');
  let text: string | undefined;
  if (options.passwordFile) {
    try {
      text = readFileSync(options.passwordFile, 'utf8');
    } catch (error) {
      throw new ValidationError('password', `cannot read ${options.passwordFile}: ${(error as Error).message}`);
    }
  } else if (options.passwordStdin) {
    text = readFileSync(0, 'utf8');
  }
  return text === undefined ? undefined : text.replace(/\r?\n$/, '');
}

function report(outcome: PowerOutcome, json: boolean): void {
  if (json) printJson(outcome);
  else process.stdout.write(`${outcome.message}\n`);
  if (!outcome.ok) {
    if (json) process.stderr.write(`racklift: ${outcome.message}\n`);
    process.exitCode = 1;
  }
}

/** `racklift node reimage <node> --power`: re-image, then next boot network once and a power cycle. */
export async function reimageWithPowerCommand(configFile: string | undefined, ref: string, json: boolean): Promise<void> {
  await withLocalPower(configFile, async ({ services, power }) => {
    const node = services.nodes.reimage(ref, 'cli');
    const outcome = await power.reimageWithPower(node.id, 'cli');
    if (json) printJson({ node: publicNode(node), power: outcome });
    else {
      process.stdout.write(`node ${node.id} (${node.hostname ?? node.mac}) is ${node.state}, install generation ${node.generation}\n`);
      for (const step of outcome.steps) process.stdout.write(`${step.ok ? 'ok    ' : 'FAILED'} ${step.message}\n`);
    }
    if (!outcome.ok) {
      if (json || outcome.steps.length === 0) process.stderr.write(`racklift: ${outcome.message}\n`);
      process.exitCode = 1;
    }
  });
}

export function registerPowerCommands(program: Command, configOption: () => string | undefined): void {
  const node = program.commands.find((command) => command.name() === 'node');
  if (!node) throw new Error('registerPowerCommands: register the node commands first');

  node
    .command('bmc <node>')
    .description("set the node's BMC (IPMI or Redfish); the password is read from a file or stdin, never an argument")
    .option('--driver <driver>', 'ipmi (IPMI 2.0 lanplus) or redfish')
    .option('--address <host>', 'BMC IPv4 address or host name')
    .option('--port <port>', 'BMC port (ipmi 623, redfish 443)')
    .option('--user <name>', 'BMC user')
    .option('--password-file <file>', 'read the BMC password from this file (one line)')
    .option('--password-stdin', 'read the BMC password from standard input')
    .option('--cert-fingerprint <sha256>', "redfish: trust the BMC's self-signed certificate with this SHA-256 fingerprint")
    .option('--system-path <path>', 'redfish: /redfish/v1/Systems/<id>, when the BMC has several systems')
    .option('--clear', 'remove the BMC settings')
    .option('--json', 'print JSON')
    .action(
      (
        ref: string,
        options: { driver?: string; address?: string; port?: string; user?: string; passwordFile?: string; passwordStdin?: boolean; certFingerprint?: string; systemPath?: string; clear?: boolean; json?: boolean },
      ) =>
        withLocalPower(configOption(), async ({ power }) => {
          let updated;
          if (options.clear) updated = power.clearBmc(ref, 'cli');
          else {
            if (!options.driver || !options.address || !options.user) throw new ValidationError('bmc', '--driver, --address and --user are required');
            const input: BmcInput = {
              driver: options.driver as BmcInput['driver'],
              address: options.address,
              username: options.user,
              ...(options.port !== undefined ? { port: options.port as unknown as number } : {}),
              ...(options.certFingerprint !== undefined ? { certFingerprint: options.certFingerprint } : {}),
              ...(options.systemPath !== undefined ? { systemPath: options.systemPath } : {}),
            };
            const password = readPassword(options);
            if (password !== undefined) input.password = password;
            updated = power.setBmc(ref, input, 'cli');
          }
          if (options.json) return printJson(publicNode(updated));
          const bmc = publicBmc(updated.bmc);
          process.stdout.write(bmc ? `node ${updated.id}: BMC ${bmc.driver} ${bmc.username}@${bmc.address}${bmc.port ? `:${bmc.port}` : ''}, password ${bmc.password ?? 'not set'}\n` : `node ${updated.id}: no BMC\n`);
        }),
    );

  node
    .command('power <node> <action>')
    .description(`power control through the BMC: ${POWER_ACTIONS.join(', ')} (test records an event either way)`)
    .option('--json', 'print JSON')
    .action((ref: string, action: string, options: { json?: boolean }) =>
      withLocalPower(configOption(), async ({ power }) => {
        if (!(POWER_ACTIONS as readonly string[]).includes(action)) throw new ValidationError('action', `must be one of ${POWER_ACTIONS.join(', ')}`);
        const outcome =
          action === 'status' ? await power.status(ref, 'cli') : action === 'test' ? await power.test(ref, 'cli') : await power.act(ref, action as PowerAction, 'cli');
        report(outcome, !!options.json);
      }),
    );

  node
    .command('power-on-waiting')
    .description('power on every node that waits for its install and has a BMC (network boot once first); nodes already on are left alone')
    .option('--json', 'print JSON')
    .action((options: { json?: boolean }) =>
      withLocalPower(configOption(), async ({ power }) => {
        const outcomes = await power.powerOnWaiting('cli');
        if (options.json) printJson(outcomes);
        else printTable(['node', 'ok', 'power', 'message'], outcomes.map((o) => [o.nodeId, o.ok ? 'yes' : 'NO', o.powerState, o.message]));
        if (outcomes.some((o) => !o.ok)) process.exitCode = 1;
      }),
    );
}
