import Database from 'better-sqlite3';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadMigrations, migrate, openDatabase, schemaVersion } from '../../server/store/db.ts';
import { openStore } from '../../server/store/index.ts';

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'rl-store-'));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('migrations', () => {
  it('create every table of the design on an empty database, in WAL mode', () => {
    const store = openStore(join(tempDir(), 'racklift.sqlite'));
    const tables = (store.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((t) => t.name);
    for (const table of ['nodes', 'leases', 'events', 'stage_runs', 'cluster', 'profiles', 'users', 'sessions', 'api_tokens', 'schema_migrations']) {
      expect(tables).toContain(table);
    }
    expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(schemaVersion(store.db)).toBe(loadMigrations().at(-1)!.version);
    store.close();
  });

  it('apply only what is new to an existing database and keep its rows', () => {
    const dir = tempDir();
    const path = join(dir, 'racklift.sqlite');
    const migrationsDir = join(dir, 'migrations');
    mkdirSync(migrationsDir);
    const shipped = loadMigrations();
    for (const m of shipped) copyFileSync(join(import.meta.dirname, '../../server/store/migrations', m.name), join(migrationsDir, m.name));

    const db = openDatabase(path);
    expect(migrate(db, loadMigrations(migrationsDir))).toEqual(shipped.map((m) => m.version));
    db.prepare("INSERT INTO nodes (mac, state, created_at, updated_at, state_changed_at) VALUES ('52:54:00:00:00:01', 'discovered', 'x', 'x', 'x')").run();

    // A later release adds migration 900: only it runs, and the node survives.
    writeFileSync(join(migrationsDir, '900_add_column.sql'), 'ALTER TABLE nodes ADD COLUMN rack TEXT;');
    expect(migrate(db, loadMigrations(migrationsDir))).toEqual([900]);
    expect(migrate(db, loadMigrations(migrationsDir))).toEqual([]);
    expect(db.prepare('SELECT mac, rack FROM nodes').all()).toEqual([{ mac: '52:54:00:00:00:01', rack: null }]);
    db.close();
  });

  it('roll back a failing migration as a whole and leave the version where it was', () => {
    const dir = tempDir();
    const migrationsDir = join(dir, 'migrations');
    mkdirSync(migrationsDir);
    writeFileSync(join(migrationsDir, '001_ok.sql'), 'CREATE TABLE a (x INTEGER);');
    writeFileSync(join(migrationsDir, '002_broken.sql'), 'CREATE TABLE b (x INTEGER); INSERT INTO missing VALUES (1);');
    const db = new Database(join(dir, 'db.sqlite'));
    expect(() => migrate(db, loadMigrations(migrationsDir))).toThrow(/missing/);
    expect(schemaVersion(db)).toBe(1);
    expect(db.prepare("SELECT COUNT(*) AS n FROM sqlite_master WHERE name = 'b'").get()).toEqual({ n: 0 });
    db.close();
  });
});
