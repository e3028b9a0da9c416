// `racklift os import|list` and `racklift render` as an operator runs them: real processes, a private data and
// boot directory.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEBIAN_12_NETBOOT_DIR } from '../../server/render/os-import.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'rl-render-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const hasNetboot = existsSync(DEBIAN_12_NETBOOT_DIR);
if (!hasNetboot) console.warn(`render cli: ${DEBIAN_12_NETBOOT_DIR} is missing (Debian package debian-installer-12-netboot-amd64): skipped`);

function racklift(...args: string[]) {
  return spawnSync(process.execPath, [join(ROOT, 'bin/racklift.js'), ...args], {
    cwd: dir,
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, RACKLIFT_DATA_DIR: join(dir, 'data'), RACKLIFT_BOOT_DIR: join(dir, 'boot'), RACKLIFT_LOG_LEVEL: 'silent' },
  });
}

describe.skipIf(!hasNetboot)('racklift os and render', () => {
  it('imports debian-12 from its package and lists it as imported', () => {
    expect(racklift('os', 'import', 'debian-12').status).toBe(0);
    const list = racklift('os', 'list');
    expect(list.stdout).toMatch(/^debian-12\s+debian\s+12\s+preseed\s+-\s+imported/m);
    expect(list.stdout).toMatch(/^rocky-9 .*missing: racklift os import rocky-9/m);
    const refused = racklift('os', 'import', 'rocky-9');
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/give --from/);
  });

  it('prints every file of an assigned node and lints them clean', () => {
    expect(racklift('node', 'add', '52:54:00:04:60:01', '--hostname', 'cli-1', '--profile', 'debian-12').status).toBe(0);
    const all = racklift('render', '52:54:00:04:60:01', '--all');
    expect(all.status, all.stderr).toBe(0);
    expect(all.stdout).toContain('===== preseed =====');
    expect(all.stdout).toContain('d-i preseed/late_command string');
    expect(all.stderr).toContain('lint preseed: checked debconf-set-selections --checkonly');
    expect(all.stderr).toContain('lint preseed: checked shellcheck preseed/late_command');
    expect(all.stderr).toMatch(/lint: no problems\n$/);
  });

  it('prints local boot for an unknown MAC and refuses a file the profile does not have', () => {
    expect(racklift('render', '52:54:00:04:60:99').stdout).toMatch(/^exit$/m);
    const wrong = racklift('render', 'cli-1', '--kind', 'kickstart');
    expect(wrong.status).toBe(1);
    expect(wrong.stderr).toMatch(/has no kickstart file/);
  });
});
