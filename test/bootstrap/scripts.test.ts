// Every stage script and verify command, rendered through the orchestrator's renderer with sample contexts
// (Debian 12 and Ubuntu 24.04, Open vSwitch and Linux bridge, each role), passes `shellcheck -s sh` with no
// finding that is not disabled inline with its reason; the stage library passes too.
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOOTSTRAP_DIR, rawManifest, renderStage, shellcheck, shellcheckAvailable, stageLibrary, workDir } from './helpers.ts';
import { sampleContext, type SampleRole } from './sample-context.ts';

if (!shellcheckAvailable) console.warn('shellcheck is not installed: the shellcheck tests of bootstrap/ are skipped (apt-get install shellcheck)');

const roleOf = (role: string): SampleRole => (role === 'compute' ? 'compute' : role === 'storage' ? 'storage' : 'controller');

describe.skipIf(!shellcheckAvailable)('stage scripts pass shellcheck', () => {
  let dir = '';
  beforeAll(() => {
    dir = workDir();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('the stage library', () => {
    expect(shellcheck(dir, { 'lib-check.sh': `#!/bin/sh\n${stageLibrary()}` })).toBe('');
  });

  // Two renderings reach every branch that depends on the context: each family and each mechanism once.
  for (const [family, mechanism] of [['debian', 'openvswitch'], ['ubuntu', 'linuxbridge']] as const) {
    {
      it(`${family}, ${mechanism}: every script and verify command`, () => {
        const scripts: Record<string, string> = {};
        const verifies: Record<string, string> = {};
        for (const stage of rawManifest()) {
          const rendered = renderStage(stage.id, sampleContext(roleOf(stage.role), family, { mechanism }));
          scripts[`${family}-${mechanism}-${stage.id}.sh`] = rendered.script;
          verifies[`${family}-${mechanism}-${stage.id}.verify.sh`] = `#!/bin/sh\n${rendered.verify}\n`;
        }
        expect(shellcheck(dir, scripts)).toBe('');
        // Verify commands source /root/admin-openrc, which the keystone stage writes on the controller (SC1091:
        // shellcheck cannot follow a file that exists only there).
        expect(shellcheck(dir, verifies, ['-e', 'SC1091'])).toBe('');
      });
    }
  }

  it('every disabled check says why', () => {
    for (const stage of rawManifest()) {
      const text = readFileSync(join(BOOTSTRAP_DIR, stage.script), 'utf8');
      for (const line of text.split('\n').filter((l) => l.includes('shellcheck disable='))) {
        expect(line, `${stage.script}: ${line.trim()}`).toMatch(/disable=SC\d+(,SC\d+)* # \S/);
      }
    }
  });
});

describe('stage scripts are POSIX sh scripts run with set -eu', () => {
  it('start with #!/bin/sh and set -eu, and source the library after the packages stage', () => {
    for (const stage of rawManifest()) {
      const text = readFileSync(join(BOOTSTRAP_DIR, stage.script), 'utf8');
      expect(text.startsWith('#!/bin/sh\n'), stage.script).toBe(true);
      expect(text, stage.script).toMatch(/^set -eu$/m);
      if (!['hosts', 'packages'].includes(stage.id)) expect(text, stage.script).toMatch(/^\. \/usr\/local\/lib\/racklift\/lib\.sh$/m);
    }
  });
});
