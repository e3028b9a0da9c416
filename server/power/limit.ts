// Bounded concurrency and deadlines for BMC calls: a rack of slow BMCs must not open hundreds of sessions
// at once, and one BMC that never answers must not hold its slot forever.
import { PowerError } from './driver.ts';

export class Limiter {
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  /** Highest number of tasks seen running at once; tests read it. */
  peak = 0;

  constructor(readonly concurrency: number) {
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new Error('concurrency must be a whole number >= 1');
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.concurrency) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.running += 1;
    this.peak = Math.max(this.peak, this.running);
    try {
      return await task();
    } finally {
      this.running -= 1;
      this.waiting.shift()?.();
    }
  }
}

/** Runs `task` with a signal that aborts after `timeoutMs`, and rejects then even if the task ignores it. */
export async function withDeadline<T>(timeoutMs: number, what: string, task: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const timeout = new PowerError('timeout', `${what}: no answer within ${Math.round(timeoutMs / 100) / 10} s`);
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort(timeout);
      reject(timeout);
    }, timeoutMs);
  });
  try {
    return await Promise.race([task(controller.signal), expired]);
  } finally {
    clearTimeout(timer);
  }
}
