// The Redfish driver against a recorded-response HTTPS service (test/power/redfish-server.ts).
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { BmcSettings } from '../../server/domain/types.ts';
import { PowerError } from '../../server/power/driver.ts';
import { withDeadline } from '../../server/power/limit.ts';
import { RedfishDriver } from '../../server/power/redfish.ts';
import { certFingerprintSchema } from '../../server/power/settings.ts';
import { freeTcpPort } from './ipmi-sim.ts';
import { makeSelfSignedCert, startRedfishServer, type RedfishServer } from './redfish-server.ts';

const signal = () => AbortSignal.timeout(10_000);

describe('Redfish driver', () => {
  let server: RedfishServer;
  let fingerprint: string;
  const bmc = (overrides: Partial<BmcSettings> = {}): BmcSettings => ({
    driver: 'redfish',
    address: '127.0.0.1',
    port: server.port,
    username: 'root',
    password: 'calvin-rl',
    certFingerprint: fingerprint,
    ...overrides,
  });

  beforeAll(async () => {
    server = await startRedfishServer();
    fingerprint = certFingerprintSchema.parse(server.opensslFingerprint);
  });
  afterAll(async () => {
    await server?.close();
  });
  afterEach(() => {
    server.requests.length = 0;
  });

  it('refuses the self-signed certificate by default, before sending anything', async () => {
    const error = await new RedfishDriver(bmc({ certFingerprint: undefined })).status(signal()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PowerError);
    expect((error as PowerError).failure).toBe('tls');
    expect((error as PowerError).message).toMatch(/certificate not trusted.*SHA-256 fingerprint/);
    expect(server.requests).toEqual([]);
  });

  it('trusts the certificate by its SHA-256 fingerprint, as openssl prints it', async () => {
    expect(server.opensslFingerprint).toMatch(/^sha256 Fingerprint=/i);
    const driver = new RedfishDriver(bmc({ certFingerprint: server.opensslFingerprint }));
    expect(await driver.status(signal())).toBe('on');
    expect(server.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /redfish/v1/', 'GET /redfish/v1/Systems', 'GET /redfish/v1/Systems/437XR1138R2']);
    expect(server.requests[0]!.headers.authorization).toBe(`Basic ${Buffer.from('root:calvin-rl').toString('base64')}`);
  });

  it('refuses a certificate whose fingerprint is not the trusted one, before sending credentials', async () => {
    const wrong = fingerprint.replace(/^../, fingerprint.startsWith('00') ? '11' : '00');
    const error = await new RedfishDriver(bmc({ certFingerprint: wrong })).status(signal()).catch((e: unknown) => e);
    expect((error as PowerError).failure).toBe('tls');
    expect((error as PowerError).message).toContain(fingerprint);
    expect((error as PowerError).message).toMatch(/nothing was sent/);
    expect(server.requests).toEqual([]);
  });

  it('checks the chain when no fingerprint is pinned (here the test CA is trusted)', async () => {
    const driver = new RedfishDriver(bmc({ certFingerprint: undefined }), { ca: server.certPem });
    expect(await driver.status(signal())).toBe('on');
  });

  it('sends ComputerSystem.Reset with the right ResetType to the advertised target', async () => {
    const driver = new RedfishDriver(bmc());
    await driver.off(signal());
    expect(server.state().powerState).toBe('Off');
    await driver.cycle(signal()); // off: a cycle is just On
    await driver.on(signal());
    await driver.cycle(signal()); // on, and PowerCycle is not offered: ForceRestart
    const resets = server.requests.filter((r) => r.method === 'POST');
    expect(resets.map((r) => r.path)).toEqual(Array(4).fill('/redfish/v1/Systems/437XR1138R2/Actions/ComputerSystem.Reset'));
    expect(resets.map((r) => r.body)).toEqual([{ ResetType: 'ForceOff' }, { ResetType: 'On' }, { ResetType: 'On' }, { ResetType: 'ForceRestart' }]);
    expect(resets[0]!.headers['content-type']).toBe('application/json');
  });

  it('sets a one-time PXE boot override with PATCH and If-Match', async () => {
    await new RedfishDriver(bmc()).setNextBoot('network-once', signal());
    const patch = server.requests.find((r) => r.method === 'PATCH')!;
    expect(patch.path).toBe('/redfish/v1/Systems/437XR1138R2');
    expect(patch.body).toEqual({ Boot: { BootSourceOverrideTarget: 'Pxe', BootSourceOverrideEnabled: 'Once' } });
    expect(patch.headers['if-match']).toMatch(/^W\/"437XR1138R2-\d+"$/);
    expect(server.state()).toMatchObject({ bootTarget: 'Pxe', bootEnabled: 'Once' });
    await new RedfishDriver(bmc()).setNextBoot('disk', signal());
    expect(server.state()).toMatchObject({ bootTarget: 'Hdd', bootEnabled: 'Once' });
  });

  it('says when the password is refused', async () => {
    const error = await new RedfishDriver(bmc({ password: 'wrong' })).status(signal()).catch((e: unknown) => e);
    expect((error as PowerError).failure).toBe('auth');
    expect((error as PowerError).message).toMatch(/refused the user or password \(HTTP 401/);
  });
});

describe('Redfish driver, other BMC shapes', () => {
  const servers: RedfishServer[] = [];
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
  });
  const open = async (options: Parameters<typeof startRedfishServer>[0]) => {
    const server = await startRedfishServer(options);
    servers.push(server);
    const bmc: BmcSettings = { driver: 'redfish', address: '127.0.0.1', port: server.port, username: 'root', password: 'calvin-rl', certFingerprint: server.opensslFingerprint };
    return { server, bmc };
  };

  it('uses PowerCycle where the BMC offers it, and honours a required If-Match', async () => {
    const { server, bmc } = await open({ resetTypes: ['On', 'ForceOff', 'PowerCycle'], requireIfMatch: true });
    const driver = new RedfishDriver(bmc);
    await driver.setNextBoot('network-once', signal());
    await driver.cycle(signal());
    expect(server.state().resets).toEqual(['PowerCycle']);
  });

  it('asks for the system path when there are several systems, and uses it when given', async () => {
    const { server, bmc } = await open({ systemIds: ['1', '2'] });
    await expect(new RedfishDriver(bmc).status(signal())).rejects.toThrow(/has 2 systems .*set the node's system path/);
    await new RedfishDriver({ ...bmc, systemPath: '/redfish/v1/Systems/2' }).off(signal());
    expect(server.state('2').powerState).toBe('Off');
    expect(server.state('1').powerState).toBe('On');
  });

  it('reports a reset type the BMC does not offer', async () => {
    const { bmc } = await open({ resetTypes: ['On', 'ForceOff'] });
    await expect(new RedfishDriver(bmc).cycle(signal())).rejects.toThrow(/offers no PowerCycle or ForceRestart reset/);
  });
});

describe('Redfish driver, BMCs that do not answer', () => {
  it('gives up at the deadline on a BMC that accepts the connection and never answers', async () => {
    const { key, cert, fingerprint } = makeSelfSignedCert();
    const silent = https.createServer({ key, cert }, () => {
      /* never answers */
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const driver = new RedfishDriver({ driver: 'redfish', address: '127.0.0.1', port: (silent.address() as AddressInfo).port, username: 'root', password: 'p', certFingerprint: fingerprint });
      const error = await withDeadline(500, 'BMC redfish power status', (deadline) => driver.status(deadline)).catch((e: unknown) => e);
      expect((error as PowerError).failure).toBe('timeout');
      expect((error as PowerError).message).toMatch(/no answer within 0.5 s/);
    } finally {
      silent.closeAllConnections();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it('says when nothing listens', async () => {
    const port = await freeTcpPort();
    const driver = new RedfishDriver({ driver: 'redfish', address: '127.0.0.1', port, username: 'root', password: 'p' });
    const error = await driver.status(signal()).catch((e: unknown) => e);
    expect((error as PowerError).failure).toBe('unreachable');
    expect((error as PowerError).message).toMatch(/ECONNREFUSED/);
  });
});
