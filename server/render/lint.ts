// Lints what the renderer produced, per format: Preseed through debconf-set-selections --checkonly plus its
// shell questions through shellcheck; Kickstart through the structural check plus %pre/%post through
// shellcheck; autoinstall user-data as YAML with its late-commands through shellcheck; the finish script
// through shellcheck. A missing tool is reported as skipped, naming its Debian package, never as a pass.
import { parse as parseYaml } from 'yaml';
import { checkKickstart } from './lint-kickstart.ts';
import { debconfCheck, shellcheck, TOOL_PACKAGES, type ToolResult } from './lint-shell.ts';
import { isSha512CryptHash } from './sha512-crypt.ts';

export interface LintReport {
  /** What was checked, e.g. `debconf-set-selections --checkonly`, `shellcheck preseed/late_command`. */
  checks: string[];
  /** Checks that could not run, with the package to install. */
  skipped: string[];
  problems: string[];
}

export type LintKind = 'ipxe' | 'pxelinux' | 'preseed' | 'kickstart' | 'user-data' | 'meta-data' | 'vendor-data' | 'finish.sh';

const SHELL_QUESTIONS = ['preseed/late_command', 'preseed/early_command', 'partman/early_command'];

class Collector implements LintReport {
  checks: string[] = [];
  skipped: string[] = [];
  problems: string[] = [];

  tool(name: string, tool: 'shellcheck' | 'debconf-set-selections', result: ToolResult): void {
    if (result.problems === null) {
      this.skipped.push(`${name}: ${tool} is not installed (Debian package ${TOOL_PACKAGES[tool]})`);
      return;
    }
    this.checks.push(name);
    this.problems.push(...result.problems);
  }

  check(name: string, problems: string[]): void {
    this.checks.push(name);
    this.problems.push(...problems);
  }
}

/** Preseed logical lines (backslash continuations joined as debconf-set-selections joins them). */
export function preseedEntries(text: string): { owner: string; question: string; type: string; value: string; line: number }[] {
  const entries: { owner: string; question: string; type: string; value: string; line: number }[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const start = i + 1;
    let line = lines[i]!.replace(/\r$/, '');
    while (line.endsWith('\\') && i + 1 < lines.length) line = line.slice(0, -1) + lines[++i]!.replace(/\r$/, '');
    if (/^\s*$/.test(line) || /^\s*#/.test(line)) continue;
    const match = /^\s*(\S+)\s+(\S+)\s+(\S+)(?:\s(.*))?$/.exec(line);
    entries.push(match ? { owner: match[1]!, question: match[2]!, type: match[3]!, value: (match[4] ?? '').trim(), line: start } : { owner: '', question: '', type: '', value: line, line: start });
  }
  return entries;
}

function lintPreseed(text: string, report: Collector): void {
  report.tool('debconf-set-selections --checkonly', 'debconf-set-selections', debconfCheck(text));
  const entries = preseedEntries(text);
  const problems: string[] = [];
  const seen = new Map<string, number>();
  for (const entry of entries) {
    if (!entry.question) {
      problems.push(`line ${entry.line}: not "owner question type value"`);
      continue;
    }
    const key = `${entry.owner} ${entry.question}`;
    if (seen.has(key)) problems.push(`line ${entry.line}: ${entry.question} is set again (first on line ${seen.get(key)})`);
    seen.set(key, entry.line);
    if (/^passwd\/(root|user)-password(-again)?$/.test(entry.question)) problems.push(`line ${entry.line}: ${entry.question} is a plain-text password; use ${entry.question.replace(/(-again)?$/, '')}-crypted`);
    if (/-password-crypted$/.test(entry.question) && !isSha512CryptHash(entry.value)) problems.push(`line ${entry.line}: ${entry.question} is not a SHA-512 crypt hash`);
  }
  for (const required of ['preseed/late_command', 'partman-auto/method', 'passwd/root-password-crypted']) {
    if (!entries.some((entry) => entry.question === required)) problems.push(`missing ${required}`);
  }
  report.check('preseed structure', problems);
  for (const entry of entries.filter((e) => SHELL_QUESTIONS.includes(e.question))) {
    report.tool(`shellcheck ${entry.question}`, 'shellcheck', shellcheck(`#!/bin/sh\n${entry.value}\n`, entry.question));
  }
}

function lintKickstart(text: string, report: Collector): void {
  const result = checkKickstart(text);
  report.check('kickstart structure', result.problems);
  for (const section of result.shellSections) {
    if (section.interpreter === 'other') {
      report.skipped.push(`${section.section} on line ${section.line}: not a shell script, not checked`);
      continue;
    }
    report.tool(`shellcheck ${section.section} (line ${section.line})`, 'shellcheck', shellcheck(section.body, `${section.section}@${section.line}`, section.interpreter));
  }
}

/** The shell a late-command runs: a string runs under sh -c; [curtin, in-target, ..., --, sh, -c, SCRIPT] runs SCRIPT. */
function commandScript(command: unknown): string | null {
  if (typeof command === 'string') return command;
  if (Array.isArray(command) && command.every((part) => typeof part === 'string')) {
    const dashC = command.lastIndexOf('-c');
    if (dashC > 0 && /(^|\/)(ba)?sh$/.test(command[dashC - 1] as string) && dashC === command.length - 2) return command[dashC + 1] as string;
  }
  return null;
}

function lintUserData(text: string, report: Collector): void {
  const problems: string[] = [];
  if (!text.startsWith('#cloud-config\n')) problems.push('user-data must start with #cloud-config');
  type UserData = { autoinstall?: Record<string, unknown> } | null;
  let doc: UserData = null;
  try {
    doc = parseYaml(text) as UserData;
  } catch (error) {
    problems.push(`not valid YAML: ${(error as Error).message}`);
  }
  const auto = doc?.autoinstall;
  if (doc && (!auto || typeof auto !== 'object')) problems.push('no autoinstall section');
  if (auto) {
    if (auto.version !== 1) problems.push('autoinstall.version must be 1');
    const identity = auto.identity as Record<string, unknown> | undefined;
    if (identity && !isSha512CryptHash(String(identity.password ?? ''))) problems.push('autoinstall.identity.password is not a SHA-512 crypt hash');
    if (!Array.isArray(auto['late-commands']) || auto['late-commands'].length === 0) problems.push('no late-commands: the done callback would never be sent');
  }
  report.check('autoinstall structure', problems);
  for (const list of ['early-commands', 'late-commands', 'error-commands']) {
    const commands = auto?.[list];
    if (!Array.isArray(commands)) continue;
    commands.forEach((command, i) => {
      const script = commandScript(command);
      if (script === null) {
        report.skipped.push(`${list}[${i}]: not a shell command, not checked`);
        return;
      }
      report.tool(`shellcheck ${list}[${i}]`, 'shellcheck', shellcheck(script.startsWith('#!') ? script : `#!/bin/sh\n${script}\n`, `${list}[${i}]`));
    });
  }
}

function lintMetaData(text: string, report: Collector): void {
  const problems: string[] = [];
  try {
    const doc = parseYaml(text) as Record<string, unknown> | null;
    if (!doc || typeof doc['instance-id'] !== 'string') problems.push('meta-data has no instance-id');
  } catch (error) {
    problems.push(`not valid YAML: ${(error as Error).message}`);
  }
  report.check('meta-data structure', problems);
}

function lintIpxe(text: string, report: Collector): void {
  const problems: string[] = [];
  if (!text.startsWith('#!ipxe\n')) problems.push('an iPXE script must start with #!ipxe');
  const lines = text.split('\n');
  const labels = new Set(lines.filter((line) => line.startsWith(':')).map((line) => line.slice(1).trim()));
  lines.forEach((line, i) => {
    const target = /\bgoto\s+(\S+)/.exec(line)?.[1];
    if (target && !labels.has(target)) problems.push(`line ${i + 1}: goto ${target} has no label`);
    for (const match of line.matchAll(/\$\{([^}]*)\}/g)) {
      if (!/^net\d\/mac$|^netX\/mac$|^mac$/.test(match[1]!)) problems.push(`line ${i + 1}: unexpected setting expansion \${${match[1]}}`);
    }
  });
  if (!lines.some((line) => /^(exit|boot|chain)\b/.test(line) || /\bboot\b/.test(line))) problems.push('the script never boots, chains or exits');
  report.check('ipxe structure', problems);
}

function lintPxelinux(text: string, report: Collector): void {
  const problems: string[] = [];
  const labels = new Set([...text.matchAll(/^LABEL\s+(\S+)/gm)].map((m) => m[1]!));
  const defaultLabel = /^DEFAULT\s+(\S+)/m.exec(text)?.[1];
  const onTimeout = /^ONTIMEOUT\s+(\S+)/m.exec(text)?.[1];
  if (!defaultLabel && !onTimeout) problems.push('no DEFAULT or ONTIMEOUT');
  for (const label of [onTimeout, /^UI\s/m.test(text) ? undefined : defaultLabel]) {
    if (label && !labels.has(label)) problems.push(`label ${label} is not defined`);
  }
  report.check('pxelinux structure', problems);
}

export function lintRendered(kind: LintKind, text: string): LintReport {
  const report = new Collector();
  switch (kind) {
    case 'preseed':
      lintPreseed(text, report);
      break;
    case 'kickstart':
      lintKickstart(text, report);
      break;
    case 'user-data':
      lintUserData(text, report);
      break;
    case 'meta-data':
      lintMetaData(text, report);
      break;
    case 'finish.sh':
      report.tool('shellcheck finish.sh', 'shellcheck', shellcheck(text, 'finish.sh'));
      break;
    case 'ipxe':
      lintIpxe(text, report);
      break;
    case 'pxelinux':
      lintPxelinux(text, report);
      break;
    case 'vendor-data':
      break;
  }
  return { checks: report.checks, skipped: report.skipped, problems: report.problems };
}
