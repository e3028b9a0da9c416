// What every running service is handed by main.ts.
import type { Config } from './config.ts';
import type { Logger } from './log.ts';
import type { Services } from './services/index.ts';
import type { Store } from './store/index.ts';

export interface AppContext {
  config: Config;
  store: Store;
  services: Services;
  log: Logger;
}

/** A started network service: main.ts logs its address and closes it on shutdown. */
export interface RunningService {
  name: string;
  address: string;
  close(): Promise<void>;
}
