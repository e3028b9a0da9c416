// An in-memory appliance context for handler tests: provisioning subnet 10.231.10.0/24, a relayed 10.231.11.0/24.
import { loadConfig } from '../../../server/config.ts';
import type { AppContext } from '../../../server/context.ts';
import { createLogger } from '../../../server/log.ts';
import { createServices } from '../../../server/services/index.ts';
import { openStore, type Store } from '../../../server/store/index.ts';

export const SERVER = '10.231.10.1';

export function dhcpOverrides(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    'provisioning.interface': 'rl-dhcp0',
    'provisioning.address': SERVER,
    'provisioning.subnet': '10.231.10.0/24',
    'provisioning.gateway': '10.231.10.254',
    'provisioning.dns': ['10.231.10.53'],
    'provisioning.pool': { start: '10.231.10.100', end: '10.231.10.102' },
    'provisioning.relayedSubnets': [{ subnet: '10.231.11.0/24', gateway: '10.231.11.1', dns: [], pool: { start: '10.231.11.100', end: '10.231.11.199' } }],
    'http.port': 8080,
    'tftp.enabled': false,
    'orchestrator.enabled': false,
    ...extra,
  };
}

export function memoryContext(extra: Record<string, unknown> = {}, store: Store = openStore(':memory:')): AppContext {
  const config = loadConfig({ overrides: dhcpOverrides(extra), env: {}, file: null });
  return { config, store, services: createServices(config, store), log: createLogger('silent') };
}
