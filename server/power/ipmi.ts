// IPMI 2.0 over LAN (lanplus) through Debian's ipmitool. The password goes to the child in its environment
// (`-E` reads IPMI_PASSWORD), never on the command line, where `ps` would show it to every user.
import { spawn } from 'node:child_process';
import type { BmcSettings } from '../domain/types.ts';
import { abortedError, PowerError, type BootDevice, type PowerDriver, type PowerState } from './driver.ts';
import { defaultPort } from './settings.ts';

export interface IpmiOptions {
  /** The ipmitool binary; tests may point it elsewhere. */
  binary?: string;
  /** Seconds ipmitool waits for one answer (-N) and how often it retries (-R). */
  answerTimeoutSeconds?: number;
  retries?: number;
  /** Set UEFI boot type with the one-time PXE flag (from the node's firmware facts). */
  uefi?: boolean;
}

/**
 * Cipher suites tried in order: 17 (HMAC-SHA256, AES) is what current BMCs offer, 3 (HMAC-SHA1, AES) what
 * older ones and OpenIPMI's simulator do. Naming the suite also skips ipmitool's suite probe, which waits
 * 10 s on BMCs that do not answer it. The suite that worked is remembered per BMC for this process.
 */
const CIPHER_SUITES = [17, 3] as const;
const workingSuite = new Map<string, number>();

interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export class IpmiDriver implements PowerDriver {
  readonly name = 'ipmi' as const;
  private readonly target: string;

  constructor(
    private readonly bmc: BmcSettings,
    private readonly options: IpmiOptions = {},
  ) {
    if (!bmc.password) throw new PowerError('auth', 'no BMC password is set (racklift node bmc ... --password-file)');
    this.target = `${bmc.address}:${bmc.port ?? defaultPort('ipmi')}`;
  }

  async status(signal: AbortSignal): Promise<PowerState> {
    const out = await this.ipmitool(['chassis', 'power', 'status'], signal);
    const match = /Chassis Power is (on|off)/i.exec(out);
    if (!match) throw new PowerError('protocol', `ipmitool at ${this.target} printed no power state: ${oneLine(out)}`);
    return match[1]!.toLowerCase() as PowerState;
  }

  async on(signal: AbortSignal): Promise<void> {
    await this.ipmitool(['chassis', 'power', 'on'], signal);
  }

  async off(signal: AbortSignal): Promise<void> {
    await this.ipmitool(['chassis', 'power', 'off'], signal);
  }

  async cycle(signal: AbortSignal): Promise<void> {
    // The IPMI spec leaves `power cycle` of a machine that is off undefined; many BMCs refuse it.
    if ((await this.status(signal)) === 'off') return this.on(signal);
    await this.ipmitool(['chassis', 'power', 'cycle'], signal);
  }

  async setNextBoot(device: BootDevice, signal: AbortSignal): Promise<void> {
    const args = device === 'network-once' ? ['chassis', 'bootdev', 'pxe'] : ['chassis', 'bootdev', 'disk'];
    if (this.options.uefi) args.push('options=efiboot');
    await this.ipmitool(args, signal);
  }

  private async ipmitool(command: string[], signal: AbortSignal): Promise<string> {
    const remembered = workingSuite.get(this.target);
    const suites = remembered ? [remembered, ...CIPHER_SUITES.filter((suite) => suite !== remembered)] : CIPHER_SUITES;
    let last: PowerError | null = null;
    for (const suite of suites) {
      const result = await this.run(suite, command, signal);
      const failure = classify(result, this.target, command);
      if (!failure) {
        workingSuite.set(this.target, suite);
        return result.stdout;
      }
      last = failure;
      if (!/cipher suite/.test(failure.message)) break;
    }
    throw last!;
  }

  private run(suite: number, command: string[], signal: AbortSignal): Promise<RunResult> {
    const port = String(this.bmc.port ?? defaultPort('ipmi'));
    const args = ['-I', 'lanplus', '-H', this.bmc.address, '-p', port, '-U', this.bmc.username, '-E', '-C', String(suite)];
    args.push('-N', String(this.options.answerTimeoutSeconds ?? 2), '-R', String(this.options.retries ?? 2), '-v', ...command);
    return new Promise((resolve, reject) => {
      if (signal.aborted) return reject(abortedError(signal, `BMC ${this.target}`));
      const child = spawn(this.options.binary ?? 'ipmitool', args, {
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C', IPMI_PASSWORD: this.bmc.password! },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout = (stdout + chunk).slice(-16_384)));
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-16_384)));
      const onAbort = () => {
        child.kill('SIGKILL');
        reject(abortedError(signal, `BMC ${this.target}`));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      child.on('error', (error: NodeJS.ErrnoException) => {
        signal.removeEventListener('abort', onAbort);
        reject(
          new PowerError('protocol', error.code === 'ENOENT' ? 'ipmitool is not installed (Debian package ipmitool)' : `ipmitool did not start: ${error.message}`),
        );
      });
      child.on('close', (code) => {
        signal.removeEventListener('abort', onAbort);
        resolve({ code, stdout, stderr });
      });
    });
  }
}

/** Turns ipmitool's verbose stderr into a reason an operator can act on; null when the command worked. */
function classify(result: RunResult, target: string, command: string[]): PowerError | null {
  const what = `ipmitool ${command.join(' ')} at ${target}`;
  const err = result.stderr;
  // ipmitool exits 0 even when the BMC refused the boot flags; only its stderr says so.
  const refusedAnyway = /Boot Parameter 5 failed[^\n]*|Power Control[^\n]* failed[^\n]*/i.exec(err);
  if (result.code === 0 && refusedAnyway) return new PowerError('refused', `${what}: the BMC refused it: ${refusedAnyway[0].trim()}`);
  if (result.code === 0 && !/Unable to establish/i.test(err)) return null;
  if (/RAKP 2 HMAC is invalid|RAKP \d message indicates an error : (unauthorized|invalid) (password|integrity)/i.test(err)) {
    return new PowerError('auth', `BMC ${target} refused the password for user (check the BMC password)`);
  }
  if (/unauthorized name|invalid user name/i.test(err)) {
    return new PowerError('auth', `BMC ${target} does not know this user name (check the BMC user)`);
  }
  if (/insufficient privilege|requested privilege level|Unable to set privilege/i.test(err)) {
    return new PowerError('auth', `BMC ${target}: the user lacks the privilege for ${command.join(' ')} (needs operator or administrator)`);
  }
  if (/invalid authentication algorithm|invalid integrity algorithm|invalid confidentiality algorithm|no matching cipher suite|unsupported cipher suite/i.test(err)) {
    return new PowerError('refused', `BMC ${target} does not offer this cipher suite`);
  }
  if (/Get Auth Capabilities error|Get Channel Authentication Capabilities|No response|timeout|Unable to establish/i.test(err)) {
    return new PowerError('unreachable', `BMC ${target} does not answer IPMI over LAN (address, port, or IPMI over LAN disabled?)`);
  }
  const reason = lastMeaningfulLine(err) ?? `exit code ${result.code}`;
  return new PowerError('refused', `${what} failed: ${reason}`);
}

function lastMeaningfulLine(text: string): string | null {
  const lines = text.split('\n').map((line) => line.trim()).filter((line) => line && !/^Loading IANA|^Running Get|^>/.test(line));
  return lines.length ? lines[lines.length - 1]! : null;
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim().slice(0, 200);
}
