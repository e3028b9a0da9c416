// Shared by the fast bootstrap tests: the manifest as plain data, the stage library extracted from the
// packages stage, rendering through the orchestrator's own renderer, and shellcheck.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { loadManifest } from '../../server/orchestrator/manifest.ts';
import { StageRenderer } from '../../server/orchestrator/render.ts';
import type { StageContext } from '../../server/orchestrator/context.ts';

export const BOOTSTRAP_DIR = new URL('../../bootstrap/', import.meta.url).pathname;

export interface RawStage {
  id: string;
  role: string;
  script: string;
  requires?: string[];
  verify?: string;
  timeoutSeconds?: number;
  retries?: number;
  runsOn?: string;
  publishes?: string[];
  consumes?: string[];
}

export function rawManifest(): RawStage[] {
  return (parse(readFileSync(join(BOOTSTRAP_DIR, 'manifest.yaml'), 'utf8')) as { stages: RawStage[] }).stages;
}

/** The library the packages stage installs at /usr/local/lib/racklift/lib.sh (its here-document body). */
export function stageLibrary(): string {
  const text = readFileSync(join(BOOTSTRAP_DIR, 'common/packages.sh.hbs'), 'utf8');
  const body = text.split("<<'RACKLIFT_LIB'\n")[1]?.split('\nRACKLIFT_LIB\n')[0];
  if (!body) throw new Error('packages.sh.hbs has no RACKLIFT_LIB here-document');
  return `${body}\n`;
}

let renderer: StageRenderer | null = null;
export function renderStage(id: string, context: StageContext): { script: string; verify: string | null } {
  const manifest = loadManifest(BOOTSTRAP_DIR);
  renderer ??= new StageRenderer(manifest);
  return renderer.render(manifest.byId.get(id)!, context);
}

export const shellcheckAvailable = spawnSync('shellcheck', ['--version']).status === 0;

/** A directory holding lib.sh, so `# shellcheck source=lib.sh` resolves with `-P`. */
export function workDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'rl-bootstrap-test-'));
  writeFileSync(join(dir, 'lib.sh'), stageLibrary());
  return dir;
}

/** shellcheck -s sh findings for files written into dir, one shellcheck run (empty string: clean). */
export function shellcheck(dir: string, files: Record<string, string>, extraArgs: string[] = []): string {
  const paths = Object.entries(files).map(([name, text]) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  });
  try {
    execFileSync('shellcheck', ['-s', 'sh', '-x', '-P', dir, '-f', 'gcc', ...extraArgs, ...paths], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return '';
  } catch (error) {
    return String((error as { stdout?: string }).stdout ?? error);
  }
}
