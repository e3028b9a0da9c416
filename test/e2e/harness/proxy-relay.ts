// Runs inside the lab namespace (started by package-proxy.ts): listens where installers expect the package
// proxy and carries each connection to the host-side proxy's Unix socket; a second Unix socket carries the
// proxy's requests for the appliance back to the appliance's address inside the namespace.
// Usage: node --import tsx proxy-relay.ts LISTEN_HOST:PORT PROXY_SOCKET APPLIANCE_SOCKET APPLIANCE_HOST:PORT
import { rmSync } from 'node:fs';
import { createConnection, createServer, type Socket } from 'node:net';

const [listen, proxySocket, applianceSocket, appliance] = process.argv.slice(2) as [string, string, string, string];

function pipeBoth(a: Socket, b: Socket): void {
  a.pipe(b);
  b.pipe(a);
  const close = () => {
    a.destroy();
    b.destroy();
  };
  a.on('error', close);
  b.on('error', close);
  a.on('close', close);
  b.on('close', close);
}

const [listenHost, listenPort] = listen.split(':') as [string, string];
createServer((client) => pipeBoth(client, createConnection(proxySocket))).listen(Number(listenPort), listenHost);

const [applianceHost, appliancePort] = appliance.split(':') as [string, string];
rmSync(applianceSocket, { force: true });
createServer((client) => pipeBoth(client, createConnection(Number(appliancePort), applianceHost))).listen(applianceSocket);

process.on('SIGTERM', () => process.exit(0));
