// Stage output is buffered and written in small batched transactions (one per flush, all runs together), so
// a chatty apt-get never does a synchronous write per line on the shared event loop. A short tail per run is
// kept in memory for the failure reason.
import type { StageRunStore } from '../store/stage-runs.ts';

const TAIL_CHARS = 4096;

export class LogBuffer {
  private pending = new Map<number, string[]>();
  private pendingChars = 0;
  private readonly tails = new Map<number, string>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly stageRuns: StageRunStore,
    private readonly flushMs = 250,
    private readonly flushChars = 32 * 1024,
    private readonly onError?: (error: Error) => void,
  ) {}

  append(runId: number, text: string): void {
    if (!text) return;
    const chunks = this.pending.get(runId) ?? [];
    chunks.push(text);
    this.pending.set(runId, chunks);
    this.pendingChars += text.length;
    this.tails.set(runId, ((this.tails.get(runId) ?? '') + text).slice(-TAIL_CHARS));
    if (this.pendingChars >= this.flushChars) this.flush();
    else this.timer ??= setTimeout(() => this.flushQuietly(), this.flushMs);
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.pending.size === 0) return;
    const batch = [...this.pending].map(([id, chunks]) => ({ id, chunk: chunks.join('') }));
    this.pending = new Map();
    this.pendingChars = 0;
    this.stageRuns.appendLogs(batch);
  }

  private flushQuietly(): void {
    try {
      this.flush();
    } catch (error) {
      this.onError?.(error as Error);
    }
  }

  /** The last `lines` lines of a run's output (this process's share), for a failure reason. */
  tail(runId: number, lines = 15, chars = 1500): string {
    const text = (this.tails.get(runId) ?? '').trimEnd();
    return text.split('\n').slice(-lines).join('\n').slice(-chars);
  }

  /** Flushes and forgets a finished run. */
  finish(runId: number): void {
    this.flush();
    this.tails.delete(runId);
  }
}
