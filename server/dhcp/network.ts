// Start-up checks of the host network. Node's dgram cannot bind a socket to one interface, so replies to
// 255.255.255.255 leave through whichever interface the routing table says: a host route pins them to the
// provisioning interface (and without any route a namespace interface fails with ENETUNREACH).
import { execFile } from 'node:child_process';
import { networkInterfaces } from 'node:os';
import { promisify } from 'node:util';
import type { Logger } from '../log.ts';

const run = promisify(execFile);
const BROADCAST_ROUTE = '255.255.255.255/32';

export type RouteOutcome = 'present' | 'added' | 'replaced' | 'not-root' | 'failed';

export async function ensureBroadcastRoute(iface: string, log: Logger): Promise<RouteOutcome> {
  if (process.getuid?.() !== 0) {
    log.warn({ interface: iface }, `not root: cannot check the ${BROADCAST_ROUTE} host route; broadcast replies may leave through another interface`);
    return 'not-root';
  }
  try {
    const { stdout } = await run('ip', ['-4', 'route', 'show', 'exact', BROADCAST_ROUTE]);
    const current = stdout.trim();
    if (new RegExp(`\\bdev ${iface.replace(/[.]/g, '\\.')}\\b`).test(current)) {
      log.info({ interface: iface, route: current }, `broadcast host route ${BROADCAST_ROUTE} dev ${iface} is present`);
      return 'present';
    }
    await run('ip', ['-4', 'route', 'replace', BROADCAST_ROUTE, 'dev', iface]);
    if (current) {
      log.warn({ interface: iface, previous: current }, `replaced the broadcast host route (${current}) with ${BROADCAST_ROUTE} dev ${iface}`);
      return 'replaced';
    }
    log.info({ interface: iface }, `added host route ${BROADCAST_ROUTE} dev ${iface} so DHCP broadcasts leave through the provisioning interface`);
    return 'added';
  } catch (error) {
    log.error({ err: error, interface: iface }, `could not add the host route ${BROADCAST_ROUTE} dev ${iface}; broadcast replies may fail`);
    return 'failed';
  }
}

/** Warns when the provisioning address is not on the interface, and names the other networks we will hear. */
export function checkInterface(iface: string, address: string, log: Logger): void {
  const all = networkInterfaces();
  const mine = all[iface]?.filter((entry) => entry.family === 'IPv4') ?? [];
  if (!mine.some((entry) => entry.address === address)) {
    log.warn({ interface: iface, address }, `provisioning address ${address} is not on interface ${iface}`);
  }
  const others = Object.entries(all)
    .filter(([name]) => name !== iface)
    .flatMap(([name, entries]) => (entries ?? []).filter((entry) => entry.family === 'IPv4' && !entry.internal).map((entry) => `${name} ${entry.cidr}`));
  if (others.length > 0) {
    log.info(
      { interface: iface, otherNetworks: others },
      'DHCP also hears broadcasts from other interfaces; requests are attributed by source address and giaddr, and replies leave only through the provisioning interface',
    );
  }
}
