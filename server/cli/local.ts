// Opens the appliance's store and services in this process, for CLI commands run on the appliance itself.
import { loadConfig, type Config } from '../config.ts';
import { createServices, type Services } from '../services/index.ts';
import { databasePath, openStore, type Store } from '../store/index.ts';

export interface LocalAppliance {
  config: Config;
  store: Store;
  services: Services;
}

export function withLocalAppliance<T>(configFile: string | undefined, use: (local: LocalAppliance) => T): T {
  const config = loadConfig({ file: configFile ?? null });
  const store = openStore(databasePath(config.dataDir));
  try {
    return use({ config, store, services: createServices(config, store) });
  } finally {
    store.close();
  }
}
