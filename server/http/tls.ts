// The certificate of the HTTPS listener: the operator's (http.tls.certFile/keyFile), or a self-signed one made at
// first start in <dataDir>/tls (ECDSA P-256, key 0600 in a 0700 directory) naming the addresses the appliance is
// reached at. Its SHA-256 fingerprint is logged at every start, so the CLI can pin it (--tls-fingerprint).
import { webcrypto, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import type { Config } from '../config.ts';
import { isIpv4 } from '../domain/ipv4.ts';
import { DIR_MODE, SECRET_FILE_MODE } from '../store/data-dir.ts';

export interface TlsCredentials {
  cert: string;
  key: string;
  /** SHA-256 of the certificate, colon-separated hex (as browsers and openssl show it). */
  fingerprint: string;
  /** Where the certificate came from: the operator's file, or the self-signed one (made now or before). */
  source: 'file' | 'self-signed' | 'self-signed, made now';
  certPath: string;
}

export class TlsSetupError extends Error {
  readonly code = 'tls_setup';
}

export function selfSignedPaths(dataDir: string): { dir: string; cert: string; key: string } {
  const dir = join(dataDir, 'tls');
  return { dir, cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') };
}

function describe(cert: string, path: string): X509Certificate {
  try {
    return new X509Certificate(cert);
  } catch (error) {
    throw new TlsSetupError(`${path} is not a PEM certificate: ${(error as Error).message}`);
  }
}

/** The names and addresses a browser or the CLI may use for this appliance. */
function subjectAltNames(config: Config): { type: 'dns' | 'ip'; value: string }[] {
  const dns = new Set(['localhost', hostname()]);
  const ips = new Set(['127.0.0.1']);
  for (const value of [config.provisioning.address, config.http.host]) {
    if (value && isIpv4(value) && value !== '0.0.0.0') ips.add(value);
    else if (value && !isIpv4(value)) dns.add(value);
  }
  return [...[...dns].map((value) => ({ type: 'dns' as const, value })), ...[...ips].map((value) => ({ type: 'ip' as const, value }))];
}

async function makeSelfSigned(config: Config): Promise<{ cert: string; key: string }> {
  x509.cryptoProvider.set(webcrypto as unknown as Crypto);
  const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = (await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])) as CryptoKeyPair;
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: Buffer.from(webcrypto.getRandomValues(new Uint8Array(16))).toString('hex').replace(/^[89a-f]/, '1'),
    name: `CN=racklift ${hostname()}`,
    notBefore: new Date(now - 3600_000),
    notAfter: new Date(now + 10 * 365 * 86_400_000),
    signingAlgorithm: algorithm,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(subjectAltNames(config)),
    ],
  });
  const key = x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey), 'PRIVATE KEY');
  return { cert: cert.toString('pem'), key };
}

export async function loadTlsCredentials(config: Config): Promise<TlsCredentials> {
  const { certFile, keyFile } = config.http.tls;
  if (certFile && keyFile) {
    let cert: string;
    let key: string;
    try {
      cert = readFileSync(certFile, 'utf8');
      key = readFileSync(keyFile, 'utf8');
    } catch (error) {
      throw new TlsSetupError(`http.tls: ${(error as Error).message}`);
    }
    return { cert, key, fingerprint: describe(cert, certFile).fingerprint256, source: 'file', certPath: certFile };
  }
  const paths = selfSignedPaths(config.dataDir);
  let source: TlsCredentials['source'] = 'self-signed';
  if (!existsSync(paths.cert) || !existsSync(paths.key)) {
    const made = await makeSelfSigned(config);
    mkdirSync(paths.dir, { recursive: true, mode: DIR_MODE });
    writeFileSync(paths.key, made.key, { mode: SECRET_FILE_MODE });
    writeFileSync(paths.cert, made.cert, { mode: 0o644 });
    source = 'self-signed, made now';
  }
  const cert = readFileSync(paths.cert, 'utf8');
  return { cert, key: readFileSync(paths.key, 'utf8'), fingerprint: describe(cert, paths.cert).fingerprint256, source, certPath: paths.cert };
}
