// Runs shellcheck and debconf-set-selections over rendered text. Used by `racklift render` and the tests,
// never on a request path (they spawn processes).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export interface ToolResult {
  /** null when the tool is not installed (the caller reports it as skipped, naming the package). */
  problems: string[] | null;
}

function which(tool: string): boolean {
  return ['/usr/bin', '/bin', '/usr/local/bin', '/usr/sbin'].some((dir) => existsSync(`${dir}/${tool}`));
}

export const TOOL_PACKAGES: Record<string, string> = { shellcheck: 'shellcheck', 'debconf-set-selections': 'debconf' };

export function toolAvailable(tool: 'shellcheck' | 'debconf-set-selections'): boolean {
  return which(tool);
}

/** shellcheck a script (POSIX sh unless it names another shell); every finding is a problem, with its line. */
export function shellcheck(script: string, label: string, shell: 'sh' | 'bash' = 'sh'): ToolResult {
  if (!which('shellcheck')) return { problems: null };
  const result = spawnSync('shellcheck', ['-s', shell, '-f', 'gcc', '-'], { input: script, encoding: 'utf8', timeout: 30_000 });
  if (result.error) return { problems: [`${label}: shellcheck could not run: ${result.error.message}`] };
  const findings = result.stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => `${label}: ${line.replace(/^-:/, 'line ')}`);
  if (result.status !== 0 && findings.length === 0) findings.push(`${label}: shellcheck exited ${result.status}: ${result.stderr.trim()}`);
  return { problems: findings };
}

/** debconf-set-selections --checkonly: parse errors and unknown types (its warnings) are problems. */
export function debconfCheck(preseed: string): ToolResult {
  if (!which('debconf-set-selections')) return { problems: null };
  const result = spawnSync('debconf-set-selections', ['--checkonly'], { input: preseed, encoding: 'utf8', timeout: 30_000 });
  if (result.error) return { problems: [`debconf-set-selections could not run: ${result.error.message}`] };
  const problems = `${result.stdout}\n${result.stderr}`
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => /^(warning|error):/.test(line))
    .map((line) => `debconf-set-selections: ${line}`);
  if (result.status !== 0 && problems.length === 0) problems.push(`debconf-set-selections exited ${result.status}`);
  return { problems };
}
