// The store: one database, one module per table group. Services reach tables only through these.
import { join } from 'node:path';
import { ApplianceSecretStore } from './appliance-secrets.ts';
import { ClusterStore } from './cluster.ts';
import { migrate, openDatabase, type Db } from './db.ts';
import { EventStore } from './events.ts';
import { LeaseStore } from './leases.ts';
import { NodeStore } from './nodes.ts';
import { ProfileStore } from './profiles.ts';
import { StageRunStore } from './stage-runs.ts';
import { UserStore } from './users.ts';

export interface Store {
  db: Db;
  nodes: NodeStore;
  events: EventStore;
  leases: LeaseStore;
  stageRuns: StageRunStore;
  cluster: ClusterStore;
  profiles: ProfileStore;
  users: UserStore;
  secrets: ApplianceSecretStore;
  close(): void;
}

export function databasePath(dataDir: string): string {
  return join(dataDir, 'racklift.sqlite');
}

/** Opens (creating if needed) and migrates the database. `:memory:` gives a private store for tests. */
export function openStore(path: string): Store {
  const db = openDatabase(path);
  migrate(db);
  const events = new EventStore(db);
  return {
    db,
    events,
    nodes: new NodeStore(db, events),
    leases: new LeaseStore(db),
    stageRuns: new StageRunStore(db),
    cluster: new ClusterStore(db),
    profiles: new ProfileStore(db),
    users: new UserStore(db),
    secrets: new ApplianceSecretStore(db),
    close: () => {
      if (db.open) db.close();
    },
  };
}
