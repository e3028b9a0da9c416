// The rack benchmark's table: one column per storm (server and round), one row per figure.

export interface MachineResult {
  index: number;
  /** Unix seconds when the driver powered it on (spawned its client). */
  poweredOn: number;
  /** Unix seconds at the end of each step machine.sh reached. */
  steps: Record<string, number>;
  failed: string | null;
}

export interface StormResult {
  server: string;
  startedAt: number;
  results: MachineResult[];
  /** What the appliance reports about itself (racklift only). */
  report: Record<string, unknown> | null;
  loadMax: number;
  loadAtEnd: string;
}

/** Each step's duration: from the end of the step before (power-on for the first). */
const STEPS: [name: string, label: string][] = [
  ['dhcp1', 'DHCP as PXE ROM (power-on to ACK)'],
  ['tftp', 'TFTP undionly.kpxe (blksize 1432)'],
  ['dhcp2', 'DHCP as iPXE'],
  ['script', 'HTTP boot script'],
  ['kernel', 'HTTP kernel 8.2 MB (installers)'],
  ['initrd', 'HTTP initrd 40.8 MB (installers)'],
  ['done', 'whole boot, power-on to last byte'],
];

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? NaN;
}

function stepDurations(storm: StormResult, step: string): number[] {
  const order = ['start', ...STEPS.map(([name]) => name)];
  const durations: number[] = [];
  for (const machine of storm.results) {
    const end = machine.steps[step];
    if (end === undefined) continue;
    if (step === 'done') {
      durations.push(end - machine.poweredOn);
      continue;
    }
    // The step before that this machine reached (installers have kernel and initrd, the others skip them).
    let before = machine.poweredOn;
    for (const name of order.slice(1, order.indexOf(step))) if (machine.steps[name] !== undefined) before = machine.steps[name]!;
    durations.push(end - before);
  }
  return durations;
}

const seconds = (value: number) => (Number.isNaN(value) ? '-' : value < 1 ? `${(value * 1000).toFixed(0)} ms` : `${value.toFixed(2)} s`);
const get = (value: unknown, path: string): unknown => path.split('.').reduce<unknown>((at, key) => (at as Record<string, unknown> | null)?.[key], value);

export function summarize(storms: StormResult[]): string {
  const rows: [string, ...string[]][] = [];
  const column = (fn: (storm: StormResult) => string) => storms.map(fn);
  rows.push(['', ...storms.map((s, i) => `${s.server} #${storms.slice(0, i + 1).filter((o) => o.server === s.server).length}`)]);
  rows.push(['machines complete', ...column((s) => `${s.results.filter((m) => !m.failed && m.steps.done).length}/${s.results.length}`)]);
  rows.push([
    'failed (step: count)',
    ...column((s) => {
      const counts = new Map<string, number>();
      for (const m of s.results) if (m.failed) counts.set(m.failed, (counts.get(m.failed) ?? 0) + 1);
      return counts.size ? [...counts].map(([step, n]) => `${step}: ${n}`).join(', ') : 'none';
    }),
  ]);
  rows.push([
    'total time (first power-on to last byte)',
    ...column((s) => {
      const done = s.results.map((m) => m.steps.done).filter((t): t is number => t !== undefined);
      return done.length ? seconds(Math.max(...done) - s.startedAt) : '-';
    }),
  ]);
  for (const [step, label] of STEPS) {
    rows.push([
      `${label}: p50 / p99 / max`,
      ...column((s) => {
        const d = stepDurations(s, step);
        return d.length ? `${seconds(quantile(d, 0.5))} / ${seconds(quantile(d, 0.99))} / ${seconds(Math.max(...d))}` : '-';
      }),
    ]);
  }
  const fromReport = (label: string, fn: (report: Record<string, unknown>) => string) => rows.push([label, ...column((s) => (s.report ? fn(s.report) : '-'))]);
  fromReport('event loop delay p50 / p99 / max', (r) => ['p50', 'p99', 'max'].map((k) => `${Number(get(r, `eventLoopDelayMs.${k}`)).toFixed(1)}`).join(' / ') + ' ms');
  fromReport('appliance CPU during the storm (share of one core)', (r) => `${Math.round(100 * Number(get(r, 'cpuOfOneCore')))}%`);
  fromReport('20 ms timer lateness p99 / max', (r) => ['p99', 'max'].map((k) => `${Number(get(r, `timerLatenessMs.${k}`)).toFixed(1)}`).join(' / ') + ' ms');
  fromReport('TFTP transfers completed / started', (r) => `${get(r, 'tftp.transfersCompleted')}/${get(r, 'tftp.transfersStarted')}`);
  fromReport('TFTP retransmitted blocks / timer expiries', (r) => `${get(r, 'tftp.retransmits')} / ${get(r, 'tftp.timeouts')}`);
  fromReport('TFTP duplicate requests', (r) => `${get(r, 'tftp.duplicateRequests')}`);
  fromReport('DHCP counters (non-zero)', (r) =>
    Object.entries((get(r, 'dhcp') as Record<string, unknown>) ?? {})
      .filter(([, v]) => typeof v === 'number' && v > 0)
      .map(([k, v]) => `${k} ${v}`)
      .join(', '),
  );
  fromReport('appliance RSS after the storm', (r) => `${get(r, 'rssMiB')} MiB`);
  rows.push(['load average: max during / at the end', ...column((s) => `${s.loadMax.toFixed(2)} / ${s.loadAtEnd}`)]);
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => (row[c] ?? '').length)));
  return rows.map((row) => row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ')).join('\n');
}
