// The TFTP service: one socket on the well-known port takes requests; every read gets its own Transfer with
// its own socket. Read-only: write requests are refused. Nothing a client sends can end the process:
// undecodable packets are counted and dropped, a client's ERROR ends only its own transfer.
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import type { AppContext, RunningService } from '../context.ts';
import { GenerationFailed, TftpFiles } from './files.ts';
import { blksizeLimitFor } from './mtu.ts';
import { negotiate } from './options.ts';
import { decodePacket, encodeError, ERROR_CODE, type RequestPacket } from './packet.ts';
import { PathRefused } from '../boot-files/paths.ts';
import { Transfer, type TransferOutcome, type TransferStats } from './transfer.ts';
import { enlargeReceiveBuffer } from '../udp-buffer.ts';

export interface TftpCounters extends TransferStats {
  requests: number;
  transfersStarted: number;
  transfersCompleted: number;
  /** The client sent an ERROR (UEFI firmware does this after learning tsize). */
  transfersAborted: number;
  /** The client stopped answering, or went away. */
  transfersAbandoned: number;
  transfersFailed: number;
  /** Requests answered with an ERROR packet (not found, write refused, ...). */
  errorsSent: number;
  writesRefused: number;
  duplicateRequests: number;
  /** Undecodable packets and packets that make no sense where they arrived. */
  malformed: number;
  retransmits: number;
  /** Retransmission timer expiries (each resends the window). */
  timeouts: number;
  bytesSent: number;
}

export interface TftpService extends RunningService {
  port: number;
  counters: TftpCounters;
  /** Boot files held in memory (shared with HTTP), and how often a lookup found its file there. */
  cacheStats(): { files: number; bytes: number; hits: number; misses: number };
  activeTransfers(): number;
}

interface ActiveRequest {
  raw: Buffer;
  transfer: Transfer | null;
  cancelled: boolean;
}

function newCounters(): TftpCounters {
  return {
    requests: 0,
    transfersStarted: 0,
    transfersCompleted: 0,
    transfersAborted: 0,
    transfersAbandoned: 0,
    transfersFailed: 0,
    errorsSent: 0,
    writesRefused: 0,
    duplicateRequests: 0,
    malformed: 0,
    retransmits: 0,
    timeouts: 0,
    bytesSent: 0,
  };
}

export async function startTftp(ctx: AppContext): Promise<RunningService> {
  return startTftpService(ctx);
}

export async function startTftpService(ctx: AppContext): Promise<TftpService> {
  const { config } = ctx;
  const log = ctx.log.child({ service: 'tftp' });
  const files = new TftpFiles(ctx);
  const counters = newCounters();
  const active = new Map<string, ActiveRequest>();
  let closing = false;
  const socket: Socket = createSocket({ type: 'udp4' });

  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind({ port: config.tftp.port, address: config.tftp.host, exclusive: true }, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  socket.on('error', (error) => log.error({ err: error }, 'tftp: socket error'));
  // A rack asking at once must not overflow the listening socket (the default ~208 KiB dropped 244 of 500).
  const receiveBufferBytes = enlargeReceiveBuffer(socket);
  log.info({ receiveBufferBytes }, 'tftp: receive buffer');

  const reply = (rinfo: RemoteInfo, code: number, message: string) => {
    counters.errorsSent++;
    socket.send(encodeError(code, message), rinfo.port, rinfo.address);
  };

  const serveRead = async (request: RequestPacket, raw: Buffer, rinfo: RemoteInfo) => {
    const client = `${rinfo.address}:${rinfo.port}`;
    const previous = active.get(client);
    if (previous && previous.raw.equals(raw) && (previous.transfer === null || previous.transfer.progress === 0)) {
      // The client repeated its request before our first answer arrived; that answer is being retransmitted.
      counters.duplicateRequests++;
      return;
    }
    if (previous) {
      previous.cancelled = true;
      previous.transfer?.cancel('the client sent a new request from the same port');
    }
    const entry: ActiveRequest = { raw, transfer: null, cancelled: false };
    active.set(client, entry);
    const forget = () => {
      if (active.get(client) === entry) active.delete(client);
    };

    let source;
    try {
      source = await files.open(request.filename, request.mode === 'netascii');
    } catch (error) {
      forget();
      if (error instanceof PathRefused) {
        log.debug({ client, file: request.filename, reason: error.reason }, 'tftp: file not found');
        reply(rinfo, ERROR_CODE.fileNotFound, 'file not found');
      } else if (error instanceof GenerationFailed) {
        log.error({ client, file: request.filename, reason: error.message }, 'tftp: could not generate the file');
        reply(rinfo, ERROR_CODE.notDefined, 'could not generate the file');
      } else if ((error as NodeJS.ErrnoException).code === 'EACCES') {
        log.warn({ client, file: request.filename, reason: (error as Error).message }, 'tftp: file not readable');
        reply(rinfo, ERROR_CODE.accessViolation, 'access violation');
      } else {
        log.error({ err: error, client, file: request.filename }, 'tftp: could not open the file');
        reply(rinfo, ERROR_CODE.notDefined, 'could not read the file');
      }
      return;
    }
    if (entry.cancelled || closing) {
      forget();
      await source.close();
      return;
    }

    const mtuLimit = blksizeLimitFor(rinfo.address);
    const negotiated = negotiate(request.options, source.size, {
      maxBlksize: Math.min(config.tftp.maxBlksize, mtuLimit ?? Infinity),
      maxWindowsize: config.tftp.maxWindowsize,
      maxWindowBytes: config.tftp.maxWindowBytes,
    });
    const fields = { client, file: request.filename, bytes: source.size, blksize: negotiated.blksize, windowsize: negotiated.windowsize };
    counters.transfersStarted++;
    try {
      entry.transfer = await Transfer.start({
        client: { address: rinfo.address, port: rinfo.port },
        filename: request.filename,
        localAddress: config.tftp.host,
        source,
        negotiated,
        timing: {
          maxTimeoutMs: config.tftp.timeoutSeconds * 1000,
          minTimeoutMs: config.tftp.minTimeoutMs,
          retries: config.tftp.retries,
        },
        log,
        stats: counters,
        onEnd: (outcome, reason) => {
          forget();
          countOutcome(outcome);
          const ms = Math.round(performance.now() - (entry.transfer?.startedAt ?? performance.now()));
          if (outcome === 'completed') log.info({ ...fields, ms }, 'tftp: sent');
          else if (outcome === 'failed') log.warn({ ...fields, ms, reason }, 'tftp: transfer failed');
          else log.debug({ ...fields, ms, reason }, `tftp: transfer ${outcome}`);
        },
      });
    } catch (error) {
      forget();
      counters.transfersFailed++;
      await source.close();
      log.error({ err: error, ...fields }, 'tftp: could not open a transfer socket');
      reply(rinfo, ERROR_CODE.notDefined, 'server busy');
      return;
    }
    if (entry.cancelled || closing) entry.transfer.cancel('cancelled while starting');
  };

  const countOutcome = (outcome: TransferOutcome) => {
    if (outcome === 'completed') counters.transfersCompleted++;
    else if (outcome === 'aborted') counters.transfersAborted++;
    else if (outcome === 'abandoned') counters.transfersAbandoned++;
    else counters.transfersFailed++;
  };

  socket.on('message', (raw, rinfo) => {
    const packet = decodePacket(raw);
    if (!packet) {
      counters.malformed++;
      return;
    }
    if (packet.op === 'WRQ') {
      counters.requests++;
      counters.writesRefused++;
      log.debug({ client: `${rinfo.address}:${rinfo.port}`, file: packet.filename }, 'tftp: write refused');
      reply(rinfo, ERROR_CODE.accessViolation, 'this server is read-only');
      return;
    }
    if (packet.op !== 'RRQ') {
      // DATA/ACK/ERROR/OACK belong on a transfer's own port, not here.
      counters.malformed++;
      return;
    }
    counters.requests++;
    ctx.services.contacts.noteAddress(rinfo.address, `tftp ${packet.filename.slice(0, 80)}`);
    if (packet.mode === 'mail') {
      reply(rinfo, ERROR_CODE.illegalOperation, 'mail mode is not supported');
      return;
    }
    serveRead(packet, raw, rinfo).catch((error: unknown) => log.error({ err: error }, 'tftp: request failed'));
  });

  const address = socket.address();
  ctx.services.metrics.attach('tftp', () => counters, () => active.size);
  return {
    name: 'tftp',
    address: `${address.address}:${address.port}`,
    port: address.port,
    counters,
    activeTransfers: () => active.size,
    cacheStats: () => {
      const cache = ctx.services.bootFileCache;
      return { ...cache.size, hits: cache.hits, misses: cache.misses };
    },
    async close() {
      closing = true;
      ctx.services.metrics.detach('tftp');
      for (const entry of active.values()) {
        entry.cancelled = true;
        entry.transfer?.cancel('server shutting down');
      }
      await new Promise<void>((resolve) => socket.close(() => resolve()));
    },
  };
}
