// Starts OpenIPMI's ipmi_sim on a loopback UDP port with its own config, as the BMC the tests talk to.
// Two ways to give it a "machine":
// - chassis: a chassis_control script keeps power and boot device in files (every IPMI chassis command is
//   real, and the test can read what the BMC was told);
// - startcmd: ipmi_sim runs a command as the machine's power (a `sleep`, or qemu wired back through the
//   VM serial interface); power state is whether that process runs. This BMC refuses boot-device changes.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const haveIpmiSim = spawnSync('sh', ['-c', 'command -v ipmi_sim && command -v ipmitool']).status === 0;

export interface IpmiSimOptions {
  username?: string;
  password?: string;
  /** Run this command on power on (startcmd mode); without it, chassis mode. */
  startcmd?: string;
  /** TCP port of the VM serial interface in startcmd mode (qemu's ipmi-bmc-extern connects there). */
  vmPort?: number;
  /** Run inside this network namespace (its own loopback); `port` must then be given. */
  namespace?: string;
  port?: number;
}

export interface IpmiSim {
  port: number;
  vmPort: number | null;
  username: string;
  password: string;
  dir: string;
  /** Chassis mode: what the BMC was last told (`power`: 0/1, `boot`: pxe/default/...). */
  chassis(name: 'power' | 'boot'): string | null;
  /** Chassis mode: every get/set the BMC made, oldest first. */
  chassisCalls(): string[];
  stop(): Promise<void>;
}

const CHASSIS_SCRIPT = `#!/bin/sh
# ipmi_sim chassis_control program: "get NAME..." prints NAME:VALUE, "set NAME VALUE..." stores the values.
dir=$(dirname "$0")/chassis
mkdir -p "$dir"
echo "$*" >> "$dir/calls"
op=$1; shift
case $op in
  get) for name in "$@"; do
         value=$(cat "$dir/$name" 2>/dev/null)
         if [ -z "$value" ]; then if [ "$name" = power ]; then value=0; else value=default; fi; fi
         echo "$name:$value"
       done ;;
  set) while [ $# -ge 2 ]; do echo "$2" > "$dir/$1"; shift 2; done ;;
esac
exit 0
`;

export async function freeUdpPort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const port = socket.address().port;
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

export async function freeTcpPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return typeof address === 'object' && address ? address.port : 0;
}

export async function startIpmiSim(options: IpmiSimOptions = {}): Promise<IpmiSim> {
  const username = options.username ?? 'admin';
  const password = options.password ?? 'rl-s3cret';
  const dir = mkdtempSync(join(tmpdir(), 'rl-power-ipmisim-'));
  const port = options.port ?? (await freeUdpPort());
  const vmPort = options.startcmd ? (options.vmPort ?? (await freeTcpPort())) : null;
  const inNamespace = (command: string, args: string[]): [string, string[]] =>
    options.namespace ? ['ip', ['netns', 'exec', options.namespace, command, ...args]] : [command, args];
  const machine = options.startcmd
    ? [`  serial 15 127.0.0.1 ${vmPort} codec VM`, `  startcmd "${options.startcmd.replace(/"/g, '\\"')}"`, '  startnow false', '  poweroff_wait 2', '  kill_wait 2']
    : [`  chassis_control "${join(dir, 'chassis.sh')}"`];
  const lanConf = [
    `name "rl-power-${process.pid}"`,
    'set_working_mc 0x20',
    '  startlan 1',
    `    addr 127.0.0.1 ${port}`,
    '    priv_limit admin',
    ...['callback', 'user', 'operator', 'admin'].map((level) => `    allowed_auths_${level} none md2 md5 straight`),
    '    guid a123456789abcdefa123456789abcdef',
    '  endlan',
    ...machine,
    '  user 1 true "" "unused" user 10 none md2 md5 straight',
    `  user 2 true "${username}" "${password}" admin 10 none md2 md5 straight`,
    '',
  ].join('\n');
  writeFileSync(join(dir, 'lan.conf'), lanConf);
  writeFileSync(join(dir, 'emu.cmd'), 'mc_setbmc 0x20\nmc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02 persist_sdr\nmc_enable 0x20\n');
  writeFileSync(join(dir, 'chassis.sh'), CHASSIS_SCRIPT);
  chmodSync(join(dir, 'chassis.sh'), 0o755);
  mkdirSync(join(dir, 'state'));

  const [command, args] = inNamespace('ipmi_sim', ['-c', join(dir, 'lan.conf'), '-f', join(dir, 'emu.cmd'), '-s', join(dir, 'state'), '-n']);
  const child: ChildProcess = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const stop = async () => {
    if (child.exitCode === null && child.pid) {
      try {
        process.kill(-child.pid, 'SIGTERM'); // its process group: ipmi_sim and whatever startcmd ran
      } catch {
        /* already gone */
      }
      const killer = setTimeout(() => {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          /* gone */
        }
      }, 3000);
      await exited;
      clearTimeout(killer);
    }
    rmSync(dir, { recursive: true, force: true });
  };

  await waitUntilAnswers(port, username, password, () => output, child, inNamespace);
  const readChassis = (name: string) => {
    const file = join(dir, 'chassis', name);
    return existsSync(file) ? readFileSync(file, 'utf8').trim() : null;
  };
  return {
    port,
    vmPort,
    username,
    password,
    dir,
    chassis: readChassis,
    chassisCalls: () => (readChassis('calls') ?? '').split('\n').filter(Boolean),
    stop,
  };
}

async function waitUntilAnswers(
  port: number,
  username: string,
  password: string,
  output: () => string,
  child: ChildProcess,
  inNamespace: (command: string, args: string[]) => [string, string[]],
): Promise<void> {
  const [command, args] = inNamespace('ipmitool', ['-I', 'lanplus', '-C', '3', '-H', '127.0.0.1', '-p', String(port), '-U', username, '-E', '-N', '1', '-R', '1', 'mc', 'info']);
  for (let attempt = 0; attempt < 50; attempt += 1) {
    if (child.exitCode !== null) throw new Error(`ipmi_sim exited: ${output()}`);
    const probe = spawnSync(command, args, {
      env: { PATH: process.env.PATH, IPMI_PASSWORD: password },
      encoding: 'utf8',
    });
    if (probe.status === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`ipmi_sim did not answer on 127.0.0.1:${port}: ${output()}`);
}
