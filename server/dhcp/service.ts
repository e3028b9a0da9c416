// The DHCP service: binds port 67 (and 4011 in proxy mode), hands each datagram to the engine, sends what it
// returns. What to boot comes only from the boot plan (ctx.services.boot.planFor).
import { createSocket, type Socket } from 'node:dgram';
import type { AppContext, RunningService } from '../context.ts';
import type { Logger } from '../log.ts';
import { BootRecorder } from './boot-records.ts';
import { DhcpEngine, type DhcpCounters, type Door, type EngineResult } from './engine.ts';
import type { HandlerDeps } from './handler.ts';
import { LeaseBook } from './lease-book.ts';
import { OfferLimiter } from './offer-limit.ts';
import { checkInterface, ensureBroadcastRoute } from './network.ts';
import { userClassForPlan } from './request.ts';
import { formatIpv4 } from '../domain/ipv4.ts';
import { addressText } from './reply.ts';
import { dhcpSettings } from './settings.ts';
import { enlargeReceiveBuffer } from '../udp-buffer.ts';

export interface DhcpService extends RunningService {
  /** Datagrams received, dropped (by reason) and answered since start. */
  counters(): DhcpCounters;
  /** Writes pending lease and boot records now (tests, shutdown). */
  flush(): void;
}

const POOL_FULL_LOG_INTERVAL_MS = 10_000;

function bindSocket(host: string, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    // No SO_REUSEADDR: a second DHCP server on this host must make start-up fail, not share the broadcasts.
    const socket = createSocket({ type: 'udp4', reuseAddr: false });
    socket.once('error', reject);
    socket.bind({ port, address: host }, () => {
      socket.off('error', reject);
      socket.setBroadcast(true);
      enlargeReceiveBuffer(socket);
      resolve(socket);
    });
  });
}

export interface DhcpParts {
  engine: DhcpEngine;
  leases: LeaseBook;
  recorder: BootRecorder;
}

/** The engine with its lease book and boot recorder, wired to the app's store and boot plan (no sockets). */
export function buildDhcpEngine(ctx: AppContext, log: Logger, options: { now?: () => number; flushIntervalMs?: number } = {}): DhcpParts {
  const settings = dhcpSettings(ctx.config);
  const gateways = [settings.primary, ...settings.relayed].flatMap((served) => (served.gateway === null ? [] : [served.gateway]));
  let flushErrorLoggedAt = 0;
  const leases = new LeaseBook(ctx.store.leases, {
    now: options.now,
    excluded: [settings.serverAddress, ...gateways],
    flushIntervalMs: options.flushIntervalMs ?? 250,
    onFlushError: (error) => {
      const now = Date.now();
      if (now - flushErrorLoggedAt < 10_000) return;
      flushErrorLoggedAt = now;
      log.error({ err: error }, 'could not write DHCP leases; they stay in memory and are retried');
    },
  });
  const recorder = new BootRecorder(ctx.services.nodes, ctx.store.db, log, ctx.services.bootEvents, { now: options.now });
  const deps: HandlerDeps = {
    settings,
    leases,
    offerLimit: new OfferLimiter({ perSecond: settings.newOffersPerSecond, burst: settings.newOfferBurst }, options.now),
    log,
    recordBoot: (request, plan) => recorder.record(request, plan),
    planFor: (request) =>
      ctx.services.boot.planFor({
        mac: request.mac,
        archCode: request.archCode ?? undefined,
        vendorClass: request.vendorClass ?? undefined,
        userClass: userClassForPlan(request),
        relayAddress: request.message.giaddr !== 0 ? addressText(request.message.giaddr) : undefined,
      }),
  };
  return { engine: new DhcpEngine(deps, options.now), leases, recorder };
}

export async function startDhcp(ctx: AppContext): Promise<DhcpService> {
  const { config } = ctx;
  const log = ctx.log.child({ service: 'dhcp' });
  const settings = dhcpSettings(config);
  const iface = config.provisioning.interface;
  if (iface) {
    checkInterface(iface, settings.serverAddressText, log);
    if (config.dhcp.manageBroadcastRoute) await ensureBroadcastRoute(iface, log);
  }
  if (config.dhcp.host !== '0.0.0.0') {
    log.warn({ host: config.dhcp.host }, `DHCP bound to ${config.dhcp.host}: broadcasts from clients without an address reach only a socket on 0.0.0.0, so only relayed and unicast requests will be answered`);
  }
  const { engine, leases, recorder } = buildDhcpEngine(ctx, log);
  // Installer callbacks are accepted from addresses bound here, including those not yet written to the store.
  ctx.services.callbacks.useLiveLeases((mac) => leases.boundAddresses(settings.served, mac).map(formatIpv4));

  // Built only when debug logging is on: at thousands of datagrams a second the log arguments cost too.
  const debug = log.isLevelEnabled('debug');
  let sendErrorLoggedAt = 0;
  const onSent = (error: Error | null) => {
    if (!error) return;
    engine.counters.sendErrors++;
    const now = Date.now();
    if (now - sendErrorLoggedAt < 10_000) return;
    sendErrorLoggedAt = now;
    // ENETUNREACH for 255.255.255.255 means the broadcast host route is missing (see dhcp.manageBroadcastRoute).
    log.warn({ err: error, sendErrors: engine.counters.sendErrors }, `DHCP reply could not be sent: ${error.message}`);
  };
  let poolFullLoggedAt = 0;
  let poolFullSinceLog = 0;
  const report = (result: EngineResult, socket: Socket, from: string) => {
    switch (result.kind) {
      case 'send':
        ctx.services.contacts.noteMac(result.mac, `dhcp ${result.summary.split(' ')[0]}`);
        if (debug) log.debug({ mac: result.mac, to: `${result.to.address}:${result.to.port}` }, result.summary);
        socket.send(result.bytes, result.to.port, result.to.address, onSent);
        return;
      case 'drop':
        if (result.why === 'poolFull') {
          poolFullSinceLog++;
          const now = Date.now();
          if (now - poolFullLoggedAt >= POOL_FULL_LOG_INTERVAL_MS) {
            log.warn({ mac: result.mac, refused: poolFullSinceLog }, `DHCP refused: ${result.reason}`);
            poolFullLoggedAt = now;
            poolFullSinceLog = 0;
          }
        } else if (debug) {
          log.debug({ mac: result.mac, from, why: result.why }, `DHCP datagram dropped: ${result.reason}`);
        }
        return;
      case 'done':
        ctx.services.contacts.noteMac(result.mac, 'dhcp');
        if (debug) log.debug({ mac: result.mac }, result.summary);
        return;
      case 'error':
        log.error({ err: result.error, from }, 'DHCP handler failed; datagram dropped');
    }
  };
  const listen = (socket: Socket, door: Door) => {
    socket.on('message', (datagram, remote) => {
      try {
        report(engine.handle(datagram, remote.address, remote.port, door), socket, remote.address);
      } catch (error) {
        engine.counters.handlerErrors++;
        log.error({ err: error }, 'DHCP datagram handling failed');
      }
    });
    socket.on('error', (error) => log.error({ err: error }, 'DHCP socket error'));
  };

  const sockets: Socket[] = [];
  try {
    sockets.push(await bindSocket(config.dhcp.host, config.dhcp.port));
    listen(sockets[0]!, 'dhcp');
    if (settings.mode === 'proxy') {
      sockets.push(await bindSocket(config.dhcp.host, config.dhcp.proxyPort));
      listen(sockets[1]!, 'proxy-boot-server');
    }
  } catch (error) {
    for (const socket of sockets) socket.close();
    leases.close();
    throw new Error(`DHCP could not bind ${config.dhcp.host}:${config.dhcp.port}: ${(error as Error).message}`);
  }
  ctx.services.metrics.attach('dhcp', () => engine.counters);
  const counterTimer = setInterval(() => log.debug({ counters: engine.counters }, 'DHCP counters'), 60_000);
  counterTimer.unref();
  const ports = settings.mode === 'proxy' ? `${config.dhcp.port}+${config.dhcp.proxyPort}` : `${config.dhcp.port}`;
  log.info(
    { mode: settings.mode, answer: settings.answer, interface: iface, receiveBufferBytes: sockets[0]!.getRecvBufferSize() },
    `DHCP ${settings.mode} on ${config.dhcp.host}:${ports}`,
  );

  return {
    name: 'dhcp',
    address: `udp://${config.dhcp.host}:${ports}`,
    counters: () => ({ ...engine.counters }),
    flush: () => {
      leases.flush();
      recorder.flush(true);
    },
    close: async () => {
      clearInterval(counterTimer);
      ctx.services.callbacks.useLiveLeases(null);
      ctx.services.metrics.detach('dhcp');
      await Promise.all(sockets.map((socket) => new Promise<void>((resolve) => socket.close(() => resolve()))));
      leases.close();
      recorder.close();
      log.info({ counters: engine.counters }, 'DHCP stopped');
    },
  };
}
