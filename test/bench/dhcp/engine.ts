// The DHCP engine's own cost, without sockets or the kernel: CPU time per 4-way exchange (DISCOVER -> OFFER,
// REQUEST -> ACK) for clients behind a relay, as perfdhcp sends them in run.sh, with the store on disk (leases
// written in their batches) and the contact book noted per answer as the service does. A companion to run.sh
// for comparing revisions: the machine's load moves it much less than a network benchmark.
//   npx tsx test/bench/dhcp/engine.ts [exchanges=100000]     (env NODE_PROFILE: run under node --cpu-prof yourself)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../../server/config.ts';
import type { AppContext } from '../../../server/context.ts';
import { buildDhcpEngine } from '../../../server/dhcp/service.ts';
import { MessageType } from '../../../server/dhcp/options.ts';
import { createLogger } from '../../../server/log.ts';
import { createServices } from '../../../server/services/index.ts';
import { databasePath, openStore } from '../../../server/store/index.ts';
import { clientPacket } from '../../dhcp/helpers/packets.ts';

const EXCHANGES = Number(process.argv[2] ?? 100_000);
const RELAY = '198.18.0.1';
const dir = mkdtempSync(join(tmpdir(), 'rl-dhcp-engine-'));
const config = loadConfig({
  env: {},
  file: null,
  overrides: {
    dataDir: dir,
    'provisioning.interface': 'rldb-s',
    'provisioning.address': '10.231.12.1',
    'provisioning.subnet': '10.231.12.0/24',
    'provisioning.pool': { start: '10.231.12.100', end: '10.231.12.200' },
    'provisioning.relayedSubnets': [{ subnet: '198.18.0.0/16', pool: { start: '198.18.1.0', end: '198.18.255.254' } }],
    'dhcp.answer': 'all',
    'dhcp.newOffersPerSecond': 100_000,
    'dhcp.newOfferBurst': 1_000_000,
    'tftp.enabled': false,
    'orchestrator.enabled': false,
  },
});
const store = openStore(databasePath(dir));
const ctx: AppContext = { config, store, services: createServices(config, store), log: createLogger('silent') };
const { engine, leases, recorder } = buildDhcpEngine(ctx, ctx.log);

const mac = (i: number) => `02:00:${[(i >> 24) & 255, (i >> 16) & 255, (i >> 8) & 255, i & 255].map((b) => b.toString(16).padStart(2, '0')).join(':')}`;
// The datagrams are built before the clock starts: the client's work is not the server's.
const discovers = Array.from({ length: EXCHANGES }, (_, i) => clientPacket({ type: MessageType.DISCOVER, mac: mac(i), xid: i, giaddr: RELAY }));

function run(from: number, to: number): number {
  let answered = 0;
  for (let i = from; i < to; i++) {
    const offer = engine.handle(discovers[i]!, RELAY, 67);
    if (offer.kind !== 'send') continue;
    ctx.services.contacts.noteMac(offer.mac, 'dhcp OFFER');
    const offered = `${offer.bytes[16]}.${offer.bytes[17]}.${offer.bytes[18]}.${offer.bytes[19]}`;
    const request = clientPacket({ type: MessageType.REQUEST, mac: mac(i), xid: i, giaddr: RELAY, requestedAddress: offered, serverId: '10.231.12.1' });
    const ack = engine.handle(request, RELAY, 67);
    if (ack.kind === 'send') {
      ctx.services.contacts.noteMac(ack.mac, 'dhcp ACK');
      answered++;
    }
  }
  return answered;
}

// Warm-up (JIT), then the measured run; the REQUEST datagrams are built inside the loop, so their cost is
// measured separately below and subtracted.
run(0, Math.min(5000, EXCHANGES / 10));
const start = Math.min(5000, EXCHANGES / 10);
const before = process.cpuUsage();
const wallStart = performance.now();
const answered = run(start, EXCHANGES);
const cpu = process.cpuUsage(before);
const wallMs = performance.now() - wallStart;
const builtBefore = process.cpuUsage();
for (let i = start; i < EXCHANGES; i++) clientPacket({ type: MessageType.REQUEST, mac: mac(i), xid: i, giaddr: RELAY, requestedAddress: '198.18.1.1', serverId: '10.231.12.1' });
const buildCpu = process.cpuUsage(builtBefore);
leases.flush();
recorder.flush(true);
const measured = EXCHANGES - start;
const usPerExchange = (cpu.user + cpu.system - (buildCpu.user + buildCpu.system)) / measured;
console.log(`dhcp engine: ${measured} exchanges (${answered} ACKed) in ${(wallMs / 1000).toFixed(2)} s wall; ${usPerExchange.toFixed(1)} us CPU per exchange (request building subtracted); load average ${(await import('node:fs')).readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
leases.close();
recorder.close();
store.close();
rmSync(dir, { recursive: true, force: true });
