// One read transfer: its own ephemeral UDP socket connected to the client (the server's transfer ID, RFC
// 1350), an optional OACK (RFC 2347), then windows of DATA blocks (RFC 7440; a window of 1 is plain
// lockstep). Retransmission uses an adaptive timeout (RFC 6298 style, Karn's rule: no samples from
// retransmitted windows). A duplicate ACK is ignored, so a window is never sent twice for one ACK (no
// Sorcerer's Apprentice); a short ACK slides the window. The first timeout resends the window, later ones
// probe with a single block; the first ACK after a timeout restarts the window after the block it names.
// Block numbers roll over from 65535 to 0.
import { createSocket, type Socket } from 'node:dgram';
import type { Logger } from '../log.ts';
import { BlockReader } from './block-reader.ts';
import type { Negotiated } from './options.ts';
import { dataHeader, decodePacket, encodeError, encodeOack, ERROR_CODE } from './packet.ts';
import type { ByteSource } from './source.ts';

export interface TransferTiming {
  /** Upper bound (and starting value) of the retransmission timeout when the client did not ask for one. */
  maxTimeoutMs: number;
  minTimeoutMs: number;
  /** The transfer is abandoned after retries x maxTimeoutMs without progress. */
  retries: number;
}

export type TransferOutcome = 'completed' | 'aborted' | 'abandoned' | 'failed';

export interface TransferStats {
  retransmits: number;
  timeouts: number;
  bytesSent: number;
  malformed: number;
}

export interface TransferRequest {
  client: { address: string; port: number };
  filename: string;
  localAddress: string;
  source: ByteSource;
  negotiated: Negotiated;
  timing: TransferTiming;
  log: Logger;
  stats: TransferStats;
  onEnd(outcome: TransferOutcome, reason: string): void;
}

const now = () => performance.now();

export class Transfer {
  private readonly reader: BlockReader;
  private readonly blksize: number;
  private readonly windowsize: number;
  /** A client silent this long (retries x the timeout ceiling) has gone: the transfer is dropped. */
  private readonly abandonAfterMs: number;
  private readonly minTimeoutMs: number;
  private readonly maxTimeoutMs: number;
  private rtoMs: number;
  private srttMs: number | null = null;
  private rttvarMs = 0;

  private oackPending: boolean;
  private acked = 0;
  private nextSend = 1;
  private highestSent = 0;
  /** The last thing that happened was a timer expiry: the next short ACK says where the client is. */
  private afterTimeout = false;
  /** ICMP port unreachable arrived; decided at the next timeout, so an ACK queued behind it is still read. */
  private clientGone = false;
  private lastProgressAt = now();
  private timeouts = 0;
  /** For the RTT sample: when the block closing the current window went out, if it was not a resend. */
  private sampleBlock = -1;
  private sampleSentAt = 0;
  private timer: NodeJS.Timeout | null = null;
  private timerDelayMs = 0;
  private readonly onTimeoutBound = () => this.onTimeout();
  private ended = false;
  readonly startedAt = now();

  private constructor(private readonly socket: Socket, private readonly request: TransferRequest) {
    const { negotiated, timing } = request;
    this.blksize = negotiated.blksize;
    this.windowsize = negotiated.windowsize;
    this.maxTimeoutMs = negotiated.timeoutSeconds !== null ? negotiated.timeoutSeconds * 1000 : timing.maxTimeoutMs;
    this.minTimeoutMs = Math.min(timing.minTimeoutMs, this.maxTimeoutMs);
    this.rtoMs = this.maxTimeoutMs;
    this.abandonAfterMs = timing.retries * this.maxTimeoutMs;
    this.oackPending = negotiated.accepted.length > 0;
    this.reader = new BlockReader(
      request.source,
      this.blksize,
      this.windowsize,
      () => this.pump(),
      (error) => this.fail(ERROR_CODE.notDefined, 'read error', `read error: ${error.message}`),
    );
  }

  /** Opens the transfer's socket, connected to the client, and sends the OACK or the first window. */
  static async start(request: TransferRequest): Promise<Transfer> {
    const socket = createSocket({ type: 'udp4' });
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.bind({ port: 0, address: request.localAddress, exclusive: true }, () => {
          socket.connect(request.client.port, request.client.address, () => {
            socket.off('error', reject);
            resolve();
          });
        });
      });
    } catch (error) {
      socket.close();
      throw error;
    }
    const transfer = new Transfer(socket, request);
    socket.on('message', (message) => transfer.receive(message));
    // ICMP port unreachable after the client went away shows up here as ECONNREFUSED, possibly ahead of the
    // client's final ACK that is still queued: the next timeout decides.
    socket.on('error', (error) => {
      if ((error as NodeJS.ErrnoException).code === 'ECONNREFUSED') transfer.clientGone = true;
      else transfer.finish('abandoned', `socket error: ${error.message}`);
    });
    transfer.begin();
    return transfer;
  }

  get localPort(): number {
    return this.socket.address().port;
  }

  /** Blocks the client has confirmed. */
  get progress(): number {
    return this.acked;
  }

  /** Ends the transfer from outside (server shutdown, the client started over). */
  cancel(reason: string): void {
    this.finish('abandoned', reason);
  }

  private begin(): void {
    if (this.oackPending) this.sendOack();
    else this.pump();
  }

  private sendOack(): void {
    this.send(encodeOack(this.request.negotiated.accepted));
    this.sampleBlock = 0;
    this.sampleSentAt = now();
    this.armTimer();
  }

  private receive(message: Buffer): void {
    if (this.ended) return;
    const packet = decodePacket(message);
    if (!packet) {
      this.request.stats.malformed++;
      return;
    }
    if (packet.op === 'ACK') this.onAck(packet.block);
    else if (packet.op === 'ERROR') this.finish('aborted', `client sent error ${packet.code}: ${packet.message}`);
    else this.request.stats.malformed++;
  }

  private onAck(block16: number): void {
    if (this.oackPending) {
      if (block16 !== 0) return;
      // The OACK/ACK 0 exchange gives the first RTT sample, unless the OACK had to be resent.
      if (this.sampleBlock === 0) this.sampleRtt(now() - this.sampleSentAt);
      this.oackPending = false;
      this.progressed();
      this.pump();
      return;
    }
    // The absolute block this ACK names: the latest one sent with these low 16 bits.
    const block = this.highestSent - ((this.highestSent - block16) & 0xffff);
    if (block <= this.acked) return; // duplicate or stale: never resend for it
    if (block === this.sampleBlock) this.sampleRtt(now() - this.sampleSentAt);
    this.acked = block;
    this.reader.release(block);
    if (block >= this.reader.lastBlock) {
      this.finish('completed', 'done');
      return;
    }
    if (this.nextSend <= block) {
      this.nextSend = block + 1; // never resend what is acknowledged
    } else if (this.afterTimeout) {
      // The first ACK after a retransmission says where the client really is: go back to the block after it.
      this.nextSend = block + 1;
    }
    // Otherwise an ACK short of what was sent only slides the window. Clients count windows from their own
    // ACKs (atftp keeps its alignment after an extra ACK), so treating every short ACK as a loss would
    // resend each window twice; a real gap is repaired by the timeout, which resends from here.
    this.afterTimeout = false;
    this.progressed();
    this.pump();
  }

  /** Sends what the window allows and the read-ahead holds; resumes from onReady when a chunk lands. */
  private pump(): void {
    if (this.ended || this.oackPending) return;
    const windowEnd = Math.min(this.acked + this.windowsize, this.reader.lastBlock);
    let sentAny = false;
    while (this.nextSend <= windowEnd) {
      const payload = this.reader.block(this.nextSend);
      if (!payload) break;
      const block = this.nextSend++;
      const resend = block <= this.highestSent;
      if (resend) this.request.stats.retransmits++;
      this.highestSent = Math.max(this.highestSent, block);
      this.socket.send([dataHeader(block), payload]);
      this.request.stats.bytesSent += payload.length;
      if (block === windowEnd) {
        this.sampleBlock = resend ? -1 : block;
        this.sampleSentAt = now();
      }
      sentAny = true;
    }
    if (sentAny || !this.timer) this.armTimer();
  }

  private onTimeout(): void {
    this.timer = null;
    if (this.ended) return;
    this.timeouts++;
    this.request.stats.timeouts++;
    const silentMs = now() - this.lastProgressAt;
    if (silentMs >= this.abandonAfterMs) {
      this.finish('abandoned', `no answer for ${Math.round(silentMs)} ms (${this.timeouts} timeouts)`);
      return;
    }
    this.rtoMs = Math.min(this.rtoMs * 2, this.maxTimeoutMs);
    this.sampleBlock = -1;
    if (this.oackPending) {
      this.request.stats.retransmits++;
      this.sendOack();
      this.sampleBlock = -1;
      return;
    }
    this.afterTimeout = true;
    if (this.clientGone) {
      this.finish('abandoned', 'the client port is closed (ICMP port unreachable)');
      return;
    }
    if (this.timeouts === 1) {
      // The tail of a window may be lost, and clients stay silent about a gap: resend the window.
      this.nextSend = this.acked + 1;
      this.pump();
      return;
    }
    // Still silent (a stalled or descheduled client): probe with one block instead of flooding it. A client
    // that has the block answers with the ACK of where it is, and the window restarts from there.
    const probe = this.reader.block(this.acked + 1);
    if (probe) {
      this.request.stats.retransmits++;
      this.socket.send([dataHeader(this.acked + 1), probe]);
      if (this.nextSend < this.acked + 2) this.nextSend = this.acked + 2;
    }
    this.armTimer();
  }

  /** Progress: the retry count starts over; the timer is re-armed by the next send. */
  private progressed(): void {
    this.timeouts = 0;
    this.lastProgressAt = now();
  }

  private sampleRtt(sampleMs: number): void {
    if (this.srttMs === null) {
      this.srttMs = sampleMs;
      this.rttvarMs = sampleMs / 2;
    } else {
      this.rttvarMs = 0.75 * this.rttvarMs + 0.25 * Math.abs(this.srttMs - sampleMs);
      this.srttMs = 0.875 * this.srttMs + 0.125 * sampleMs;
    }
    this.rtoMs = Math.max(this.minTimeoutMs, Math.min(this.maxTimeoutMs, this.srttMs + Math.max(4 * this.rttvarMs, 5)));
  }

  private armTimer(): void {
    // Lockstep re-arms once per block: refresh the timer in place unless the timeout changed.
    if (this.timer && this.timerDelayMs === this.rtoMs) {
      this.timer.refresh();
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.timerDelayMs = this.rtoMs;
    this.timer = setTimeout(this.onTimeoutBound, this.rtoMs);
  }

  private send(packet: Buffer): void {
    this.socket.send(packet);
  }

  private fail(code: number, clientMessage: string, reason: string): void {
    if (this.ended) return;
    this.send(encodeError(code, clientMessage));
    this.finish('failed', reason);
  }

  private finish(outcome: TransferOutcome, reason: string): void {
    if (this.ended) return;
    this.ended = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    // Let queued sends (the error packet) leave before the socket closes.
    setImmediate(() => {
      try {
        this.socket.close();
      } catch {
        /* already closed */
      }
    });
    void this.reader.close();
    this.request.onEnd(outcome, reason);
  }
}
