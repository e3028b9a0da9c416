// The appliance for the rack benchmark: the same composition `racklift serve` runs (startAppliance), started
// from a racklift.yaml, plus what the benchmark reads from inside the process: the event loop's delay
// (perf_hooks histogram, 10 ms resolution, plus a 20 ms interval timer's lateness, which is what a TFTP
// retransmission timer would see), and the TFTP and DHCP counters. Registers the machines that are to
// install (MAC list file) with the debian-12 profile, as an operator would before powering the rack on.
//   node --import tsx test/bench/rack/appliance.ts CONFIG.yaml INSTALL_MACS.txt
// stdin commands, one per line: `reset` (start a measurement window), `report` (prints one JSON line).
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { loadConfig } from '../../../server/config.ts';
import { startAppliance } from '../../../server/main.ts';
import { createLogger } from '../../../server/log.ts';

const [configPath, installMacsPath] = process.argv.slice(2);
if (!configPath || !installMacsPath) {
  console.error('usage: appliance.ts CONFIG.yaml INSTALL_MACS.txt');
  process.exit(2);
}
const config = loadConfig({ file: configPath, env: {} });
const appliance = await startAppliance(config, createLogger(config.log.level));
const { ctx } = appliance;

const macs = readFileSync(installMacsPath, 'utf8').split('\n').filter(Boolean);
macs.forEach((mac, i) => {
  ctx.services.nodes.add(mac, { hostname: `rack-install-${String(i + 1).padStart(3, '0')}`, roles: ['compute'], profile: 'debian-12' }, 'bench');
});

const histogram = monitorEventLoopDelay({ resolution: 10 });
histogram.enable();
const TIMER_MS = 20;
let timerLateness: number[] = [];
let windowStart = { cpu: process.cpuUsage(), at: performance.now() };
let expected = performance.now() + TIMER_MS;
setInterval(() => {
  const now = performance.now();
  timerLateness.push(now - expected);
  expected = now + TIMER_MS;
}, TIMER_MS);

const quantile = (values: number[], q: number) => {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
};

function report(): Record<string, unknown> {
  const service = (name: string) => appliance.services.find((s) => s.name === name) as unknown as Record<string, unknown> | undefined;
  const tftp = service('tftp') as { counters?: unknown; cacheStats?: () => unknown } | undefined;
  const dhcp = service('dhcp') as { counters?: () => unknown } | undefined;
  return {
    // The histogram records the interval of a 10 ms timer: what exceeds 10 ms is the loop's delay.
    eventLoopDelayMs: {
      p50: Math.max(0, histogram.percentile(50) / 1e6 - 10),
      p99: Math.max(0, histogram.percentile(99) / 1e6 - 10),
      max: Math.max(0, histogram.max / 1e6 - 10),
    },
    /** CPU the appliance used in the window (user + system, all threads), as a share of one core. */
    cpuOfOneCore: (() => {
      const used = process.cpuUsage(windowStart.cpu);
      return (used.user + used.system) / 1000 / (performance.now() - windowStart.at);
    })(),
    timerLatenessMs: { samples: timerLateness.length, p50: quantile(timerLateness, 0.5), p99: quantile(timerLateness, 0.99), max: Math.max(0, ...timerLateness) },
    tftp: tftp?.counters ?? null,
    tftpCache: tftp?.cacheStats?.() ?? null,
    dhcp: dhcp?.counters?.() ?? null,
    nodes: Object.fromEntries(ctx.store.nodes.countByState()),
    rssMiB: Math.round(process.memoryUsage().rss / 2 ** 20),
  };
}

createInterface({ input: process.stdin }).on('line', (line) => {
  if (line === 'reset') {
    histogram.reset();
    timerLateness = [];
    windowStart = { cpu: process.cpuUsage(), at: performance.now() };
    expected = performance.now() + TIMER_MS;
    console.log(JSON.stringify({ reset: true }));
  } else if (line === 'report') {
    console.log(JSON.stringify({ report: report() }));
  }
});
process.on('SIGTERM', () => {
  void appliance.stop().then(() => process.exit(0));
});
console.log(JSON.stringify({ ready: true, installs: macs.length }));
