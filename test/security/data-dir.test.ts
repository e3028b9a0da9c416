// Secrets at rest, as another local user would try them: the data directory is 0700 and the database, the key
// file and the SSH private key 0600 on create and after every start (looser ones are tightened and logged);
// `nobody` cannot read them; BMC passwords are sealed with a key kept in the data directory, never in the
// database, and rows an older version stored in clear are sealed at start.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../server/config.ts';
import { startAppliance } from '../../server/main.ts';
import { createLogger } from '../../server/log.ts';
import { databasePath, openStore } from '../../server/store/index.ts';

const isRoot = process.getuid?.() === 0;
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function workDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'rl-datadir-'));
  chmodSync(dir, 0o755); // like /var/lib: others may enter the parent
  dirs.push(dir);
  return dir;
}

const mode = (path: string) => (statSync(path).mode & 0o777).toString(8);

async function start(dataDir: string) {
  const lines: string[] = [];
  const log = createLogger('info', { write: (line: string) => void lines.push(line) });
  const config = loadConfig({ env: {}, overrides: { dataDir, 'http.host': '127.0.0.1', 'http.port': 0, 'http.tls.port': 0, 'orchestrator.enabled': false, 'log.level': 'info' } });
  const appliance = await startAppliance(config, log);
  appliance.ctx.services.sshIdentity();
  return { appliance, lines };
}

/** Whether the user nobody can read the file (util-linux setpriv drops to its uid and gid). */
function nobodyReads(path: string): boolean {
  const run = spawnSync('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', 'cat', path], { encoding: 'utf8' });
  return run.status === 0;
}

describe('the data directory', () => {
  it('is created 0700 with the database, the key file and the SSH key 0600', async () => {
    const dataDir = join(workDir(), 'var');
    const { appliance } = await start(dataDir);
    await appliance.stop();
    expect(mode(dataDir)).toBe('700');
    for (const file of ['racklift.sqlite', 'racklift.key', 'ssh/id_ed25519', 'tls/key.pem']) expect(mode(join(dataDir, file)), file).toBe('600');
    expect(mode(join(dataDir, 'tls'))).toBe('700');
    for (const file of ['racklift.sqlite-wal', 'racklift.sqlite-shm']) if (existsSync(join(dataDir, file))) expect(mode(join(dataDir, file)), file).toBe('600');
  });

  it.skipIf(!isRoot || !existsSync('/usr/bin/setpriv'))('keeps the user nobody from reading the database and the keys', async () => {
    const dataDir = join(workDir(), 'var');
    const { appliance } = await start(dataDir);
    await appliance.stop();
    for (const file of ['racklift.sqlite', 'racklift.key', 'ssh/id_ed25519', 'tls/key.pem']) expect(nobodyReads(join(dataDir, file)), file).toBe(false);
  });

  it('tightens a looser directory and files at start, and logs each change', async () => {
    const dataDir = join(workDir(), 'var');
    await (await start(dataDir)).appliance.stop();
    chmodSync(dataDir, 0o755);
    chmodSync(join(dataDir, 'racklift.sqlite'), 0o644);
    chmodSync(join(dataDir, 'racklift.key'), 0o644);
    const { appliance, lines } = await start(dataDir);
    await appliance.stop();
    expect(mode(dataDir)).toBe('700');
    expect(mode(join(dataDir, 'racklift.sqlite'))).toBe('600');
    expect(mode(join(dataDir, 'racklift.key'))).toBe('600');
    const log = lines.join('');
    expect(log).toContain(`permissions tightened: ${dataDir} was 0755, now 0700`);
    expect(log).toContain(`permissions tightened: ${join(dataDir, 'racklift.sqlite')} was 0644, now 0600`);
  });
});

describe('BMC passwords at rest', () => {
  const bmc = { driver: 'ipmi' as const, address: '10.236.0.50', username: 'admin', password: 'bmc-Secret-9917' };

  it('are sealed in the database with a key from the data directory, and read back for use', () => {
    const dataDir = join(workDir(), 'var');
    const store = openStore(databasePath(dataDir));
    const node = store.nodes.create('52:54:00:00:50:01', {}, 'test', 'test');
    store.nodes.update(node.id, { bmc });
    expect(store.nodes.get(node.id)!.bmc!.password).toBe(bmc.password);
    store.close();
    const raw = readFileSync(databasePath(dataDir));
    expect(raw.includes(Buffer.from(bmc.password))).toBe(false);
    const db = new Database(databasePath(dataDir), { readonly: true });
    const row = db.prepare('SELECT bmc FROM nodes').get() as { bmc: string };
    const secrets = JSON.stringify(db.prepare('SELECT * FROM appliance_secrets').all());
    db.close();
    expect(row.bmc).not.toContain(bmc.password);
    expect(JSON.parse(row.bmc).password).toMatch(/^sealed:v1:/);
    const key = readFileSync(join(dataDir, 'racklift.key'), 'utf8').trim();
    expect(secrets).not.toContain(key);
  });

  it('seals passwords an older version stored in clear, at the next start', () => {
    const dataDir = join(workDir(), 'var');
    const store = openStore(databasePath(dataDir));
    const node = store.nodes.create('52:54:00:00:50:02', {}, 'test', 'test');
    store.db.prepare('UPDATE nodes SET bmc = ? WHERE id = ?').run(JSON.stringify(bmc), node.id);
    store.close();
    const again = openStore(databasePath(dataDir));
    expect(again.notes.join('\n')).toMatch(/sealed 1 BMC password stored in clear/);
    expect(again.nodes.get(node.id)!.bmc!.password).toBe(bmc.password);
    const row = again.db.prepare('SELECT bmc FROM nodes WHERE id = ?').get(node.id) as { bmc: string };
    expect(row.bmc).not.toContain(bmc.password);
    again.close();
  });

  it('refuses to start without its key file, or with another one, saying which file to restore', () => {
    const dataDir = join(workDir(), 'var');
    openStore(databasePath(dataDir)).close();
    const keyPath = join(dataDir, 'racklift.key');
    const key = readFileSync(keyPath);
    rmSync(keyPath);
    expect(() => openStore(databasePath(dataDir))).toThrow(/racklift\.key is missing, but the database holds secrets sealed with it/);
    expect(existsSync(keyPath)).toBe(false);
    writeFileSync(keyPath, `${Buffer.alloc(32, 7).toString('base64')}\n`, { mode: 0o600 });
    expect(() => openStore(databasePath(dataDir))).toThrow(/is not the key this database was sealed with/);
    writeFileSync(keyPath, key, { mode: 0o600 });
    openStore(databasePath(dataDir)).close();
  });
});
