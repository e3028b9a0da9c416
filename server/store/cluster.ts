// The one row of settings for the cloud being built, and its generated service passwords.
import type { Db } from './db.ts';

export type ClusterSettings = Record<string, unknown>;
export type ClusterSecrets = Record<string, string>;

export class ClusterStore {
  private readonly read;
  private readonly write;

  constructor(db: Db) {
    this.read = db.prepare<[], { settings: string; secrets: string }>('SELECT settings, secrets FROM cluster WHERE id = 1');
    this.write = db.prepare(
      `INSERT INTO cluster (id, settings, secrets, updated_at) VALUES (1, @settings, @secrets, @now)
       ON CONFLICT(id) DO UPDATE SET settings = excluded.settings, secrets = excluded.secrets, updated_at = excluded.updated_at`,
    );
  }

  get(): { settings: ClusterSettings; secrets: ClusterSecrets } {
    const row = this.read.get();
    return row
      ? { settings: JSON.parse(row.settings) as ClusterSettings, secrets: JSON.parse(row.secrets) as ClusterSecrets }
      : { settings: {}, secrets: {} };
  }

  save(settings: ClusterSettings, secrets: ClusterSecrets): void {
    this.write.run({ settings: JSON.stringify(settings), secrets: JSON.stringify(secrets), now: new Date().toISOString() });
  }
}
