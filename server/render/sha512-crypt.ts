// SHA-512 crypt ($6$, Ulrich Drepper's "Unix crypt using SHA-256 and SHA-512"), the hash every installer here
// accepts for a root password. Pure code over node:crypto; checked against `openssl passwd -6 -salt`.
import { createHash, randomBytes } from 'node:crypto';

const ALPHABET = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const DEFAULT_ROUNDS = 5000;
// Byte order of the final encoding, three bytes to four characters, as the specification lists it.
const ORDER = [
  [0, 21, 42], [22, 43, 1], [44, 2, 23], [3, 24, 45], [25, 46, 4], [47, 5, 26], [6, 27, 48],
  [28, 49, 7], [50, 8, 29], [9, 30, 51], [31, 52, 10], [53, 11, 32], [12, 33, 54], [34, 55, 13],
  [56, 14, 35], [15, 36, 57], [37, 58, 16], [59, 17, 38], [18, 39, 60], [40, 61, 19], [62, 20, 41],
] as const;

function sha512(...parts: Buffer[]): Buffer {
  const hash = createHash('sha512');
  for (const part of parts) hash.update(part);
  return hash.digest();
}

/** `length` bytes of `digest` repeated. */
function stretch(digest: Buffer, length: number): Buffer {
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i += 64) digest.copy(out, i, 0, Math.min(64, length - i));
  return out;
}

function encode24(b2: number, b1: number, b0: number, chars: number): string {
  let word = (b2 << 16) | (b1 << 8) | b0;
  let out = '';
  for (let i = 0; i < chars; i++) {
    out += ALPHABET[word & 0x3f];
    word >>>= 6;
  }
  return out;
}

export function randomSalt(length = 16): string {
  return Array.from(randomBytes(length), (byte) => ALPHABET[byte & 0x3f]).join('');
}

export function sha512Crypt(password: string, salt: string = randomSalt(), rounds: number = DEFAULT_ROUNDS): string {
  if (!/^[./0-9A-Za-z]{1,16}$/.test(salt)) throw new Error('salt must be 1-16 characters of [./0-9A-Za-z]');
  const roundCount = Math.min(999_999_999, Math.max(1000, Math.floor(rounds)));
  const key = Buffer.from(password, 'utf8');
  const saltBytes = Buffer.from(salt, 'ascii');

  const alternate = sha512(key, saltBytes, key);
  const a = createHash('sha512').update(key).update(saltBytes);
  for (let left = key.length; left > 0; left -= 64) a.update(alternate.subarray(0, Math.min(left, 64)));
  for (let bits = key.length; bits > 0; bits >>= 1) a.update(bits & 1 ? alternate : key);
  const intermediate = a.digest();

  const dp = createHash('sha512');
  for (let i = 0; i < key.length; i++) dp.update(key);
  const p = stretch(dp.digest(), key.length);

  const ds = createHash('sha512');
  for (let i = 0; i < 16 + intermediate[0]!; i++) ds.update(saltBytes);
  const s = stretch(ds.digest(), saltBytes.length);

  let c = intermediate;
  for (let round = 0; round < roundCount; round++) {
    const h = createHash('sha512');
    h.update(round & 1 ? p : c);
    if (round % 3) h.update(s);
    if (round % 7) h.update(p);
    h.update(round & 1 ? c : p);
    c = h.digest();
  }

  let encoded = '';
  for (const [x, y, z] of ORDER) encoded += encode24(c[x]!, c[y]!, c[z]!, 4);
  encoded += encode24(0, 0, c[63]!, 2);
  const roundsPart = roundCount === DEFAULT_ROUNDS && rounds === DEFAULT_ROUNDS ? '' : `rounds=${roundCount}$`;
  return `$6$${roundsPart}${salt}$${encoded}`;
}

/** True for a `$6$[rounds=N$]salt$hash` string: the only password form rendered files may carry. */
export function isSha512CryptHash(value: string): boolean {
  return /^\$6\$(rounds=\d{4,9}\$)?[./0-9A-Za-z]{1,16}\$[./0-9A-Za-z]{86}$/.test(value);
}
