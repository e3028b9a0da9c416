// Starts the HTTP service; close() waits for open transfers to finish (bounded) before it returns.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AppContext, RunningService } from '../context.ts';
import { createHttpApp } from './app.ts';

export async function startHttp(ctx: AppContext): Promise<RunningService & { server: Server; port: number }> {
  const app = createHttpApp(ctx);
  const server = createServer(app);
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(ctx.config.http.port, ctx.config.http.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { address, port } = server.address() as AddressInfo;
  return {
    name: 'http',
    address: `${address}:${port}`,
    port,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        const force = setTimeout(() => server.closeAllConnections(), 2000);
        force.unref();
        server.close(() => {
          clearTimeout(force);
          resolve();
        });
        server.closeIdleConnections();
      }),
  };
}
