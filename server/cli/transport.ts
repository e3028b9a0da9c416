// How the remote CLI reaches the appliance's API: http://, or https:// with the system's CAs, a CA file
// (--ca-file: the appliance's tls/cert.pem trusts its self-signed certificate) or a pinned SHA-256 fingerprint
// (--tls-fingerprint, printed at every start). With a pin, the token is sent only after the certificate matched.
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { readFileSync } from 'node:fs';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';

export interface TransportTarget {
  url: string;
  token: string;
  caFile?: string;
  /** SHA-256 of the certificate, hex with or without colons. */
  fingerprint?: string;
}

export interface TransportResponse {
  status: number;
  text: string;
}

export class TransportError extends Error {
  readonly code = 'transport';
}

export function normalizeFingerprint(value: string): string | null {
  const hex = value.trim().replace(/^sha-?256[:=]?/i, '').replace(/:/g, '').toUpperCase();
  return /^[0-9A-F]{64}$/.test(hex) ? hex.match(/../g)!.join(':') : null;
}

const TIMEOUT_MS = 30_000;

/** A TLS connection whose certificate is the pinned one, checked before anything is written. */
function pinnedSocket(host: string, port: number, fingerprint: string): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host, port, servername: /^[\d.]+$/.test(host) ? undefined : host, rejectUnauthorized: false, timeout: TIMEOUT_MS });
    socket.once('secureConnect', () => {
      const seen = socket.getPeerCertificate().fingerprint256;
      if (seen !== fingerprint) {
        socket.destroy();
        reject(new TransportError(`the certificate of ${host}:${port} has fingerprint ${seen}, not the pinned ${fingerprint}: it is not the appliance you pinned; nothing was sent`));
        return;
      }
      resolve(socket);
    });
    socket.once('timeout', () => socket.destroy(new Error('timed out')));
    socket.once('error', (error) => reject(error));
  });
}

function explain(error: NodeJS.ErrnoException, url: string): TransportError {
  const code = error.code ?? '';
  if (/SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|CERT_UNTRUSTED/.test(code)) {
    return new TransportError(
      `the certificate of ${url} is not trusted (${code}): pin it with --tls-fingerprint FINGERPRINT (the appliance logs it at start) or trust it with --ca-file <dataDir>/tls/cert.pem`,
    );
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return new TransportError(`the certificate of ${url} does not name this host (${error.message}); use a name it lists, or --tls-fingerprint`);
  return new TransportError(`cannot reach ${url}: ${error.message}`);
}

export async function requestJson(target: TransportTarget, method: string, path: string, body?: unknown): Promise<TransportResponse> {
  const url = new URL(`${target.url}/api/v1${path}`);
  const secure = url.protocol === 'https:';
  const port = Number(url.port || (secure ? 443 : 80));
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const payload = body !== undefined ? JSON.stringify(body) : undefined;
  const headers: Record<string, string | number> = { authorization: `Bearer ${target.token}`, accept: 'application/json' };
  if (payload !== undefined) Object.assign(headers, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) });
  let pinned: TLSSocket | undefined;
  if (secure && target.fingerprint) {
    const fingerprint = normalizeFingerprint(target.fingerprint);
    if (!fingerprint) throw new TransportError(`--tls-fingerprint ${target.fingerprint}: expected the 64 hex digits of a SHA-256 fingerprint (colons allowed)`);
    try {
      pinned = await pinnedSocket(host, port, fingerprint);
    } catch (error) {
      throw error instanceof TransportError ? error : explain(error as NodeJS.ErrnoException, target.url);
    }
  }
  let ca: Buffer | undefined;
  if (target.caFile) {
    try {
      ca = readFileSync(target.caFile);
    } catch (error) {
      throw new TransportError(`--ca-file ${target.caFile}: ${(error as Error).message}`);
    }
  }
  return new Promise((resolve, reject) => {
    const options = { method, host, port, path: `${url.pathname}${url.search}`, headers, timeout: TIMEOUT_MS };
    const onResponse = (res: IncomingMessage) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      res.on('error', (error) => reject(explain(error, target.url)));
    };
    // Pinned: plain HTTP over the TLS socket already checked (no agent, so it is the only connection used).
    const req = pinned
      ? httpRequest({ ...options, createConnection: () => pinned }, onResponse)
      : secure
        ? httpsRequest({ ...options, ca }, onResponse)
        : httpRequest(options, onResponse);
    req.on('timeout', () => req.destroy(new Error(`no answer within ${TIMEOUT_MS / 1000} s`)));
    req.on('error', (error) => reject(explain(error, target.url)));
    req.end(payload);
  });
}
