// `racklift user add|list|token`: the people and scripts allowed to use the web form and the REST API.
// There is no default user and no default password: the first admin is created here, on the appliance.
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import type { Command } from 'commander';
import { loadConfig } from '../config.ts';
import { USER_ROLES, type UserRole } from '../domain/user-roles.ts';
import { Accounts, MIN_PASSWORD_LENGTH } from '../http/auth/accounts.ts';
import { ValidationError } from '../services/errors.ts';
import { databasePath, openStore, type Store } from '../store/index.ts';
import { printTable } from './output.ts';

async function withStore<T>(configFile: string | undefined, use: (store: Store) => Promise<T> | T): Promise<T> {
  const store = openStore(databasePath(loadConfig({ file: configFile ?? null }).dataDir));
  try {
    return await use(store);
  } finally {
    store.close();
  }
}

/** One hidden line from the terminal: the characters typed are not echoed. */
function askHidden(question: string): Promise<string> {
  let muted = false;
  const output = new Writable({
    write(chunk: Buffer, _encoding, done) {
      if (!muted) process.stderr.write(chunk);
      done();
    },
  });
  const rl = createInterface({ input: process.stdin, output, terminal: true });
  return new Promise((resolve) => {
    rl.question(question, (answer) => {
      rl.close();
      process.stderr.write('\n');
      resolve(answer);
    });
    muted = true;
  });
}

async function readNewPassword(fromStdin: boolean): Promise<string> {
  if (fromStdin) return readFileSync(0, 'utf8').replace(/\r?\n$/, '');
  if (!process.stdin.isTTY) throw new ValidationError('password', 'no terminal to ask for the password: pipe it in with --password-stdin');
  const first = await askHidden(`Password (at least ${MIN_PASSWORD_LENGTH} characters): `);
  const second = await askHidden('Again: ');
  if (first !== second) throw new ValidationError('password', 'the two passwords differ; nothing was changed');
  return first;
}

export function registerUserCommands(program: Command, configOption: () => string | undefined): void {
  const user = program.command('user').description('users of the web form and the REST API');

  user
    .command('add <name>')
    .description('create a user; the password is asked for (or read from standard input)')
    .requiredOption('--role <role>', `${USER_ROLES.join(', ')}: admin does everything; operator manages nodes (power, re-image) but sees no secrets and no users; viewer only reads, without secrets`)
    .option('--password-stdin', 'read the password from standard input (one line)')
    .action(async (name: string, options: { role: string; passwordStdin?: boolean }) => {
      if (!(USER_ROLES as readonly string[]).includes(options.role)) throw new ValidationError('role', `--role must be one of ${USER_ROLES.join(', ')}`);
      const password = await readNewPassword(!!options.passwordStdin);
      const created = await withStore(configOption(), (store) => new Accounts(store).addUser(name, password, options.role as UserRole));
      process.stdout.write(`user ${created.username} created (${created.role})\n`);
    });

  user
    .command('role <name> <role>')
    .description(`change a user's role (${USER_ROLES.join(', ')}); open sessions and API tokens follow at once`)
    .action((name: string, role: string) =>
      withStore(configOption(), (store) => {
        const changed = new Accounts(store).setRole(name, role as UserRole);
        process.stdout.write(`user ${changed.username} is now ${changed.role}\n`);
      }),
    );

  user
    .command('list')
    .description('list users and their API tokens')
    .action(() =>
      withStore(configOption(), (store) => {
        const rows = store.users.listUsers().map((u) => {
          const tokens = store.users.listApiTokens(u.id);
          return [u.username, u.role, u.createdAt, tokens.map((t) => t.name).join(', ')];
        });
        printTable(['user', 'role', 'created', 'api tokens'], rows);
      }),
    );

  user
    .command('token <name>')
    .description('create an API token for a user (printed once; only its hash is kept)')
    .option('--name <label>', 'what the token is for', 'cli')
    .action((name: string, options: { name: string }) =>
      withStore(configOption(), (store) => {
        const { token } = new Accounts(store).createApiToken(name, options.name);
        process.stdout.write(`${token}\n`);
        process.stderr.write('Store it now: it is not shown again. Use it as --token or RACKLIFT_TOKEN, or as Authorization: Bearer.\n');
      }),
    );
}
