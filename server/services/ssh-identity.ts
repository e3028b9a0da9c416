// The appliance's own SSH key pair: generated at first start, kept in the data directory (0600). The public
// key goes into every installed node's root authorized_keys; the orchestrator logs in with the private key.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ssh2 from 'ssh2';

export interface SshIdentity {
  privateKey: string;
  /** One authorized_keys line: `ssh-ed25519 AAAA... racklift`. */
  publicKey: string;
  privateKeyPath: string;
}

export function loadOrCreateSshIdentity(dataDir: string): SshIdentity {
  const dir = join(dataDir, 'ssh');
  const privateKeyPath = join(dir, 'id_ed25519');
  const publicKeyPath = `${privateKeyPath}.pub`;
  if (!existsSync(privateKeyPath) || !existsSync(publicKeyPath)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const pair = ssh2.utils.generateKeyPairSync('ed25519', { comment: 'racklift' });
    writeFileSync(privateKeyPath, pair.private, { mode: 0o600 });
    writeFileSync(publicKeyPath, `${pair.public.trim()}\n`, { mode: 0o644 });
  }
  chmodSync(privateKeyPath, 0o600);
  return {
    privateKey: readFileSync(privateKeyPath, 'utf8'),
    publicKey: readFileSync(publicKeyPath, 'utf8').trim(),
    privateKeyPath,
  };
}
