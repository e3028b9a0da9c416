// OS profiles: data in the store, seeded from templates/profiles/*.yaml at start.
import type { Db } from './db.ts';
import type { OsProfile } from '../domain/types.ts';

interface ProfileRow {
  name: string;
  family: OsProfile['family'];
  release: string;
  installer: OsProfile['installer'];
  kernel: string;
  initrd: string;
  mirror_url: string;
  template: string;
  kernel_args: string;
  legacy: number;
  description: string;
}

const toProfile = (row: ProfileRow): OsProfile => ({
  name: row.name,
  family: row.family,
  release: row.release,
  installer: row.installer,
  kernel: row.kernel,
  initrd: row.initrd,
  mirrorUrl: row.mirror_url,
  template: row.template,
  kernelArgs: row.kernel_args,
  legacy: row.legacy === 1,
  description: row.description,
});

export class ProfileStore {
  private readonly byName;
  private readonly all;
  private readonly upsertStatement;
  private readonly removeStatement;
  private readonly setSource;
  private readonly sources;

  constructor(db: Db) {
    this.byName = db.prepare<[string], ProfileRow>('SELECT * FROM profiles WHERE name = ?');
    this.all = db.prepare<[], ProfileRow>('SELECT * FROM profiles ORDER BY legacy, name');
    this.upsertStatement = db.prepare(
      `INSERT INTO profiles (name, family, release, installer, kernel, initrd, mirror_url, template, kernel_args, legacy, description, updated_at)
       VALUES (@name, @family, @release, @installer, @kernel, @initrd, @mirrorUrl, @template, @kernelArgs, @legacy, @description, @updatedAt)
       ON CONFLICT(name) DO UPDATE SET family = excluded.family, release = excluded.release, installer = excluded.installer,
         kernel = excluded.kernel, initrd = excluded.initrd, mirror_url = excluded.mirror_url, template = excluded.template,
         kernel_args = excluded.kernel_args, legacy = excluded.legacy, description = excluded.description, updated_at = excluded.updated_at`,
    );
    this.removeStatement = db.prepare<[string]>('DELETE FROM profiles WHERE name = ?');
    this.setSource = db.prepare<[string | null, string]>('UPDATE profiles SET media_source = ? WHERE name = ?');
    this.sources = db.prepare<[], { name: string; media_source: string }>('SELECT name, media_source FROM profiles WHERE media_source IS NOT NULL');
  }

  /** Records where `racklift os import` took the profile's media from: links in boot/ may resolve into it. */
  setMediaSource(name: string, source: string | null): void {
    this.setSource.run(source, name);
  }

  /** Every recorded import source (real paths of ISO files or directories). */
  mediaSources(): string[] {
    return this.sources.all().map((row) => row.media_source);
  }

  /** Names of the profiles `racklift os import` has placed media for. */
  imported(): Set<string> {
    return new Set(this.sources.all().map((row) => row.name));
  }

  get(name: string): OsProfile | null {
    const row = this.byName.get(name);
    return row ? toProfile(row) : null;
  }

  list(): OsProfile[] {
    return this.all.all().map(toProfile);
  }

  upsert(profile: OsProfile): void {
    this.upsertStatement.run({ ...profile, legacy: profile.legacy ? 1 : 0, updatedAt: new Date().toISOString() });
  }

  remove(name: string): void {
    this.removeStatement.run(name);
  }
}
