// The real-proof lab: Debian 12 containers (systemd-nspawn --boot) on a bridge of their own, each in a
// network namespace this process creates, with NAT to the host's uplink only for the lab's subnet (apt needs
// Debian's mirror). Everything created here is named with the process id and removed by `teardown()`.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync, appendFileSync, openSync } from 'node:fs';
import { join } from 'node:path';

export const CACHE_DIR = process.env.RACKLIFT_TEST_CACHE ?? '/var/cache/racklift-test';
export const SUBNET_PREFIX = '10.231.88';
const HERE = new URL('.', import.meta.url).pathname;

export interface LabMachine {
  name: string;
  address: string;
  netns: string;
  root: string;
  hostKey: string;
  process: ChildProcess | null;
  consoleLog: string;
}

function run(cmd: string, args: string[], input?: string): string {
  return execFileSync(cmd, args, { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'] });
}

function tryRun(cmd: string, args: string[]): void {
  try {
    run(cmd, args);
  } catch {
    /* cleanup of something that may already be gone */
  }
}

export function missingPrerequisites(): string[] {
  const missing: string[] = [];
  if (process.getuid?.() !== 0) missing.push('root');
  for (const tool of ['debootstrap', 'systemd-nspawn', 'nft', 'ip', 'ssh-keygen']) {
    try {
      run('sh', ['-c', `command -v ${tool}`]);
    } catch {
      missing.push(tool);
    }
  }
  return missing;
}

export class Lab {
  readonly id = String(process.pid);
  readonly bridge = `rlbbr${this.id}`.slice(0, 15);
  readonly nftTable = `rl_boot_${this.id}`;
  readonly workDir: string;
  readonly machines: LabMachine[] = [];
  private forwardingWas: string | null = null;
  private netUp = false;

  constructor(workDir = join(CACHE_DIR, `run-${process.pid}`)) {
    this.workDir = workDir;
  }

  /** Debootstraps the base tree once (cached), then the bridge, NAT and forwarding. */
  setup(): void {
    mkdirSync(this.workDir, { recursive: true });
    run('sh', [join(HERE, 'lib/make-rootfs.sh'), CACHE_DIR]);
    run('ip', ['link', 'add', this.bridge, 'type', 'bridge']);
    this.netUp = true;
    run('ip', ['addr', 'add', `${SUBNET_PREFIX}.1/24`, 'dev', this.bridge]);
    run('ip', ['link', 'set', this.bridge, 'up']);
    this.forwardingWas = readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim();
    writeFileSync('/proc/sys/net/ipv4/ip_forward', '1');
    // Masquerade only the lab's subnet, and only when it leaves through another interface than the bridge.
    run('nft', ['-f', '-'], [
      `table ip ${this.nftTable} {`,
      `  chain postrouting { type nat hook postrouting priority srcnat; policy accept;`,
      `    ip saddr ${SUBNET_PREFIX}.0/24 oifname != "${this.bridge}" masquerade; }`,
      `  chain forward { type filter hook forward priority filter; policy accept;`,
      `    iifname "${this.bridge}" ip saddr != ${SUBNET_PREFIX}.0/24 drop; }`,
      `}`,
    ].join('\n'));
  }

  /** A copy of the cached tree with its own host keys and the appliance's key, booted in its own namespace. */
  async boot(name: string, hostNumber: number, authorizedKey: string): Promise<LabMachine> {
    const address = `${SUBNET_PREFIX}.${hostNumber}`;
    const netns = `rl-boot-${this.id}-${name}`;
    const root = join(this.workDir, name);
    rmSync(root, { recursive: true, force: true });
    run('cp', ['-a', '--reflink=auto', join(CACHE_DIR, 'bookworm-base'), root]);
    rmSync(join(root, '.complete'), { force: true });
    for (const file of run('sh', ['-c', `ls ${root}/etc/ssh/ | grep '^ssh_host_' || true`]).split('\n').filter(Boolean)) rmSync(join(root, 'etc/ssh', file));
    run('ssh-keygen', ['-q', '-A', '-f', root]);
    const hostKey = readFileSync(join(root, 'etc/ssh/ssh_host_ed25519_key.pub'), 'utf8').trim();
    mkdirSync(join(root, 'root/.ssh'), { recursive: true, mode: 0o700 });
    writeFileSync(join(root, 'root/.ssh/authorized_keys'), `${authorizedKey.trim()}\n`, { mode: 0o600 });
    writeFileSync(join(root, 'etc/hostname'), `${name}\n`);
    writeFileSync(join(root, 'etc/hosts'), `127.0.0.1\tlocalhost\n`);

    const veth = `rlb${this.id}${name}`.slice(0, 15);
    run('ip', ['netns', 'add', netns]);
    const machine: LabMachine = { name, address, netns, root, hostKey, process: null, consoleLog: join(this.workDir, `${name}.console.log`) };
    this.machines.push(machine);
    run('ip', ['link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', netns]);
    run('ip', ['link', 'set', veth, 'master', this.bridge, 'up']);
    run('ip', ['-n', netns, 'addr', 'add', `${address}/24`, 'dev', 'eth0']);
    run('ip', ['-n', netns, 'link', 'set', 'eth0', 'up']);
    run('ip', ['-n', netns, 'link', 'set', 'lo', 'up']);
    run('ip', ['-n', netns, 'route', 'add', 'default', 'via', `${SUBNET_PREFIX}.1`]);

    const log = openSync(machine.consoleLog, 'a');
    // Downloaded packages are kept across runs: the second run installs without fetching.
    const archives = join(CACHE_DIR, 'apt-archives');
    mkdirSync(join(archives, 'partial'), { recursive: true });
    machine.process = spawn(
      'systemd-nspawn',
      ['-D', root, '--boot', '--register=no', '--keep-unit', '-q', '--console=passive', `--network-namespace-path=/run/netns/${netns}`, '--resolv-conf=copy-host', `--machine=${name}`, `--hostname=${name}`, `--bind=${archives}:/var/cache/apt/archives`],
      { stdio: ['ignore', log, log] },
    );
    await this.waitForSsh(machine);
    return machine;
  }

  private async waitForSsh(machine: LabMachine, seconds = 90): Promise<void> {
    const deadline = Date.now() + seconds * 1000;
    while (Date.now() < deadline) {
      try {
        run('ip', ['netns', 'exec', machine.netns, 'python3', '-c', `import socket; socket.create_connection(('${machine.address}', 22), 1).close()`]);
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
    throw new Error(`${machine.name}: sshd did not answer on ${machine.address}:22 within ${seconds} s (console: ${machine.consoleLog})`);
  }

  /** Runs a check inside a machine as root (nsenter into the container's namespaces), admin credentials loaded. */
  exec(machine: LabMachine, command: string): string {
    const leader = this.leaderPid(machine);
    return run('nsenter', ['-t', String(leader), '-a', '--', '/bin/sh', '-c', `. /root/admin-openrc 2>/dev/null; ${command}`]);
  }

  private leaderPid(machine: LabMachine): number {
    const nspawn = machine.process?.pid;
    if (!nspawn) throw new Error(`${machine.name} is not running`);
    const child = run('sh', ['-c', `cat /proc/${nspawn}/task/*/children`]).trim().split(/\s+/)[0];
    if (!child) throw new Error(`${machine.name}: no init process under systemd-nspawn ${nspawn}`);
    return Number(child);
  }

  note(text: string): void {
    appendFileSync(join(this.workDir, 'lab.log'), `${new Date().toISOString()} ${text}\n`);
  }

  async teardown(keepTrees = false): Promise<void> {
    for (const machine of this.machines) {
      const child = machine.process;
      if (child && child.exitCode === null) {
        child.kill('SIGTERM');
        const exited = await Promise.race([new Promise((r) => child.once('exit', () => r(true))), new Promise((r) => setTimeout(() => r(false), 30_000))]);
        if (!exited) child.kill('SIGKILL');
      }
      tryRun('ip', ['netns', 'del', machine.netns]);
      if (!keepTrees) rmSync(machine.root, { recursive: true, force: true });
    }
    if (this.netUp) {
      tryRun('nft', ['delete', 'table', 'ip', this.nftTable]);
      tryRun('ip', ['link', 'del', this.bridge]);
      this.netUp = false;
    }
    if (!keepTrees) rmSync(this.workDir, { recursive: true, force: true });
    if (this.forwardingWas !== null && existsSync('/proc/sys/net/ipv4/ip_forward')) {
      writeFileSync('/proc/sys/net/ipv4/ip_forward', this.forwardingWas);
      this.forwardingWas = null;
    }
  }
}
