// Prometheus metrics of one appliance (prom-client, a registry of its own): what DHCP, TFTP and HTTP answered
// and refused, transfers in flight, nodes per state, how long bootstrap stages and installs took. Services
// register the counters they keep; scraping reads them, so the packet paths do no extra work. GET /metrics.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { NODE_STATES } from '../domain/types.ts';
import type { Store } from '../store/index.ts';

type CounterSource = () => object;

/** Route groups, so a label never carries a MAC, a token or a file name. */
export function routeGroup(path: string): string {
  if (path === '/boot.ipxe') return 'boot-script';
  if (path.startsWith('/boot/')) return 'boot-files';
  if (path.startsWith('/install/')) return 'installer';
  if (path.startsWith('/api/')) return 'api';
  if (path === '/metrics' || path === '/healthz') return path.slice(1);
  if (path.startsWith('/static/')) return 'static';
  return 'web';
}

const MINUTE = 60;

export class ApplianceMetrics {
  readonly registry = new Registry();
  private readonly sources = new Map<string, { counters: CounterSource; inFlight?: () => number }>();
  readonly httpRequests: Counter<'route' | 'status'>;
  readonly httpInFlight: Gauge;
  readonly stageDuration: Histogram<'stage' | 'status'>;
  readonly installDuration: Histogram;
  readonly installs: Counter<'outcome'>;

  constructor(store: Store) {
    const registers = [this.registry];
    const sources = this.sources;
    for (const service of ['dhcp', 'tftp'] as const) {
      new Counter({
        name: `racklift_${service}_total`,
        help: `Every counter the ${service.toUpperCase()} service keeps since start (received, answered, refused and dropped by reason, errors), by name`,
        labelNames: ['counter'],
        registers,
        collect() {
          this.reset();
          const counters = sources.get(service)?.counters();
          if (!counters) return;
          for (const [name, value] of Object.entries(counters)) if (typeof value === 'number') this.inc({ counter: name }, value);
        },
      });
    }
    new Gauge({
      name: 'racklift_tftp_transfers_in_flight',
      help: 'TFTP transfers running now',
      registers,
      collect() {
        this.set(sources.get('tftp')?.inFlight?.() ?? 0);
      },
    });
    this.httpRequests = new Counter({ name: 'racklift_http_requests_total', help: 'HTTP requests answered, by route group and status code', labelNames: ['route', 'status'], registers });
    this.httpInFlight = new Gauge({ name: 'racklift_http_requests_in_flight', help: 'HTTP requests (and file transfers) being answered now', registers });
    new Gauge({
      name: 'racklift_nodes',
      help: 'Nodes per lifecycle state',
      labelNames: ['state'],
      registers,
      collect() {
        const counts = new Map<string, number>(store.db.prepare('SELECT state, COUNT(*) AS n FROM nodes GROUP BY state').all().map((row) => {
          const { state, n } = row as { state: string; n: number };
          return [state, n];
        }));
        for (const state of NODE_STATES) this.set({ state }, counts.get(state) ?? 0);
      },
    });
    this.stageDuration = new Histogram({
      name: 'racklift_stage_duration_seconds',
      help: 'Bootstrap stage runs, from start to end, by stage and outcome',
      labelNames: ['stage', 'status'],
      buckets: [5, 15, 30, MINUTE, 2 * MINUTE, 5 * MINUTE, 10 * MINUTE, 20 * MINUTE, 40 * MINUTE],
      registers,
    });
    this.installDuration = new Histogram({
      name: 'racklift_install_duration_seconds',
      help: 'OS installs, from the installer fetching its file (installing) to its done callback (installed)',
      buckets: [2 * MINUTE, 5 * MINUTE, 10 * MINUTE, 15 * MINUTE, 20 * MINUTE, 30 * MINUTE, 45 * MINUTE, 60 * MINUTE, 120 * MINUTE],
      registers,
    });
    this.installs = new Counter({ name: 'racklift_installs_total', help: 'Installs that ended, by outcome (installed, failed)', labelNames: ['outcome'], registers });

    store.stageRuns.onComplete((run) => {
      if (!run.startedAt || !run.finishedAt) return;
      this.stageDuration.observe({ stage: run.stage, status: run.status }, (Date.parse(run.finishedAt) - Date.parse(run.startedAt)) / 1000);
    });
    store.events.subscribe((event) => {
      if (event.kind !== 'transition' || event.fromState !== 'installing' || event.nodeId === null) return;
      const outcome = event.toState === 'installed' ? 'installed' : event.toState === 'failed' ? 'failed' : null;
      if (!outcome) return;
      this.installs.inc({ outcome });
      const started = store.events.listForNode(event.nodeId, 100).find((e) => e.kind === 'transition' && e.toState === 'installing' && e.id < event.id);
      if (outcome === 'installed' && started) this.installDuration.observe((Date.parse(event.at) - Date.parse(started.at)) / 1000);
    });
  }

  /** A service's own counters (all numeric fields are exported) and, for TFTP, its transfers in flight. */
  attach(service: 'dhcp' | 'tftp', counters: CounterSource, inFlight?: () => number): void {
    this.sources.set(service, { counters, inFlight });
  }

  detach(service: 'dhcp' | 'tftp'): void {
    this.sources.delete(service);
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
