// The test's own network: one namespace holding a bridge with the appliance's address, a tap device per VM
// slot, and radvd sending IPv6 router advertisements (without one, iPXE waits ~13 s for a router). Nothing
// here touches the host's network: every device lives in the namespace and goes away with it.
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { onCleanup } from './cleanup.ts';
import { run, runQuiet, sleep } from './sh.ts';

export interface LabNetworkOptions {
  /** Namespace name; defaults to rl-e2e-<pid>. */
  name?: string;
  /** Directory for radvd's config and pid file. */
  workDir: string;
  /** The appliance's address on the link, e.g. 10.231.50.1; the subnet is its /24. */
  address?: string;
  ipv6Prefix?: string;
  taps?: number;
}

export interface LabNetwork {
  name: string;
  bridge: string;
  address: string;
  subnet: string;
  prefixLength: number;
  taps: string[];
  /** Runs a command inside the namespace and returns its stdout. */
  exec(command: string, args: string[]): string;
  destroy(): void;
}

/**
 * Namespaces of this harness (rl-e2e-<pid>) left behind by a run that was killed before its cleanup ran:
 * removed, with what still runs in them, once their process is gone. Other prefixes are never touched.
 */
export function sweepAbandonedNamespaces(): void {
  const names = run('ip', ['netns', 'list']).split('\n').map((line) => line.split(' ')[0] ?? '');
  for (const name of names) {
    const pid = /^rl-e2e-(\d+)$/.exec(name)?.[1];
    if (!pid || pid === String(process.pid) || processAlive(Number(pid))) continue;
    for (const inside of run('ip', ['netns', 'pids', name]).split('\n').filter(Boolean)) {
      try {
        process.kill(Number(inside), 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    runQuiet('ip', ['netns', 'del', name]);
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function createLabNetwork(options: LabNetworkOptions): LabNetwork {
  const name = options.name ?? `rl-e2e-${process.pid}`;
  sweepAbandonedNamespaces();
  const address = options.address ?? '10.231.50.1';
  const ipv6Prefix = options.ipv6Prefix ?? 'fd00:231:50::';
  const bridge = 'rlbr0';
  const taps = Array.from({ length: options.taps ?? 1 }, (_, i) => `rltap${i}`);
  const ip = (...args: string[]) => run('ip', ['-n', name, ...args]);
  const nsExec = (command: string, args: string[]) => run('ip', ['netns', 'exec', name, command, ...args]);

  run('ip', ['netns', 'add', name]);
  const destroyNamespace = onCleanup(`namespace ${name}`, () => {
    runQuiet('ip', ['netns', 'del', name]);
  });
  let radvd: ChildProcess | null = null;
  try {
    // No duplicate address detection: addresses are usable at once and radvd can start immediately.
    nsExec('sysctl', ['-q', '-w', 'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0', 'net.ipv6.conf.all.forwarding=1']);
    ip('link', 'set', 'lo', 'up');
    ip('link', 'add', bridge, 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0');
    // A veth pair on the bridge keeps its carrier up while no VM is attached, so the appliance's address
    // is routable from the start.
    ip('link', 'add', 'rlkeep0', 'type', 'veth', 'peer', 'name', 'rlkeep1');
    ip('link', 'set', 'rlkeep0', 'master', bridge, 'up');
    // No ARP on rlkeep1 either: it would answer for the appliance's address with its own MAC, and a VM that
    // believed it would send everything into the drop rule below.
    ip('link', 'set', 'rlkeep1', 'arp', 'off', 'up');
    // The bridge floods broadcasts to rlkeep0, so they also arrive on rlkeep1; without this rule the
    // appliance's 0.0.0.0:67 socket would see every DHCP request twice and answer it twice.
    run('ip', ['netns', 'exec', name, 'nft', '-f', '-'], 'table inet rl_e2e {\n  chain input {\n    type filter hook input priority 0; policy accept;\n    iifname "rlkeep1" drop\n  }\n}\n');
    for (const tap of taps) {
      ip('tuntap', 'add', tap, 'mode', 'tap');
      ip('link', 'set', tap, 'master', bridge, 'up');
    }
    ip('addr', 'add', `${address}/24`, 'dev', bridge);
    ip('addr', 'add', `${ipv6Prefix}1/64`, 'dev', bridge, 'nodad');
    ip('link', 'set', bridge, 'up');
    radvd = startRadvd(name, bridge, ipv6Prefix, options.workDir);
  } catch (error) {
    destroyNamespace();
    throw error;
  }
  const stopRadvd = onCleanup(`radvd in ${name}`, () => {
    radvd?.kill('SIGKILL');
  });
  const octets = address.split('.');
  return {
    name,
    bridge,
    address,
    subnet: `${octets.slice(0, 3).join('.')}.0/24`,
    prefixLength: 24,
    taps,
    exec: nsExec,
    destroy() {
      stopRadvd();
      destroyNamespace();
    },
  };
}

function startRadvd(namespace: string, bridge: string, ipv6Prefix: string, workDir: string): ChildProcess {
  const config = join(workDir, 'radvd.conf');
  // Managed and other-config flags off: iPXE takes the SLAAC address and does not start DHCPv6.
  writeFileSync(
    config,
    `interface ${bridge} {
  AdvSendAdvert on;
  MinRtrAdvInterval 3;
  MaxRtrAdvInterval 10;
  AdvManagedFlag off;
  AdvOtherConfigFlag off;
  prefix ${ipv6Prefix}/64 { AdvOnLink on; AdvAutonomous on; };
};
`,
  );
  const child = spawn('ip', ['netns', 'exec', namespace, 'radvd', '--nodaemon', '--logmethod', 'stderr', '--config', config, '--pidfile', join(workDir, 'radvd.pid')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr!.on('data', (chunk: Buffer) => (log = (log + chunk.toString()).slice(-4000)));
  child.on('exit', (code) => {
    if (code !== null && code !== 0) process.stderr.write(`e2e: radvd in ${namespace} exited ${code}: ${log}\n`);
  });
  return child;
}

