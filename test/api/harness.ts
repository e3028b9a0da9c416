// An appliance's HTTP side on 127.0.0.1 port 0 with an in-memory store, a user and an API token.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadConfig } from '../../server/config.ts';
import type { AppContext } from '../../server/context.ts';
import { Accounts } from '../../server/http/auth/accounts.ts';
import { SESSION_COOKIE } from '../../server/http/auth/middleware.ts';
import { createHttpApp } from '../../server/http/app.ts';
import { createLogger } from '../../server/log.ts';
import { createServices } from '../../server/services/index.ts';
import { openStore } from '../../server/store/index.ts';

export const PASSWORD = 'correct horse battery';

export interface TestApi {
  ctx: AppContext;
  base: string;
  token: string;
  /** API tokens of an operator (`olga`) and a viewer (`victor`), for role tests. */
  operatorToken: string;
  viewerToken: string;
  /** Cookie header and CSRF token of a session of the same user. */
  session: { cookie: string; csrf: string };
  accounts: Accounts;
  close(): Promise<void>;
}

export async function startTestApi(overrides: Record<string, unknown> = {}): Promise<TestApi> {
  const config = loadConfig({
    env: {},
    overrides: {
      dataDir: '/tmp/racklift-api-test-unused',
      'provisioning.address': '10.236.0.1',
      'provisioning.subnet': '10.236.0.0/24',
      'provisioning.pool': { start: '10.236.0.100', end: '10.236.0.200' },
      'dhcp.enabled': false,
      'tftp.enabled': false,
      ...overrides,
    },
  });
  const store = openStore(':memory:');
  const ctx: AppContext = { config, store, services: createServices(config, store), log: createLogger('silent') };
  const accounts = new Accounts(store);
  const user = await accounts.addUser('alice', PASSWORD, 'admin');
  const { token } = accounts.createApiToken('alice', 'tests');
  await accounts.addUser('olga', PASSWORD, 'operator');
  await accounts.addUser('victor', PASSWORD, 'viewer');
  const operatorToken = accounts.createApiToken('olga', 'tests').token;
  const viewerToken = accounts.createApiToken('victor', 'tests').token;
  const { sessionId, csrfToken } = accounts.startSession(user.id);
  const server: Server = createServer(createHttpApp(ctx));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    ctx,
    base: `http://127.0.0.1:${port}`,
    token,
    operatorToken,
    viewerToken,
    session: { cookie: `${SESSION_COOKIE}=${sessionId}`, csrf: csrfToken },
    accounts,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          store.close();
          resolve();
        });
      }),
  };
}

export interface Call {
  status: number;
  body: any;
  headers: Headers;
}

/** fetch with a JSON body; `auth` picks the token, the session (with or without CSRF) or nothing. */
export async function call(
  api: TestApi,
  method: string,
  path: string,
  options: { body?: unknown; auth?: 'token' | 'session' | 'session-no-csrf' | 'none'; csrf?: string; rawBody?: string } = {},
): Promise<Call> {
  const headers: Record<string, string> = {};
  const auth = options.auth ?? 'token';
  if (auth === 'token') headers.authorization = `Bearer ${api.token}`;
  if (auth.startsWith('session')) headers.cookie = api.session.cookie;
  if (auth === 'session') headers['x-csrf-token'] = options.csrf ?? api.session.csrf;
  let body: string | undefined;
  if (options.rawBody !== undefined || options.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = options.rawBody ?? JSON.stringify(options.body);
  }
  const response = await fetch(`${api.base}${path}`, { method, headers, body, redirect: 'manual' });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: response.status, body: parsed, headers: response.headers };
}
