// HTTP requests from a chosen loopback source address (any 127.x.y.z is local on Linux), so a test can be the
// machine at a node's leased or reserved address without touching any other network.
import { request } from 'node:http';
import type { AppContext } from '../../server/context.ts';

export interface Answer {
  status: number;
  body: string;
}

export function httpFrom(base: string, source: string) {
  const send = (method: string, path: string, body?: string): Promise<Answer> =>
    new Promise((resolve, reject) => {
      const url = new URL(path, base);
      const headers: Record<string, string | number> = body === undefined ? {} : { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) };
      const req = request({ host: url.hostname, port: url.port, path: `${url.pathname}${url.search}`, method, headers, localAddress: source }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      });
      req.on('error', reject);
      req.end(body);
    });
  return {
    get: (path: string) => send('GET', path),
    post: (path: string, body = '') => send('POST', path, body),
  };
}

/** Records that the appliance's DHCP bound `address` to `mac` (as the lease book writes it). */
export function leaseTo(ctx: AppContext, mac: string, address: string, subnet = '127.0.0.0/8'): void {
  ctx.store.leases.upsert({ address, mac, subnet, state: 'bound', expiresAt: Date.now() + 3_600_000, clientHostname: null, updatedAt: Date.now() });
}
