// The store: one database, one module per table group. Services reach tables only through these.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ApplianceSecretStore } from './appliance-secrets.ts';
import { ClusterStore } from './cluster.ts';
import { createPrivateFile, ensureDataDir, secureDataDir } from './data-dir.ts';
import { migrate, openDatabase, type Db } from './db.ts';
import { EventStore } from './events.ts';
import { LeaseStore } from './leases.ts';
import { NodeStore } from './nodes.ts';
import { ProfileStore } from './profiles.ts';
import { loadOrCreateKey, SecretBox, SecretKeyError } from './secret-box.ts';
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
  /** What opening changed that an operator should hear of (permissions tightened, passwords sealed). */
  notes: string[];
  close(): void;
}

export function databasePath(dataDir: string): string {
  return join(dataDir, 'racklift.sqlite');
}

export function secretKeyPath(dataDir: string): string {
  return join(dataDir, 'racklift.key');
}

const KEY_CHECK = 'secret-key-check';

/**
 * The box that seals secrets at rest. Its key lives in the data directory, beside the database but never in it;
 * the database keeps a check value, so a lost or swapped key file stops the start with a clear reason instead
 * of leaving BMC passwords unreadable.
 */
function openSecretBox(path: string, secrets: ApplianceSecretStore): SecretBox {
  if (path === ':memory:') return new SecretBox(randomBytes(32));
  const keyPath = secretKeyPath(dirname(path));
  const check = secrets.get(KEY_CHECK);
  if (check !== null && !existsSync(keyPath)) {
    throw new SecretKeyError(`${keyPath} is missing, but the database holds secrets sealed with it: restore it from the backup of the data directory (back up racklift.key with racklift.sqlite)`);
  }
  const box = new SecretBox(loadOrCreateKey(keyPath).key);
  if (check === null) secrets.putIfAbsent(KEY_CHECK, box.keyCheck());
  else if (check !== box.keyCheck()) throw new SecretKeyError(`${keyPath} is not the key this database was sealed with: restore the racklift.key that belongs to ${path}`);
  return box;
}

/** Opens (creating if needed) and migrates the database. `:memory:` gives a private store for tests. */
export function openStore(path: string): Store {
  const notes: string[] = [];
  const dataDir = path === ':memory:' ? null : dirname(path);
  if (dataDir) {
    ensureDataDir(dataDir);
    createPrivateFile(path);
    notes.push(...secureDataDir(dataDir).map((line) => `permissions tightened: ${line}`));
  }
  const db = openDatabase(path);
  migrate(db);
  const events = new EventStore(db);
  const secrets = new ApplianceSecretStore(db);
  let box: SecretBox;
  try {
    box = openSecretBox(path, secrets);
  } catch (error) {
    db.close();
    throw error;
  }
  const nodes = new NodeStore(db, events, box);
  const sealed = nodes.sealPlainBmcPasswords();
  if (sealed > 0) notes.push(`sealed ${sealed} BMC password${sealed > 1 ? 's' : ''} stored in clear by an older version (key: ${secretKeyPath(dataDir ?? '.')})`);
  // WAL mode created the -wal and -shm files just now; they hold database pages too.
  if (dataDir) notes.push(...secureDataDir(dataDir).map((line) => `permissions tightened: ${line}`));
  return {
    db,
    events,
    nodes,
    leases: new LeaseStore(db),
    stageRuns: new StageRunStore(db),
    cluster: new ClusterStore(db),
    profiles: new ProfileStore(db),
    users: new UserStore(db),
    secrets,
    notes,
    close: () => {
      if (db.open) db.close();
    },
  };
}
