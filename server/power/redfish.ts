// Redfish over HTTPS (DMTF DSP0266): ComputerSystem.Reset for power, Boot.BootSourceOverride* for the next
// boot. Certificates are checked against the system's CAs unless the node pins its BMC's self-signed
// certificate by SHA-256 fingerprint; the pin is checked before a single byte of the request (and so the
// credentials) is sent.
import https from 'node:https';
import tls from 'node:tls';
import type { BmcSettings } from '../domain/types.ts';
import { abortedError, PowerError, type BootDevice, type PowerDriver, type PowerState } from './driver.ts';
import { certFingerprintSchema, defaultPort } from './settings.ts';

export interface RedfishOptions {
  /** Extra CAs to trust (PEM), besides the system's; tests use it for a private CA. */
  ca?: string | Buffer;
}

interface ComputerSystem {
  '@odata.id'?: string;
  PowerState?: string;
  Boot?: { BootSourceOverrideTarget?: string; BootSourceOverrideEnabled?: string; 'BootSourceOverrideTarget@Redfish.AllowableValues'?: string[] };
  Actions?: Record<string, { target?: string; 'ResetType@Redfish.AllowableValues'?: string[] } | undefined>;
}

interface Response {
  status: number;
  body: unknown;
  etag: string | null;
}

const MAX_BODY = 1024 * 1024;

export class RedfishDriver implements PowerDriver {
  readonly name = 'redfish' as const;
  private readonly origin: string;
  private readonly pinned: string | null;
  private systemPath: string | null;
  /** ETag of the last ComputerSystem read, sent as If-Match with the PATCH (some BMCs require it). */
  private lastEtag: string | null = null;

  constructor(
    private readonly bmc: BmcSettings,
    private readonly options: RedfishOptions = {},
  ) {
    if (!bmc.password) throw new PowerError('auth', 'no BMC password is set (racklift node bmc ... --password-file)');
    this.origin = `${bmc.address}:${bmc.port ?? defaultPort('redfish')}`;
    this.pinned = bmc.certFingerprint ? certFingerprintSchema.parse(bmc.certFingerprint) : null;
    this.systemPath = bmc.systemPath ?? null;
  }

  async status(signal: AbortSignal): Promise<PowerState> {
    return powerStateOf((await this.system(signal)).PowerState);
  }

  async on(signal: AbortSignal): Promise<void> {
    await this.reset(await this.system(signal), ['On'], signal);
  }

  async off(signal: AbortSignal): Promise<void> {
    await this.reset(await this.system(signal), ['ForceOff'], signal);
  }

  async cycle(signal: AbortSignal): Promise<void> {
    const system = await this.system(signal);
    if (powerStateOf(system.PowerState) === 'off') return this.reset(system, ['On'], signal);
    await this.reset(system, ['PowerCycle', 'ForceRestart'], signal);
  }

  async setNextBoot(device: BootDevice, signal: AbortSignal): Promise<void> {
    const system = await this.system(signal);
    const etag = this.lastEtag;
    const target = device === 'network-once' ? 'Pxe' : 'Hdd';
    const allowed = system.Boot?.['BootSourceOverrideTarget@Redfish.AllowableValues'];
    if (allowed && !allowed.includes(target)) {
      throw new PowerError('refused', `Redfish BMC ${this.origin} does not offer boot override ${target} (it offers ${allowed.join(', ')})`);
    }
    const path = this.systemPath!;
    await this.expectOk(
      await this.request('PATCH', path, { Boot: { BootSourceOverrideTarget: target, BootSourceOverrideEnabled: 'Once' } }, signal, etag),
      `PATCH ${path} Boot`,
    );
  }

  /** The ComputerSystem resource: the configured path, or the only member of the Systems collection. */
  private async system(signal: AbortSignal): Promise<ComputerSystem> {
    if (!this.systemPath) this.systemPath = await this.discoverSystem(signal);
    const response = await this.request('GET', this.systemPath, null, signal);
    await this.expectOk(response, `GET ${this.systemPath}`);
    this.lastEtag = response.etag;
    return response.body as ComputerSystem;
  }

  private async discoverSystem(signal: AbortSignal): Promise<string> {
    const root = await this.request('GET', '/redfish/v1/', null, signal);
    await this.expectOk(root, 'GET /redfish/v1/');
    const collectionPath = (root.body as { Systems?: { '@odata.id'?: string } }).Systems?.['@odata.id'] ?? '/redfish/v1/Systems';
    const collection = await this.request('GET', collectionPath, null, signal);
    await this.expectOk(collection, `GET ${collectionPath}`);
    const members = ((collection.body as { Members?: { '@odata.id'?: string }[] }).Members ?? []).map((m) => m['@odata.id']).filter(Boolean) as string[];
    if (members.length === 1) return members[0]!;
    if (members.length === 0) throw new PowerError('protocol', `Redfish BMC ${this.origin} lists no computer system under ${collectionPath}`);
    throw new PowerError('refused', `Redfish BMC ${this.origin} has ${members.length} systems (${members.join(', ')}): set the node's system path`);
  }

  private async reset(system: ComputerSystem, preferred: string[], signal: AbortSignal): Promise<void> {
    const action = system.Actions?.['#ComputerSystem.Reset'];
    const target = action?.target ?? `${this.systemPath}/Actions/ComputerSystem.Reset`;
    const allowed = action?.['ResetType@Redfish.AllowableValues'];
    const resetType = allowed ? preferred.find((type) => allowed.includes(type)) : preferred[preferred.length - 1];
    if (!resetType) {
      throw new PowerError('refused', `Redfish BMC ${this.origin} offers no ${preferred.join(' or ')} reset (it offers ${allowed!.join(', ')})`);
    }
    await this.expectOk(await this.request('POST', target, { ResetType: resetType }, signal), `ComputerSystem.Reset ${resetType}`);
  }

  private async expectOk(response: Response, what: string): Promise<void> {
    if (response.status >= 200 && response.status < 300) return;
    if (response.status === 401 || response.status === 403) {
      throw new PowerError('auth', `Redfish BMC ${this.origin} refused the user or password (HTTP ${response.status} on ${what})`);
    }
    throw new PowerError('refused', `Redfish BMC ${this.origin}: ${what} answered HTTP ${response.status}${redfishMessage(response.body)}`);
  }

  private async request(method: string, path: string, body: unknown, signal: AbortSignal, etag?: string | null): Promise<Response> {
    if (signal.aborted) throw abortedError(signal, `Redfish BMC ${this.origin}`);
    const socket = await this.connect(signal);
    const payload = body === null ? null : Buffer.from(JSON.stringify(body));
    const auth = Buffer.from(`${this.bmc.username}:${this.bmc.password}`).toString('base64');
    const headers: Record<string, string> = { Accept: 'application/json', Authorization: `Basic ${auth}`, 'OData-Version': '4.0', Connection: 'close' };
    if (payload) {
      headers['Content-Type'] = 'application/json';
      headers['Content-Length'] = String(payload.length);
    }
    if (etag) headers['If-Match'] = etag;
    return new Promise<Response>((resolve, reject) => {
      const req = https.request({ method, path, headers, host: this.bmc.address, port: this.bmc.port ?? defaultPort('redfish'), createConnection: () => socket }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_BODY) req.destroy(new PowerError('protocol', `Redfish BMC ${this.origin} sent more than 1 MiB for ${path}`));
          else chunks.push(chunk);
        });
        res.on('end', () => {
          signal.removeEventListener('abort', onAbort);
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = null;
          try {
            parsed = text ? JSON.parse(text) : null;
          } catch {
            if (res.statusCode && res.statusCode < 300) return reject(new PowerError('protocol', `Redfish BMC ${this.origin} sent no JSON for ${path}`));
          }
          resolve({ status: res.statusCode ?? 0, body: parsed, etag: typeof res.headers.etag === 'string' ? res.headers.etag : null });
        });
      });
      const onAbort = () => req.destroy(abortedError(signal, `Redfish BMC ${this.origin}`));
      signal.addEventListener('abort', onAbort, { once: true });
      req.on('error', (error) => {
        signal.removeEventListener('abort', onAbort);
        reject(error instanceof PowerError ? error : new PowerError('unreachable', `Redfish BMC ${this.origin}: ${error.message}`));
      });
      req.end(payload ?? undefined);
    });
  }

  /** A TLS connection whose certificate is trusted: by the CA chain, or by the pinned fingerprint. */
  private connect(signal: AbortSignal): Promise<tls.TLSSocket> {
    const port = this.bmc.port ?? defaultPort('redfish');
    const servername = /^[\d.]+$/.test(this.bmc.address) ? undefined : this.bmc.address;
    return new Promise((resolve, reject) => {
      const socket = tls.connect({ host: this.bmc.address, port, servername, ca: this.options.ca ? [...tls.rootCertificates, String(this.options.ca)] : undefined, rejectUnauthorized: !this.pinned });
      const fail = (error: PowerError) => {
        signal.removeEventListener('abort', onAbort);
        socket.destroy();
        reject(error);
      };
      const onAbort = () => fail(abortedError(signal, `Redfish BMC ${this.origin}`));
      signal.addEventListener('abort', onAbort, { once: true });
      socket.once('secureConnect', () => {
        if (this.pinned) {
          const seen = socket.getPeerCertificate().fingerprint256;
          if (seen !== this.pinned) {
            return fail(new PowerError('tls', `Redfish BMC ${this.origin} presented certificate ${seen}, not the trusted ${this.pinned}: nothing was sent`));
          }
        }
        signal.removeEventListener('abort', onAbort);
        socket.removeAllListeners('error');
        resolve(socket);
      });
      socket.once('error', (error: NodeJS.ErrnoException) => {
        const code = error.code ?? '';
        if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|HOSTNAME|ALTNAME/.test(code)) {
          return fail(
            new PowerError(
              'tls',
              `Redfish BMC ${this.origin}: certificate not trusted (${code}); if it is the BMC's own self-signed certificate, trust it by its SHA-256 fingerprint`,
            ),
          );
        }
        fail(new PowerError('unreachable', `Redfish BMC ${this.origin}: ${error.message}`));
      });
    });
  }
}

function powerStateOf(value: string | undefined): PowerState {
  // A transition reports where it is heading.
  if (value === 'On' || value === 'PoweringOn') return 'on';
  if (value === 'Off' || value === 'PoweringOff') return 'off';
  return 'unknown';
}

function redfishMessage(body: unknown): string {
  const error = (body as { error?: { message?: string; '@Message.ExtendedInfo'?: { Message?: string }[] } } | null)?.error;
  const detail = error?.['@Message.ExtendedInfo']?.[0]?.Message ?? error?.message;
  return detail ? `: ${String(detail).slice(0, 300)}` : '';
}
