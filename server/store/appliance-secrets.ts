// Secrets of the appliance itself (the install-token key): created once, kept in the store.
import { randomBytes } from 'node:crypto';
import type { Db } from './db.ts';

export class ApplianceSecretStore {
  private readonly read;
  private readonly insert;

  constructor(db: Db) {
    this.read = db.prepare<[string], { value: string }>('SELECT value FROM appliance_secrets WHERE name = ?');
    this.insert = db.prepare('INSERT OR IGNORE INTO appliance_secrets (name, value, created_at) VALUES (?, ?, ?)');
  }

  get(name: string): string | null {
    return this.read.get(name)?.value ?? null;
  }

  /** Stores a value under a name that has none yet (an existing value is kept). */
  putIfAbsent(name: string, value: string): void {
    this.insert.run(name, value, new Date().toISOString());
  }

  /** The named secret, generated (32 random bytes, hex) on first use. */
  getOrCreate(name: string): string {
    const existing = this.read.get(name);
    if (existing) return existing.value;
    this.insert.run(name, randomBytes(32).toString('hex'), new Date().toISOString());
    return this.read.get(name)!.value;
  }
}
