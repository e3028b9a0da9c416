// One qemu virtual machine under software emulation (-accel tcg: nested KVM hangs iPXE), network-booting
// from a tap device inside the lab namespace, its serial console written to a file the test reads.
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { onCleanup } from './cleanup.ts';
import { sleep } from './sh.ts';

/** `uefi-secure`: OVMF with Secure Boot on and Microsoft's keys enrolled (Debian's ovmf package). */
export type Firmware = 'bios' | 'uefi' | 'uefi-secure';

export const OVMF_PATH = '/usr/share/ovmf/OVMF.fd';
export const OVMF_SECURE_CODE = '/usr/share/OVMF/OVMF_CODE_4M.ms.fd';
export const OVMF_SECURE_VARS = '/usr/share/OVMF/OVMF_VARS_4M.ms.fd';

export interface VmOptions {
  namespace: string;
  tap: string;
  mac: string;
  firmware: Firmware;
  workDir: string;
  /** Used in file names and the console prefix. */
  label: string;
  memoryMiB?: number;
  nic?: 'e1000' | 'virtio-net-pci';
  /** A disk image to attach (raw, or qcow2 by its extension); without one the VM has no disk. */
  disk?: string;
  accel?: 'tcg' | 'kvm';
  /** Boot order: network first (n), or disk first with network as fallback (cn). */
  bootOrder?: 'n' | 'cn';
}

export interface Vm {
  label: string;
  mac: string;
  serialPath: string;
  process: ChildProcess;
  startedAt: number;
  /** Everything the serial console printed so far (control sequences removed). */
  console(): string;
  /** The console with line breaks removed, for matching long lines the firmware wrapped. */
  unwrappedConsole(): string;
  /** Waits until the console matches; throws with the console tail on timeout or when qemu exits. */
  waitForConsole(pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray>;
  /** Types at the serial console (firmware menus, the iPXE command line). */
  type(text: string): Promise<void>;
  exited(): boolean;
  stop(): Promise<void>;
}

// iPXE and OVMF draw with ANSI escapes and carriage returns; strip them so tests match plain text.
export function plainConsole(raw: string): string {
  return raw
    .replace(/ ?\d{1,3}%\x08+ *\x08+/g, '')
    .replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '')
    .replace(/\x1b[()][A-Za-z0-9]/g, '')
    .replace(/\r+\n/g, '\n')
    .replace(/\r/g, '\n')
    .replace(/[\x00-\x08\x0b\x0c\x0e-\x1f]/g, '');
}

export function qemuArgs(options: VmOptions, serialPath: string): string[] {
  const uefi = options.firmware !== 'bios';
  const nic = options.nic ?? (uefi ? 'virtio-net-pci' : 'e1000');
  const args = ['-name', options.label, '-accel', options.accel ?? 'tcg', '-m', String(options.memoryMiB ?? (uefi ? 512 : 256))];
  args.push('-display', 'none', '-vga', 'none', '-nodefaults', '-no-user-config', '-monitor', 'none');
  // A socket serial port so tests can type at the console; its log file records all output either way.
  args.push('-chardev', `socket,id=con0,path=${serialSocketPath(serialPath)},server=on,wait=off,logfile=${serialPath}`, '-serial', 'chardev:con0');
  args.push('-netdev', `tap,id=n0,ifname=${options.tap},script=no,downscript=no`);
  if (options.firmware === 'uefi') {
    // OVMF's own PXE (romfile= drops the iPXE option ROM), which then chains ipxe.efi from the appliance.
    args.push('-bios', OVMF_PATH, '-device', `${nic},netdev=n0,mac=${options.mac},romfile=`);
  } else if (options.firmware === 'uefi-secure') {
    // Secure Boot needs SMM (q35) and the firmware as pflash: code read-only, a fresh copy of the variables
    // (Microsoft's keys enrolled, Secure Boot on) per VM, since the firmware writes to them.
    const vars = join(options.workDir, `${options.label}.vars.fd`);
    copyFileSync(OVMF_SECURE_VARS, vars);
    args.push('-machine', 'q35,smm=on', '-global', 'driver=cfi.pflash01,property=secure,value=on');
    args.push('-drive', `if=pflash,format=raw,unit=0,readonly=on,file=${OVMF_SECURE_CODE}`, '-drive', `if=pflash,format=raw,unit=1,file=${vars}`);
    args.push('-device', `${nic},netdev=n0,mac=${options.mac},romfile=`);
  } else {
    // SeaBIOS mirrors text output (its own and the iPXE ROM's) to the serial port with sercon; it reads the
    // port as a little-endian integer, so the fw_cfg item is a 2-byte file, not a string.
    args.push('-fw_cfg', `name=etc/sercon-port,file=${serconPortFile(options.workDir)}`, '-device', `${nic},netdev=n0,mac=${options.mac}`);
  }
  if (options.disk) args.push('-drive', `file=${options.disk},if=virtio,format=${options.disk.endsWith('.qcow2') ? 'qcow2' : 'raw'},cache=unsafe`);
  args.push('-boot', `order=${options.bootOrder ?? 'n'},strict=off`);
  return args;
}

const serialSocketPath = (serialPath: string) => serialPath.replace(/\.log$/, '.sock');

function serconPortFile(workDir: string): string {
  const path = join(workDir, 'sercon-port.bin');
  if (!existsSync(path)) writeFileSync(path, Buffer.from([0xf8, 0x03]));
  return path;
}

export function startVm(options: VmOptions): Vm {
  const serialPath = join(options.workDir, `${options.label}.serial.log`);
  writeFileSync(serialPath, '');
  const args = qemuArgs(options, serialPath);
  const child = spawn('ip', ['netns', 'exec', options.namespace, 'qemu-system-x86_64', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  let exitedWith: string | null = null;
  child.on('exit', (code, signal) => (exitedWith = `qemu exited (${signal ?? code})${stderr ? `: ${stderr.trim()}` : ''}`));
  const forget = onCleanup(`vm ${options.label}`, () => {
    if (exitedWith === null) child.kill('SIGKILL');
  });
  const readConsole = () => (existsSync(serialPath) ? plainConsole(readFileSync(serialPath, 'latin1')) : '');
  const vm: Vm = {
    label: options.label,
    mac: options.mac,
    serialPath,
    process: child,
    startedAt: Date.now(),
    console: readConsole,
    unwrappedConsole: () => readConsole().replace(/\n/g, ''),
    exited: () => exitedWith !== null,
    async waitForConsole(pattern, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const text = readConsole();
        // Firmware consoles wrap at 80 columns: a URL may be split over two lines, so try it unwrapped too.
        const match = text.match(pattern) ?? text.replace(/\n/g, '').match(pattern);
        if (match) return match;
        if (exitedWith !== null) throw new Error(`${options.label}: ${exitedWith} before the console showed ${pattern}\n${tail(text)}`);
        if (Date.now() > deadline) throw new Error(`${options.label}: console did not show ${pattern} within ${timeoutMs / 1000} s\n${tail(text)}`);
        await sleep(250);
      }
    },
    async type(text) {
      await typeAt(serialSocketPath(serialPath), text);
    },
    async stop() {
      if (exitedWith === null) {
        const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.kill('SIGKILL');
        await gone;
      }
      forget();
    },
  };
  return vm;
}

export function tail(text: string, lines = 40): string {
  return `--- console tail ---\n${text.split('\n').slice(-lines).join('\n')}\n--------------------`;
}

// Characters go one by one with a pause: the BIOS keyboard buffer behind SeaBIOS's serial console is small.
async function typeAt(socketPath: string, text: string): Promise<void> {
  const socket = createConnection(socketPath);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  for (const char of text) {
    socket.write(char);
    await sleep(30);
  }
  await new Promise<void>((resolve) => socket.end(resolve));
}
