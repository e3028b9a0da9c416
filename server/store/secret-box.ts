// Secrets sealed at rest (BMC passwords): AES-256-GCM under a key kept in a file of the data directory
// (racklift.key, 0600), never in the database, so a copy of the database alone opens nothing. Each sealed value
// is bound to where it belongs (`bmc:<node id>`), so it cannot be moved to another row.
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { SECRET_FILE_MODE } from './data-dir.ts';

const PREFIX = 'sealed:v1:';
const KEY_CHECK_CONTEXT = 'racklift key check v1';

export class SecretKeyError extends Error {
  readonly code = 'secret_key';
}

export class SecretBox {
  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new SecretKeyError('the secret key must be 32 bytes');
  }

  static isSealed(value: unknown): value is string {
    return typeof value === 'string' && value.startsWith(PREFIX);
  }

  seal(plain: string, context: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(context));
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return `${PREFIX}${iv.toString('base64url')}.${cipher.getAuthTag().toString('base64url')}.${body.toString('base64url')}`;
  }

  open(sealed: string, context: string): string {
    const [iv, tag, body] = sealed.slice(PREFIX.length).split('.');
    if (!iv || !tag || body === undefined) throw new SecretKeyError('a sealed secret is malformed');
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'));
      decipher.setAAD(Buffer.from(context));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretKeyError(`a sealed secret (${context}) does not open with this key: it was changed, or sealed under another racklift.key`);
    }
  }

  /** A value derived from the key, kept in the database to tell the right key file from a wrong or missing one. */
  keyCheck(): string {
    return createHmac('sha256', this.key).update(KEY_CHECK_CONTEXT).digest('hex');
  }
}

/** Reads the key file, or creates it (32 random bytes, mode 0600) when it does not exist. */
export function loadOrCreateKey(path: string): { key: Buffer; created: boolean } {
  if (existsSync(path)) {
    const key = Buffer.from(readFileSync(path, 'utf8').trim(), 'base64');
    if (key.length !== 32) throw new SecretKeyError(`${path} does not hold a 32-byte key (base64)`);
    return { key, created: false };
  }
  const key = randomBytes(32);
  writeFileSync(path, `${key.toString('base64')}\n`, { mode: SECRET_FILE_MODE, flag: 'wx' });
  return { key, created: true };
}
