// Secrets reach scripts only through the rendered context, always through `sq`; no value a template prints
// can break out of its quotes, because the values are validated at the edge and quoted on the way in.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hostnameSchema } from '../../server/domain/validation.ts';
import { clusterSettingsSchema, generatePassword, SECRET_NAMES } from '../../server/services/cluster.ts';
import { shellQuote } from '../../server/orchestrator/render.ts';
import { BOOTSTRAP_DIR, rawManifest, renderStage } from './helpers.ts';
import { sampleContext, sampleSecrets, type SampleRole } from './sample-context.ts';

const templates = () => [...new Set(rawManifest().map((s) => s.script))].map((script) => ({ script, text: readFileSync(join(BOOTSTRAP_DIR, script), 'utf8') }));
const roleOf = (role: string): SampleRole => (role === 'compute' ? 'compute' : role === 'storage' ? 'storage' : 'controller');

describe('secrets in stage scripts', () => {
  it('no script or verify command holds a secret in its text', () => {
    const secrets = Object.values(sampleSecrets());
    const texts = [...templates().map((t) => t.text), readFileSync(join(BOOTSTRAP_DIR, 'manifest.yaml'), 'utf8')];
    for (const text of texts) for (const secret of secrets) expect(text).not.toContain(secret);
    // No literal password assignment either (password = something that is not a variable or template).
    for (const { script, text } of templates()) {
      expect(text, script).not.toMatch(/password\s*=\s*[A-Za-z0-9]{8,}\s*$/m);
    }
  });

  it('every value a template prints goes through sq; only if/each/else/with structure is unquoted', () => {
    const sources = [...templates(), ...rawManifest().map((s) => ({ script: `${s.id} verify`, text: s.verify ?? '' }))];
    for (const { script, text } of sources) {
      for (const [expression] of text.matchAll(/\{\{[^}]*\}\}/g)) {
        expect(expression, `${script}: ${expression}`).toMatch(/^\{\{(sq [^}]+|#if [^}]+|#each [^}]+|else|\/if|\/each)\}\}$/);
      }
    }
  });

  it('every secret in a rendered script stands inside single quotes', () => {
    const secrets = sampleSecrets();
    const used = new Set<string>();
    for (const stage of rawManifest()) {
      const { script } = renderStage(stage.id, sampleContext(roleOf(stage.role)));
      for (const name of SECRET_NAMES) {
        for (const match of script.matchAll(new RegExp(secrets[name], 'g'))) {
          used.add(name);
          const at = match.index!;
          expect(script[at - 1], `${stage.id}: ${name} not quoted`).toBe("'");
          expect(script[at + secrets[name].length], `${stage.id}: ${name} not quoted`).toBe("'");
        }
      }
    }
    // Every generated service secret is used by some stage, except the installer's root password.
    expect([...used].sort()).toEqual(SECRET_NAMES.filter((n) => n !== 'rootPassword').sort());
  });

  it('sq makes a hostile value one inert word (defence in depth behind validation)', () => {
    for (const hostile of [`x'; touch /tmp/rl-pwned; echo '`, '$(id)', '`id`', 'a b\nc', "'", '"\\']) {
      const out = execFileSync('sh', ['-c', `v=${shellQuote(hostile)}; printf '%s' "$v"`], { encoding: 'utf8' });
      expect(out).toBe(hostile);
    }
  });

  it('the values that reach scripts are validated: generated passwords are alphanumeric, names are names', () => {
    for (let i = 0; i < 50; i += 1) expect(generatePassword()).toMatch(/^[A-Za-z0-9]{24}$/);
    expect(hostnameSchema.safeParse("ctl1'; reboot").success).toBe(false);
    expect(clusterSettingsSchema.safeParse({ region: 'Region One;' }).success).toBe(false);
    expect(clusterSettingsSchema.safeParse({ neutron: { mechanism: 'ovs; rm' } }).success).toBe(false);
    expect(clusterSettingsSchema.safeParse({ image: { name: 'x$(id)', url: null } }).success).toBe(false);
  });

  it('the library refuses a secret outside the password alphabet before it reaches SQL or a URL', () => {
    const lib = readFileSync(join(BOOTSTRAP_DIR, 'common/packages.sh.hbs'), 'utf8').split("<<'RACKLIFT_LIB'\n")[1]!.split('\nRACKLIFT_LIB\n')[0]!;
    const run = (value: string) => {
      try {
        execFileSync('sh', ['-c', `${lib}\nrl_safe test "$1" && echo accepted`, 'sh', value], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
        return 'accepted';
      } catch {
        return 'refused';
      }
    };
    expect(run('Abc123')).toBe('accepted');
    expect(run("a'b")).toBe('refused');
    expect(run('a b')).toBe('refused');
    expect(run('')).toBe('refused');
  });
});
