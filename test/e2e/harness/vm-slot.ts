// VMs run one at a time on this machine (2 cores; TCG is CPU-bound), also across test files that vitest
// runs in parallel: a lock directory holding the owner's pid, taken over when that process is gone.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onCleanup } from './cleanup.ts';
import { sleep } from './sh.ts';

const LOCK = join(tmpdir(), 'rl-e2e-vm.lock');

function ownerAlive(): boolean {
  try {
    const pid = Number(readFileSync(join(LOCK, 'pid'), 'utf8'));
    if (pid === process.pid) return true;
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Waits for the VM slot; returns the release function (also run at exit). */
export async function acquireVmSlot(timeoutMs = 30 * 60_000): Promise<() => void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      mkdirSync(LOCK);
      writeFileSync(join(LOCK, 'pid'), String(process.pid));
      break;
    } catch {
      if (!ownerAlive()) rmSync(LOCK, { recursive: true, force: true });
      else if (Date.now() > deadline) throw new Error(`another e2e VM held ${LOCK} for ${timeoutMs / 1000} s`);
      else await sleep(500);
    }
  }
  return onCleanup('vm slot', () => {
    try {
      if (Number(readFileSync(join(LOCK, 'pid'), 'utf8')) === process.pid) rmSync(LOCK, { recursive: true, force: true });
    } catch {
      /* already released */
    }
  });
}
