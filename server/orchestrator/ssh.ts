// One SSH session to a node: the appliance key only, the host key pinned to the one the installer reported,
// commands with streamed output, SFTP for files. Errors say which of the things went wrong: the host key
// (refused, never retried blindly), the connection (the node is away: run again when it is back), the node
// stalled (connected but answering nothing: every operation has a deadline and keepalives must be answered),
// or the command. A stalled or closed session rejects everything pending at once and drops its socket, so
// neither a stage worker nor the appliance's shutdown ever waits on a peer.
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

/** The connection is up but the node answers nothing (keepalives, an operation past its deadline). */
export class NodeStalledError extends Error {
  readonly code = 'node_stalled';
}

export interface SshTarget {
  host: string;
  port: number;
  username: string;
  privateKey: string;
  /** authorized-keys style lines (`ssh-ed25519 AAAA... comment`) or `SHA256:...` fingerprints, one per line. */
  pinnedHostKeys: string;
  readyTimeoutMs?: number;
  /** No answer for this long is a stalled node (keepalives every third of it; SFTP and short commands). */
  stallMs?: number;
  /** Aborting gives up a login in progress at once (the appliance is stopping). */
  signal?: AbortSignal;
}

const DEFAULT_STALL_MS = 30_000;
/** SFTP transfers get their stall time plus this much per byte (a slow link is not a stalled node). */
const TRANSFER_MS_PER_MIB = 1000;

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
  private failure: Error | null = null;
  private readonly pending = new Set<(error: Error) => void>();
  private sftpChannel: Promise<SFTPWrapper> | null = null;

  private constructor(
    private readonly client: Client,
    readonly host: string,
    private readonly stallMs: number,
  ) {
    client.on('error', (error: Error & { level?: string }) => {
      this.abort(
        error.level === 'client-timeout'
          ? new NodeStalledError(`${host} stopped answering SSH (no keepalive answer within ${Math.round(stallMs / 1000)} s)`)
          : new ConnectionLostError(`SSH to ${host}: ${error.message}`),
      );
    });
    client.on('close', () => this.abort(new ConnectionLostError(`SSH to ${host}: connection closed`)));
  }

  static connect(target: SshTarget): Promise<SshSession> {
    const pinned = parsePinnedKeys(target.pinnedHostKeys);
    if (pinned.length === 0) return Promise.reject(new HostKeyMismatchError(target.host, 'not checked', []));
    const stallMs = target.stallMs ?? DEFAULT_STALL_MS;
    return new Promise((resolve, reject) => {
      const client = new ssh2.Client();
      let offered: string | null = null;
      let settled = false;
      const fail = (error: Error) => {
        if (settled) return;
        settled = true;
        client.destroy();
        reject(error);
      };
      const onError = (error: Error & { level?: string }) => {
        if (offered !== null) fail(new HostKeyMismatchError(target.host, offered, pinned.map((k) => k.fingerprint)));
        else if (/host key/i.test(error.message) && error.level !== 'client-socket') {
          fail(new HostKeyMismatchError(target.host, `no key of a pinned type (${error.message})`, pinned.map((k) => k.fingerprint)));
        } else fail(new ConnectionLostError(`SSH to ${target.host}:${target.port}: ${error.message}`));
      };
      const onClose = () => fail(new ConnectionLostError(`SSH to ${target.host}:${target.port}: connection closed during login`));
      const onAbort = () => fail(new ConnectionLostError(`SSH to ${target.host}:${target.port}: login given up, the appliance is stopping`));
      if (target.signal?.aborted) return onAbort();
      target.signal?.addEventListener('abort', onAbort, { once: true });
      client.on('error', onError);
      client.on('close', onClose);
      client.on('ready', () => {
        settled = true;
        target.signal?.removeEventListener('abort', onAbort);
        client.off('error', onError);
        client.off('close', onClose);
        resolve(new SshSession(client, target.host, stallMs));
      });
      client.connect({
        host: target.host,
        port: target.port,
        username: target.username,
        privateKey: target.privateKey,
        readyTimeout: target.readyTimeoutMs ?? 15_000,
        keepaliveInterval: Math.max(Math.round(stallMs / 3), 500),
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

  /** The session is unusable from now on: everything pending fails with `error`, the socket is dropped. */
  private abort(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    this.closed = true;
    for (const reject of [...this.pending]) reject(error);
    this.pending.clear();
    this.client.destroy();
  }

  /**
   * Runs one operation under a deadline. Past it the node is taken as stalled: the whole session is aborted
   * (a stalled channel never closes by itself), which rejects every other pending operation too.
   */
  private guarded<T>(what: string, deadlineMs: number, start: (resolve: (value: T) => void, reject: (error: Error) => void) => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.failure || this.closed) {
        reject(this.failure ?? new ConnectionLostError(`SSH to ${this.host}: connection closed`));
        return;
      }
      let done = false;
      const finish = () => {
        done = true;
        clearTimeout(timer);
        this.pending.delete(onAbort);
      };
      const onAbort = (error: Error) => {
        if (done) return;
        finish();
        reject(error);
      };
      const timer = setTimeout(() => {
        this.abort(new NodeStalledError(`${this.host} did not finish ${what} within ${Math.round(deadlineMs / 1000)} s: it stopped answering`));
      }, deadlineMs);
      this.pending.add(onAbort);
      start(
        (value) => {
          if (done) return;
          finish();
          resolve(value);
        },
        (error) => {
          if (done) return;
          finish();
          reject(this.failure ?? (this.closed ? new ConnectionLostError(`SSH to ${this.host}: ${error.message}`) : error));
        },
      );
    });
  }

  /**
   * Runs a command; output goes to the callbacks as it arrives. With `timeoutMs` (a stage's own limit) the
   * command is closed then and answers `signal: TIMEOUT`; without one it must finish within the stall time.
   * Rejects with ConnectionLostError on a drop and NodeStalledError when the node stops answering.
   */
  exec(command: string, output: { stdout?: (text: string) => void; stderr?: (text: string) => void } = {}, timeoutMs?: number): Promise<ExecResult> {
    const deadline = (timeoutMs ?? this.stallMs) + this.stallMs;
    return this.guarded<ExecResult>(`a command (${command.slice(0, 60)}${command.length > 60 ? '...' : ''})`, deadline, (resolve, reject) => {
      this.client.exec(command, (error, channel: ClientChannel) => {
        if (error) return reject(error);
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
    this.sftpChannel ??= this.guarded<SFTPWrapper>('opening SFTP', this.stallMs, (resolve, reject) => {
      this.client.sftp((error, sftp) => (error ? reject(error) : resolve(sftp)));
    });
    return this.sftpChannel;
  }

  private transferMs(bytes: number): number {
    return this.stallMs + Math.ceil((bytes / (1024 * 1024)) * TRANSFER_MS_PER_MIB);
  }

  async writeFile(path: string, data: string | Buffer, mode = 0o600): Promise<void> {
    const sftp = await this.sftp();
    const bytes = typeof data === 'string' ? Buffer.byteLength(data) : data.length;
    await this.guarded<void>(`the SFTP upload of ${path}`, this.transferMs(bytes), (resolve, reject) =>
      sftp.writeFile(path, data, { mode }, (error) => (error ? reject(error) : resolve())),
    );
  }

  async readFile(path: string): Promise<Buffer> {
    const sftp = await this.sftp();
    return this.guarded<Buffer>(`the SFTP download of ${path}`, this.transferMs(64 * 1024 * 1024), (resolve, reject) =>
      sftp.readFile(path, (error, data) => (error ? reject(error) : resolve(data))),
    );
  }

  /** Ends the session at once (the appliance does not wait on a peer to say goodbye). */
  close(): void {
    this.abort(new ConnectionLostError(`SSH to ${this.host}: session closed by the appliance`));
  }
}
