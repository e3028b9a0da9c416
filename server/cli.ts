// The `racklift` command line: serve the appliance, or operate on it through the same services.
import { Command, CommanderError } from 'commander';
import { ConfigError, loadConfig } from './config.ts';
import { IllegalTransitionError } from './domain/lifecycle.ts';
import { startAppliance } from './main.ts';
import { stopOnSignals } from './shutdown.ts';
import { ConflictError, NotFoundError, ValidationError } from './services/errors.ts';
import { registerNodeCommands } from './cli/node.ts';
import { RemoteError } from './cli/remote.ts';
import { SecretKeyError } from './store/secret-box.ts';
import { TlsSetupError } from './http/tls.ts';
import { registerUserCommands } from './cli/user.ts';
import { registerPowerCommands } from './cli/power.ts';
import { registerLabCommand } from './cli/lab.ts';
import { registerOsCommands } from './cli/os.ts';
import { registerRenderCommands } from './cli/render.ts';
import { registerSetupCommand } from './cli/setup.ts';
import { registerDoctorCommand } from './cli/doctor.ts';

const program = new Command('racklift')
  .description('PXE bare-metal provisioning appliance with OpenStack bootstrap')
  .option('-c, --config <file>', 'configuration file (default: $RACKLIFT_CONFIG or ./racklift.yaml)')
  .option('--url <url>', 'node commands go to this running appliance through its REST API (default: $RACKLIFT_URL)')
  .option('--token <token>', 'API token for --url (default: $RACKLIFT_TOKEN; make one with racklift user token NAME)')
  .option('--tls-fingerprint <sha256>', "trust the appliance's HTTPS certificate with this SHA-256 fingerprint (logged at its start; default: $RACKLIFT_TLS_FINGERPRINT)")
  .option('--ca-file <pem>', 'trust HTTPS certificates signed by this CA, or this certificate itself, e.g. a copy of <dataDir>/tls/cert.pem (default: $RACKLIFT_CA_FILE)')
  .showHelpAfterError()
  .exitOverride();

const configOption = () => program.opts<{ config?: string }>().config;

program
  .command('serve')
  .description('run the appliance: HTTP, and DHCP/TFTP when a provisioning interface is configured')
  .action(async () => {
    stopOnSignals(await startAppliance(loadConfig({ file: configOption() ?? null })));
  });

registerNodeCommands(program, configOption);
registerUserCommands(program, configOption);
registerPowerCommands(program, configOption);
registerLabCommand(program);
registerOsCommands(program, configOption);
registerRenderCommands(program, configOption);
registerSetupCommand(program, configOption);
registerDoctorCommand(program, configOption);

function explain(error: unknown): string | null {
  if (error instanceof ConfigError) return error.message;
  if (error instanceof ValidationError || error instanceof ConflictError || error instanceof NotFoundError) return error.message;
  if (error instanceof IllegalTransitionError) return error.message;
  if (error instanceof RemoteError) return error.message;
  if (error instanceof SecretKeyError || error instanceof TlsSetupError) return error.message;
  return null;
}

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) process.exit(error.exitCode);
  const message = explain(error);
  if (message) {
    process.stderr.write(`racklift: ${message}\n`);
    process.exit(error instanceof ConfigError ? 78 : 1);
  }
  throw error;
}
