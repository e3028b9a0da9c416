// Starts the HTTP service: with HTTPS on (http.tls.enabled), an HTTPS listener for everything and a plain-HTTP
// one for the boot and installer routes only (firmware has no TLS; the rest is sent to HTTPS); with it off,
// one plain listener for everything. close() waits for open transfers (bounded) before it returns.
import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { AppContext, RunningService } from '../context.ts';
import { createHttpApp } from './app.ts';
import { loadTlsCredentials } from './tls.ts';

export interface HttpService extends RunningService {
  /** The plain-HTTP listener (boot routes) and its port. */
  server: Server;
  port: number;
  /** The HTTPS listener's port, or null when HTTPS is off. */
  tlsPort: number | null;
  /** SHA-256 fingerprint of the HTTPS certificate, or null when HTTPS is off. */
  tlsFingerprint: string | null;
}

function listen(server: Server, port: number, host: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise<void>((resolve) => {
    const force = setTimeout(() => server.closeAllConnections(), 2000);
    force.unref();
    server.close(() => {
      clearTimeout(force);
      resolve();
    });
    server.closeIdleConnections();
  });
}

export async function startHttp(ctx: AppContext): Promise<HttpService> {
  const { http } = ctx.config;
  const servers: Server[] = [];
  try {
    let tlsPort: number | null = null;
    let tlsFingerprint: string | null = null;
    if (http.tls.enabled) {
      const credentials = await loadTlsCredentials(ctx.config);
      const secure = createHttpsServer({ cert: credentials.cert, key: credentials.key, minVersion: 'TLSv1.2' }, createHttpApp(ctx));
      secure.keepAliveTimeout = 5000;
      servers.push(secure);
      tlsPort = (await listen(secure, http.tls.port, http.host)).port;
      tlsFingerprint = credentials.fingerprint;
      ctx.log.info(
        { port: tlsPort, certificate: credentials.certPath, source: credentials.source, fingerprint: credentials.fingerprint },
        `HTTPS for the web form and the API on ${http.host}:${tlsPort} (${credentials.source} certificate, SHA-256 ${credentials.fingerprint}); ` +
          `the CLI pins it with --tls-fingerprint ${credentials.fingerprint}`,
      );
    } else {
      ctx.log.warn('HTTPS is off (http.tls.enabled: false): the web form, passwords and API tokens travel over plain HTTP');
    }
    const plain = createServer(createHttpApp(ctx, { httpsPort: tlsPort ?? undefined }));
    plain.keepAliveTimeout = 5000;
    servers.push(plain);
    const { address, port } = await listen(plain, http.port, http.host);
    return {
      name: 'http',
      address: `${address}:${port}${tlsPort !== null ? ` (HTTPS ${address}:${tlsPort})` : ''}`,
      port,
      server: plain,
      tlsPort,
      tlsFingerprint,
      close: async () => {
        await Promise.all(servers.map(closeServer));
      },
    };
  } catch (error) {
    await Promise.all(servers.map(closeServer));
    throw error;
  }
}
