// What the scenario tests read off a VM's console and the appliance's log.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The install token in the kernel command line the installer booted with (Linux prints it). */
export function installTokenOnConsole(console: string): string | null {
  const matches = [...console.matchAll(/\/install\/([A-Za-z0-9_-]{16,})\/preseed/g)];
  return matches.at(-1)?.[1] ?? null;
}

export interface TftpSent {
  client: string;
  file: string;
  bytes: number;
}

/** Files the appliance's TFTP service reports it sent, from its JSON log lines. */
export function tftpTransfers(log: string): TftpSent[] {
  const sent: TftpSent[] = [];
  for (const line of log.split('\n')) {
    if (!line.includes('"service":"tftp"')) continue;
    try {
      const entry = JSON.parse(line) as { file?: string; client?: string; bytes?: number; msg?: string };
      // GRUB names files from the root (`/grub/grub.cfg`): the same file as `grub/grub.cfg`.
      if (entry.file && /sent/.test(entry.msg ?? '')) sent.push({ client: entry.client ?? '', file: entry.file.replace(/^\/+/, ''), bytes: entry.bytes ?? 0 });
    } catch {
      /* not JSON: ignore */
    }
  }
  return sent;
}

/** A fresh SSH host public key line, what an installed system's done callback posts. */
export function sshHostKeyLine(): string {
  const dir = mkdtempSync(join(tmpdir(), 'rl-e2e-key-'));
  try {
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'root@e2e', '-f', join(dir, 'key')]);
    return readFileSync(join(dir, 'key.pub'), 'utf8').trim();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export const seconds = (from: number) => Math.round((Date.now() - from) / 100) / 10;
