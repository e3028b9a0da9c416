// One SSH session to a node: the appliance key only, the host key pinned to the one the installer reported,
// commands with streamed output, SFTP for files. Errors say which of the three things went wrong: the host key
// (refused, never retried blindly), the connection (the node is away: run again when it is back), or the command.
import { createHash } from 'node:crypto';
import ssh2 from 'ssh2';
import type { Client, ClientChannel, SFTPWrapper } from 'ssh2';

export class HostKeyMismatchError extends Error {
  readonly code = 'host_key_mismatch';
  constructor(
    readonly host: string,
    readonly offered: string,
    readonly expected: string[],
  ) {
    super(`the SSH host key of ${host} (${offered}) does not match the key recorded at install (${expected.join(', ') || 'none recorded'})`);
  }
}

/** The connection failed or dropped: the node is unreachable for now. */
export class ConnectionLostError extends Error {
  readonly code = 'connection_lost';
}

export interface SshTarget {
  host: string;
  port: number;
  username: string;
  privateKey: string;
  /** authorized-keys style lines (`ssh-ed25519 AAAA... comment`) or `SHA256:...` fingerprints, one per line. */
  pinnedHostKeys: string;
  readyTimeoutMs?: number;
}

export interface ExecResult {
  code: number | null;
  signal: string | null;
}

interface PinnedKey {
  blob: Buffer | null;
  fingerprint: string;
  type: string | null;
}

export function fingerprintOf(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

export function parsePinnedKeys(text: string): PinnedKey[] {
  const keys: PinnedKey[] = [];
  for (const line of text.split('\n').map((l) => l.trim()).filter(Boolean)) {
    if (line.startsWith('SHA256:')) {
      keys.push({ blob: null, fingerprint: line.split(/\s+/)[0]!, type: null });
      continue;
    }
    const [type, base64] = line.split(/\s+/);
    if (!type || !base64) continue;
    const blob = Buffer.from(base64, 'base64');
    if (blob.length > 0) keys.push({ blob, fingerprint: fingerprintOf(blob), type });
  }
  return keys;
}

/** Host key algorithms to offer, so the server presents a key of a type we pinned. */
function hostKeyAlgorithms(keys: PinnedKey[]): string[] | undefined {
  if (keys.some((key) => key.type === null)) return undefined;
  const algorithms = new Set<string>();
  for (const key of keys) {
    if (key.type === 'ssh-rsa') ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'].forEach((a) => algorithms.add(a));
    else if (key.type) algorithms.add(key.type);
  }
  return algorithms.size > 0 ? [...algorithms] : undefined;
}

export class SshSession {
  private closed = false;
  private sftpChannel: Promise<SFTPWrapper> | null = null;

  private constructor(
    private readonly client: Client,
    readonly host: string,
  ) {
    client.on('close', () => {
      this.closed = true;
    });
  }

  static connect(target: SshTarget): Promise<SshSession> {
    const pinned = parsePinnedKeys(target.pinnedHostKeys);
    if (pinned.length === 0) return Promise.reject(new HostKeyMismatchError(target.host, 'not checked', []));
    return new Promise((resolve, reject) => {
      const client = new ssh2.Client();
      let offered: string | null = null;
      let settled = false;
      const fail = (error: Error) => {
        if (settled) return;
        settled = true;
        client.end();
        reject(error);
      };
      client.on('ready', () => {
        settled = true;
        resolve(new SshSession(client, target.host));
      });
      client.on('error', (error: Error & { level?: string }) => {
        if (offered !== null) fail(new HostKeyMismatchError(target.host, offered, pinned.map((k) => k.fingerprint)));
        else if (/host key/i.test(error.message) && error.level !== 'client-socket') {
          fail(new HostKeyMismatchError(target.host, `no key of a pinned type (${error.message})`, pinned.map((k) => k.fingerprint)));
        } else fail(new ConnectionLostError(`SSH to ${target.host}:${target.port}: ${error.message}`));
      });
      client.on('close', () => fail(new ConnectionLostError(`SSH to ${target.host}:${target.port}: connection closed during login`)));
      client.connect({
        host: target.host,
        port: target.port,
        username: target.username,
        privateKey: target.privateKey,
        readyTimeout: target.readyTimeoutMs ?? 15_000,
        keepaliveInterval: 5_000,
        keepaliveCountMax: 3,
        algorithms: { serverHostKey: hostKeyAlgorithms(pinned) as never },
        hostVerifier: (key: Buffer) => {
          const fingerprint = fingerprintOf(key);
          const ok = pinned.some((pin) => (pin.blob ? pin.blob.equals(key) : pin.fingerprint === fingerprint));
          if (!ok) offered = fingerprint;
          return ok;
        },
      });
    });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Runs a command; output goes to the callbacks as it arrives. Rejects with ConnectionLostError on a drop. */
  exec(command: string, output: { stdout?: (text: string) => void; stderr?: (text: string) => void } = {}, timeoutMs?: number): Promise<ExecResult> {
    return new Promise((resolve, reject) => {
      if (this.closed) return reject(new ConnectionLostError(`SSH to ${this.host}: connection closed`));
      this.client.exec(command, (error, channel: ClientChannel) => {
        if (error) return reject(this.closed ? new ConnectionLostError(`SSH to ${this.host}: ${error.message}`) : error);
        let exit: ExecResult | null = null;
        let timedOut = false;
        const timer = timeoutMs
          ? setTimeout(() => {
              timedOut = true;
              channel.close();
            }, timeoutMs)
          : null;
        channel.setEncoding('utf8');
        channel.stderr.setEncoding('utf8');
        channel.on('data', (text: string) => output.stdout?.(text));
        channel.stderr.on('data', (text: string) => output.stderr?.(text));
        channel.on('exit', (code: number | null, signal?: string) => {
          exit = { code: code ?? null, signal: signal ?? null };
        });
        channel.on('close', () => {
          if (timer) clearTimeout(timer);
          // Give the client a tick to notice a dropped socket before deciding between "exited" and "lost".
          setImmediate(() => {
            if (timedOut) resolve({ code: null, signal: 'TIMEOUT' });
            else if (exit) resolve(exit);
            else reject(new ConnectionLostError(`SSH to ${this.host}: connection lost while running a command`));
          });
        });
      });
    });
  }

  private sftp(): Promise<SFTPWrapper> {
    this.sftpChannel ??= new Promise((resolve, reject) => {
      this.client.sftp((error, sftp) => (error ? reject(this.lost(error)) : resolve(sftp)));
    });
    return this.sftpChannel;
  }

  async writeFile(path: string, data: string | Buffer, mode = 0o600): Promise<void> {
    const sftp = await this.sftp();
    await new Promise<void>((resolve, reject) => sftp.writeFile(path, data, { mode }, (error) => (error ? reject(this.lost(error)) : resolve())));
  }

  async readFile(path: string): Promise<Buffer> {
    const sftp = await this.sftp();
    return new Promise((resolve, reject) => sftp.readFile(path, (error, data) => (error ? reject(this.lost(error)) : resolve(data))));
  }

  close(): void {
    this.closed = true;
    this.client.end();
  }

  private lost(error: Error): Error {
    return this.closed ? new ConnectionLostError(`SSH to ${this.host}: ${error.message}`) : error;
  }
}
