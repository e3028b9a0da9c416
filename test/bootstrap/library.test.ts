// The stage library's change tracking, run with the real sh: a second identical write changes nothing, which
// is what keeps services from restarting on a second run of a stage.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stageLibrary } from './helpers.ts';

function sh(script: string): string {
  return execFileSync('sh', ['-eu', '-c', `${stageLibrary()}\n${script}`], { encoding: 'utf8' });
}

describe('stage library', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rl-bootstrap-lib-'));
  const me = `${process.getuid?.() ?? 0}:${process.getgid?.() ?? 0}`;
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('rl_put writes once, then reports no change for the same content and a change for new content', () => {
    const file = join(dir, 'put.conf');
    const put = (text: string) => sh(`rl_put ${file} 0640 ${me} <<'EOF'\n${text}\nEOF\necho "changed=$RL_CHANGED"`).trim().split('\n').pop();
    expect(put('a = 1')).toBe('changed=1');
    expect(put('a = 1')).toBe('changed=0');
    expect(put('a = 2')).toBe('changed=1');
    expect(readFileSync(file, 'utf8')).toBe('a = 2\n');
  });

  it('rl_block keeps one marked block at the end and the rest of the file as it was', () => {
    const file = join(dir, 'settings.py');
    writeFileSync(file, 'DEBUG = False\n');
    const block = (text: string) => sh(`rl_block ${file} racklift <<'EOF'\n${text}\nEOF\necho "changed=$RL_CHANGED"`).trim().split('\n').pop();
    expect(block('HOST = "ctl1"')).toBe('changed=1');
    expect(block('HOST = "ctl1"')).toBe('changed=0');
    expect(block('HOST = "ctl2"')).toBe('changed=1');
    expect(readFileSync(file, 'utf8')).toBe('DEBUG = False\n# BEGIN racklift\nHOST = "ctl2"\n# END racklift\n');
  });

  it('rl_wait gives up with the reason after its time', () => {
    expect(() => execFileSync('sh', ['-eu', '-c', `${stageLibrary()}\nrl_wait 1 "the impossible" false`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })).toThrow(/timed out waiting for the impossible/);
  });
});
