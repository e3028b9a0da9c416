// Rack benchmark: MACHINES simulated machines, each in its own network namespace (10 racks of 50 behind DHCP
// relays by default, network.ts), power on within POWER_ON_SECONDS (evenly spread) and boot as a BIOS PXE ROM
// and iPXE do, with real Debian clients (machine.sh: busybox udhcpc, atftp, curl): DHCP, the loader over TFTP,
// DHCP again as iPXE, the boot script over HTTP, and for INSTALLS of them (registered with the debian-12
// profile) the 8 MB kernel and the 41 MB initrd over HTTP. Measured: machines complete, total time,
// p50/p99/max per step, the appliance's TFTP retransmissions and timer expiries, its CPU and its event loop's
// delay during the storm (from inside the appliance, appliance.ts). The reference in the same run: the same
// rack against dnsmasq (DHCP + TFTP, lease file) and nginx (HTTP, sendfile), set up by hand to hand out the
// same files (reference.ts).
// The machines' clients run at nice 19 (on this one host they share the CPUs with the servers, which in a rack
// they would not). Needs root. Not part of `npm test`.
//   npx tsx test/bench/rack/run.ts
//   env: MACHINES=500 INSTALLS=100 POWER_ON_SECONDS=10 SERVERS="racklift reference" ROUNDS=1 TOPOLOGY=racks|flat
//        RACKS=10 CLIENT_NICE=19 KEEP_WORK=1 RACK_PROFILE=DIR (V8 CPU profile of the appliance)
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { linkBootFiles } from '../../../server/boot-files/setup.ts';
import { importProfile } from '../../../server/render/os-import.ts';
import { openStore } from '../../../server/store/index.ts';
import { loadConfig } from '../../../server/config.ts';
import { createServices } from '../../../server/services/index.ts';
import { buildNetwork, macOf, resetMachines, type RackNetwork, type Topology } from './network.ts';
import { summarize, type MachineResult, type StormResult } from './summary.ts';
import { referenceConfigs } from './reference.ts';

const MACHINES = Number(process.env.MACHINES ?? 500);
const INSTALLS = Math.min(MACHINES, Number(process.env.INSTALLS ?? 100));
const POWER_ON_SECONDS = Number(process.env.POWER_ON_SECONDS ?? 10);
const ROUNDS = Number(process.env.ROUNDS ?? 1);
const SERVERS = (process.env.SERVERS ?? 'racklift reference').split(/\s+/).filter(Boolean);
const TOPOLOGY = (process.env.TOPOLOGY ?? 'racks') as Topology;
const RACKS = Number(process.env.RACKS ?? 10);
const CLIENT_NICE = String(process.env.CLIENT_NICE ?? 19);
const STORM_TIMEOUT_MS = Number(process.env.STORM_TIMEOUT_SECONDS ?? 300) * 1000;

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, '../../..');
const HTTP_PORT = 8080;
const installMacs = Array.from({ length: INSTALLS }, (_, i) => macOf(i * Math.floor(MACHINES / INSTALLS)));

if (process.getuid?.() !== 0) {
  console.error('rack bench: needs root (network namespaces)');
  process.exit(1);
}
if (TOPOLOGY !== 'racks' && TOPOLOGY !== 'flat') {
  console.error(`rack bench: TOPOLOGY is racks or flat, not ${TOPOLOGY}`);
  process.exit(1);
}
for (const tool of ['ip', 'busybox', 'atftp', 'curl', 'dnsmasq', 'nginx', 'nice']) {
  if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) {
    console.error(`rack bench: ${tool} is missing (scripts/install-deps.sh)`);
    process.exit(1);
  }
}

const work = mkdtempSync(join(tmpdir(), 'rl-rack-'));
chmodSync(work, 0o755);
const children = new Set<ChildProcess>();
let cleaned = false;
let network: RackNetwork | null = null;
function cleanup(): void {
  if (cleaned) return;
  cleaned = true;
  for (const child of children) child.kill('SIGKILL');
  network?.destroy();
  if (process.env.KEEP_WORK) console.log(`rack bench: work directory kept: ${work}`);
  else rmSync(work, { recursive: true, force: true });
}
process.on('exit', cleanup);
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(130));

/** boot/ as `racklift setup` makes it: links to the Debian packages' loaders, and `os import debian-12`. */
function prepareBootDir(bootDir: string): void {
  linkBootFiles(bootDir);
  const store = openStore(':memory:');
  createServices(loadConfig({ env: {}, overrides: { dataDir: join(work, 'profiles') } }), store); // seeds the built-in profiles
  importProfile(store.profiles.get('debian-12')!, bootDir, null);
  store.close();
}
const BOOT_DIR = join(work, 'boot');

const loadAverage = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

interface Server {
  name: string;
  stop(): Promise<void>;
  report(): Promise<Record<string, unknown> | null>;
  reset(): Promise<void>;
}

function lines(child: ChildProcess, onLine: (line: string) => void): void {
  createInterface({ input: child.stdout! }).on('line', onLine);
}

async function startRacklift(net: RackNetwork, round: number): Promise<Server> {
  const dir = join(work, `racklift-${round}`);
  mkdirSync(dir, { recursive: true });
  const installMacsFile = join(dir, 'install-macs.txt');
  writeFileSync(installMacsFile, installMacs.join('\n') + '\n');
  writeFileSync(
    join(dir, 'racklift.yaml'),
    `dataDir: ${dir}/data
bootDir: ${BOOT_DIR}
log: { level: warn }
http: { host: 0.0.0.0, port: ${HTTP_PORT} }
${net.rackliftProvisioning}orchestrator: { enabled: false }
`,
  );
  const profile = process.env.RACK_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.RACK_PROFILE}`] : [];
  const child = spawn('ip', ['netns', 'exec', net.applianceNs, process.execPath, ...profile, '--import', 'tsx', join(HERE, 'appliance.ts'), join(dir, 'racklift.yaml'), installMacsFile], {
    cwd: REPO,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  children.add(child);
  const waiting: ((value: Record<string, unknown>) => void)[] = [];
  lines(child, (line) => {
    if (!line.startsWith('{')) return;
    waiting.shift()?.(JSON.parse(line) as Record<string, unknown>);
  });
  const next = () => new Promise<Record<string, unknown>>((resolve) => waiting.push(resolve));
  const ready = next();
  const exited = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`the appliance exited (${code}) before it was ready`))));
  await Promise.race([ready, exited]);
  const ask = (command: string) => {
    const answer = next();
    child.stdin!.write(`${command}\n`);
    return answer;
  };
  return {
    name: 'racklift',
    reset: async () => void (await ask('reset')),
    report: async () => (await ask('report')).report as Record<string, unknown>,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        children.delete(child);
      }),
  };
}

async function startReference(net: RackNetwork, round: number): Promise<Server> {
  const dir = join(work, `reference-${round}`);
  const files = referenceConfigs({ dir, bootDir: BOOT_DIR, serverAddress: net.serverAddress, httpPort: HTTP_PORT, installMacs, addressPlan: net.dnsmasqLines });
  const dnsmasq = spawn('ip', ['netns', 'exec', net.applianceNs, 'dnsmasq', '--no-daemon', `--conf-file=${files.dnsmasqConf}`], { stdio: ['ignore', 'ignore', 'inherit'] });
  const nginx = spawn('ip', ['netns', 'exec', net.applianceNs, 'nginx', '-c', files.nginxConf, '-p', dir], { stdio: ['ignore', 'ignore', 'inherit'] });
  children.add(dnsmasq);
  children.add(nginx);
  await new Promise((r) => setTimeout(r, 1000));
  for (const child of [dnsmasq, nginx]) if (child.exitCode !== null) throw new Error(`reference server exited with ${child.exitCode}`);
  return {
    name: 'dnsmasq + nginx',
    reset: async () => undefined,
    report: async () => null,
    stop: async () => {
      for (const child of [dnsmasq, nginx]) {
        const gone = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await gone;
        children.delete(child);
      }
    },
  };
}

async function storm(net: RackNetwork, server: Server): Promise<StormResult> {
  await server.reset();
  const results: MachineResult[] = [];
  const loads: number[] = [];
  const loadTimer = setInterval(() => loads.push(Number(loadAverage().split(' ')[0])), 1000);
  const startedAt = Date.now() / 1000;
  const spacingMs = (POWER_ON_SECONDS * 1000) / MACHINES;
  const finished = Array.from(
    { length: MACHINES },
    (_, i) =>
      new Promise<void>((resolveMachine) => {
        setTimeout(() => {
          const poweredOn = Date.now() / 1000;
          // Niced: in a real rack every machine has its own CPU; here their clients share the two cores with
          // the servers (the same for racklift and the reference).
          const child = spawn('nice', ['-n', CLIENT_NICE, 'ip', 'netns', 'exec', net.machineNs(i), 'bash', join(HERE, 'machine.sh'), String(i), work], { stdio: ['ignore', 'pipe', 'ignore'] });
          children.add(child);
          let output = '';
          child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
          const timeout = setTimeout(() => child.kill('SIGKILL'), STORM_TIMEOUT_MS);
          child.on('exit', () => {
            clearTimeout(timeout);
            children.delete(child);
            const steps: Record<string, number> = {};
            let failed: string | null = output.trim() === '' ? 'killed (storm timeout)' : null;
            for (const field of output.trim().split(/\s+/).slice(1)) {
              const [key, value] = field.split('=');
              if (key === 'fail') failed = value ?? 'unknown';
              else if (key && value) steps[key] = Number(value);
            }
            results.push({ index: i, poweredOn, steps, failed });
            resolveMachine();
          });
        }, i * spacingMs);
      }),
  );
  await Promise.all(finished);
  clearInterval(loadTimer);
  const report = await server.report();
  return { server: server.name, startedAt, results, report, loadMax: Math.max(0, ...loads), loadAtEnd: loadAverage() };
}

prepareBootDir(BOOT_DIR);
const buildStarted = performance.now();
network = buildNetwork({ tag: process.pid, machines: MACHINES, racks: RACKS, topology: TOPOLOGY, work, children });
const net = network;
const layout = TOPOLOGY === 'racks' ? `${RACKS} racks behind DHCP relays` : 'one bridge';
console.log(`rack bench: ${MACHINES} machine namespaces (${layout}) in ${((performance.now() - buildStarted) / 1000).toFixed(1)} s`);
console.log(`rack bench: ${MACHINES} machines power on within ${POWER_ON_SECONDS} s, ${INSTALLS} of them install (kernel + initrd over HTTP); clients at nice ${CLIENT_NICE}; load average ${loadAverage()} on ${spawnSync('nproc', { encoding: 'utf8' }).stdout.trim()} cores`);
const storms: StormResult[] = [];
for (let round = 1; round <= ROUNDS; round++) {
  for (const name of SERVERS) {
    if (storms.length > 0) resetMachines(net, MACHINES);
    const server = name === 'racklift' ? await startRacklift(net, round) : await startReference(net, round);
    const result = await storm(net, server);
    await server.stop();
    storms.push(result);
    const done = result.results.filter((m) => !m.failed && m.steps.done);
    console.log(`rack bench: ${result.server} round ${round}: ${done.length}/${MACHINES} complete, last at +${(Math.max(0, ...done.map((m) => m.steps.done!)) - result.startedAt).toFixed(1)} s; load average ${loadAverage()}`);
  }
}
console.log(`\n${summarize(storms)}`);
process.exit(0); // relays and timers would keep the process alive; the exit handler cleans up
