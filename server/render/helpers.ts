// Per-format escaping. Values were validated at the edge already; these helpers are the second wall: each
// either encodes a value so it stays one token of its format, or throws, so a value can never add a line to a
// Kickstart, a question to a Preseed or a command to a late_command.

export class UnsafeValueError extends Error {
  readonly code = 'unsafe_value';
  constructor(format: string, value: unknown, reason: string) {
    super(`${format}: refusing ${JSON.stringify(String(value)).slice(0, 80)}: ${reason}`);
  }
}

const LINE_BREAK = /[\r\n\0\u2028\u2029]/;

function text(format: string, value: unknown): string {
  if (value === null || value === undefined) throw new UnsafeValueError(format, value, 'value is missing');
  if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
    throw new UnsafeValueError(format, value, 'not a scalar value');
  }
  const s = String(value);
  if (LINE_BREAK.test(s)) throw new UnsafeValueError(format, s, 'contains a line break or NUL');
  return s;
}

/** POSIX shell: one single-quoted word. `'` becomes `'\''`; line breaks are refused (late_command is one line). */
export function shellQuote(value: unknown): string {
  const s = text('shell', value);
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** A Preseed value: the rest of one line. No line break, no trailing backslash (a continuation). */
export function preseedValue(value: unknown): string {
  const s = text('preseed', value);
  if (/\\\s*$/.test(s)) throw new UnsafeValueError('preseed', s, 'ends with a backslash (would continue onto the next line)');
  return s.trim();
}

/** A Kickstart option value: one double-quoted shlex word. */
export function kickstartQuote(value: unknown): string {
  const s = text('kickstart', value);
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** A YAML scalar: JSON strings are valid YAML flow scalars, with every special character escaped. */
export function yamlString(value: unknown): string {
  if (value === null || value === undefined) throw new UnsafeValueError('yaml', value, 'value is missing');
  return JSON.stringify(String(value));
}

/**
 * One kernel-command-line word as iPXE, pxelinux and GRUB parse it: no whitespace, no quotes, no `$` (iPXE
 * and GRUB expand `${`), no word starting with `#` (iPXE comment), no backslash.
 */
export function kernelArg(value: unknown): string {
  const s = text('kernel argument', value);
  if (s === '' || /[\s"'\\`$]/.test(s) || s.startsWith('#')) {
    throw new UnsafeValueError('kernel argument', s, 'must be one word without quotes, backslash, backquote, $ or a leading #');
  }
  return s;
}

/** Splits an operator's extra kernel arguments into words, each checked by kernelArg. */
export function kernelArgWords(line: string): string[] {
  return line.split(/[ \t]+/).filter(Boolean).map(kernelArg);
}

/** Text shown by iPXE `echo` or a pxelinux MENU LABEL: printable, no expansion. */
export function displayText(value: unknown): string {
  // Printable ASCII without the characters iPXE, pxelinux or a shell could read as syntax (quotes, $, `, \, #, {}).
  return String(value ?? '')
    .replace(/[^\x20-\x7e]/g, '?')
    .replace(/["'`$\\#{}]/g, '?')
    .slice(0, 300);
}

export const templateHelpers: Record<string, (...args: unknown[]) => unknown> = {
  sq: (value) => shellQuote(value),
  preseed: (value) => preseedValue(value),
  ks: (value) => kickstartQuote(value),
  yaml: (value) => yamlString(value),
  karg: (value) => kernelArg(value),
  join: (list, separator) => (Array.isArray(list) ? list.map((item) => text('join', item)).join(typeof separator === 'string' ? separator : ' ') : ''),
  eq: (a, b) => a === b,
  concat: (...args) => args.slice(0, -1).map((item) => text('concat', item)).join(''),
};
