// A small Redfish service for tests: HTTPS on loopback with a self-signed certificate made by openssl, and
// answers shaped after the DMTF schema and its public mockups (ServiceRoot, ComputerSystemCollection,
// ComputerSystem with PowerState, Boot and Actions/#ComputerSystem.Reset). It keeps power state and boot
// override, and records every request it got, so a test can check what the driver sent.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

export interface RedfishServerOptions {
  username?: string;
  password?: string;
  systemIds?: string[];
  resetTypes?: string[];
  powerState?: 'On' | 'Off';
  /** Answer 412 to a PATCH without the current ETag in If-Match, as some BMCs do. */
  requireIfMatch?: boolean;
}

export interface RedfishServer {
  port: number;
  certPem: string;
  /** As `openssl x509 -fingerprint -sha256` prints it: `sha256 Fingerprint=AB:CD:...`. */
  opensslFingerprint: string;
  requests: RecordedRequest[];
  state(id?: string): { powerState: string; bootTarget: string; bootEnabled: string; resets: string[] };
  close(): Promise<void>;
}

const BOOT_TARGETS = ['None', 'Pxe', 'Cd', 'Usb', 'Hdd', 'BiosSetup', 'UefiShell', 'UefiHttp'];
const DEFAULT_RESET_TYPES = ['On', 'ForceOff', 'GracefulShutdown', 'GracefulRestart', 'ForceRestart', 'Nmi', 'ForceOn', 'PushPowerButton'];

export function makeSelfSignedCert(commonName = '127.0.0.1'): { key: string; cert: string; fingerprint: string } {
  const dir = mkdtempSync(join(tmpdir(), 'rl-power-cert-'));
  try {
    const key = join(dir, 'key.pem');
    const cert = join(dir, 'cert.pem');
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert,
      '-days', '2', '-subj', `/CN=${commonName}`, '-addext', `subjectAltName=IP:${commonName}`,
    ], { stdio: 'ignore' });
    const fingerprint = execFileSync('openssl', ['x509', '-noout', '-fingerprint', '-sha256', '-in', cert], { encoding: 'utf8' }).trim();
    return { key: readFileSync(key, 'utf8'), cert: readFileSync(cert, 'utf8'), fingerprint };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function startRedfishServer(options: RedfishServerOptions = {}): Promise<RedfishServer> {
  const { key, cert, fingerprint } = makeSelfSignedCert();
  const username = options.username ?? 'root';
  const password = options.password ?? 'calvin-rl';
  const ids = options.systemIds ?? ['437XR1138R2'];
  const resetTypes = options.resetTypes ?? DEFAULT_RESET_TYPES;
  const systems = new Map(ids.map((id) => [id, { powerState: options.powerState ?? 'On', bootTarget: 'None', bootEnabled: 'Disabled', resets: [] as string[], generation: 1 }]));
  const requests: RecordedRequest[] = [];

  const systemBody = (id: string) => {
    const s = systems.get(id)!;
    return {
      '@odata.type': '#ComputerSystem.v1_13_0.ComputerSystem',
      '@odata.id': `/redfish/v1/Systems/${id}`,
      Id: id,
      Name: 'WebFrontEnd483',
      SystemType: 'Physical',
      Manufacturer: 'Contoso',
      Model: '3500RX',
      PowerState: s.powerState,
      Status: { State: 'Enabled', Health: 'OK' },
      Boot: {
        BootSourceOverrideEnabled: s.bootEnabled,
        BootSourceOverrideTarget: s.bootTarget,
        'BootSourceOverrideTarget@Redfish.AllowableValues': BOOT_TARGETS,
        BootSourceOverrideMode: 'UEFI',
      },
      Actions: {
        '#ComputerSystem.Reset': {
          target: `/redfish/v1/Systems/${id}/Actions/ComputerSystem.Reset`,
          'ResetType@Redfish.AllowableValues': resetTypes,
        },
      },
    };
  };
  const etagOf = (id: string) => `W/"${id}-${systems.get(id)!.generation}"`;
  const error = (code: string, message: string) => ({
    error: { code: `Base.1.8.${code}`, message, '@Message.ExtendedInfo': [{ MessageId: `Base.1.8.${code}`, Message: message }] },
  });

  const server = https.createServer({ key, cert }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown = null;
      try {
        body = text ? JSON.parse(text) : null;
      } catch {
        body = text;
      }
      const path = (req.url ?? '/').split('?')[0]!;
      requests.push({ method: req.method ?? '', path, headers: req.headers, body });
      const send = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
        res.writeHead(status, { 'Content-Type': 'application/json', 'OData-Version': '4.0', ...headers });
        res.end(payload === null ? undefined : JSON.stringify(payload));
      };
      if (req.headers.authorization !== `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`) {
        return send(401, error('NoValidSession', 'There is no valid session established with the implementation.'), { 'WWW-Authenticate': 'Basic realm="Redfish"' });
      }
      if (req.method === 'GET' && (path === '/redfish/v1/' || path === '/redfish/v1')) {
        return send(200, {
          '@odata.type': '#ServiceRoot.v1_5_0.ServiceRoot',
          '@odata.id': '/redfish/v1/',
          Id: 'RootService',
          Name: 'Root Service',
          RedfishVersion: '1.6.0',
          UUID: '92384634-2938-2342-8820-489239905423',
          Systems: { '@odata.id': '/redfish/v1/Systems' },
          Chassis: { '@odata.id': '/redfish/v1/Chassis' },
          Managers: { '@odata.id': '/redfish/v1/Managers' },
        });
      }
      if (req.method === 'GET' && path === '/redfish/v1/Systems') {
        return send(200, {
          '@odata.type': '#ComputerSystemCollection.ComputerSystemCollection',
          '@odata.id': '/redfish/v1/Systems',
          Name: 'Computer System Collection',
          'Members@odata.count': ids.length,
          Members: ids.map((id) => ({ '@odata.id': `/redfish/v1/Systems/${id}` })),
        });
      }
      const match = /^\/redfish\/v1\/Systems\/([^/]+)(\/Actions\/ComputerSystem\.Reset)?$/.exec(path);
      const id = match?.[1];
      if (!id || !systems.has(id)) return send(404, error('ResourceMissingAtURI', `The resource at the URI ${path} was not found.`));
      const system = systems.get(id)!;
      if (req.method === 'GET' && !match[2]) return send(200, systemBody(id), { ETag: etagOf(id) });
      if (req.method === 'POST' && match[2]) {
        const resetType = (body as { ResetType?: string } | null)?.ResetType;
        if (!resetType || !resetTypes.includes(resetType)) {
          return send(400, error('ActionParameterNotSupported', `The parameter ResetType for the action ComputerSystem.Reset is not supported on the target resource.`));
        }
        system.resets.push(resetType);
        system.powerState = resetType === 'ForceOff' || resetType === 'GracefulShutdown' ? 'Off' : 'On';
        if (system.bootEnabled === 'Once' && system.powerState === 'On') system.bootEnabled = 'Disabled';
        system.generation += 1;
        return send(204, null);
      }
      if (req.method === 'PATCH' && !match[2]) {
        if (options.requireIfMatch && req.headers['if-match'] !== etagOf(id)) {
          return send(412, error('PreconditionFailed', 'The ETag supplied did not match the ETag required to change this resource.'));
        }
        const boot = (body as { Boot?: { BootSourceOverrideTarget?: string; BootSourceOverrideEnabled?: string } } | null)?.Boot;
        if (!boot || (boot.BootSourceOverrideTarget && !BOOT_TARGETS.includes(boot.BootSourceOverrideTarget))) {
          return send(400, error('PropertyValueNotInList', 'The value for the property BootSourceOverrideTarget is not in the list of acceptable values.'));
        }
        if (boot.BootSourceOverrideTarget) system.bootTarget = boot.BootSourceOverrideTarget;
        if (boot.BootSourceOverrideEnabled) system.bootEnabled = boot.BootSourceOverrideEnabled;
        system.generation += 1;
        return send(200, systemBody(id), { ETag: etagOf(id) });
      }
      return send(405, error('OperationNotAllowed', 'The HTTP method is not allowed on this resource.'));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    certPem: cert,
    opensslFingerprint: fingerprint,
    requests,
    state: (id = ids[0]!) => {
      const { powerState, bootTarget, bootEnabled, resets } = systems.get(id)!;
      return { powerState, bootTarget, bootEnabled, resets: [...resets] };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
