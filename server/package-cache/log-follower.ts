// Reads the lines appended to a log file (apt-cacher-ng's), polling its size: no inotify needed, and a file
// that is rotated or truncated is read again from its start.
import { statSync } from 'node:fs';
import { open, stat } from 'node:fs/promises';

export class LogFollower {
  private position: number | null = null;
  private partial = '';
  private timer: NodeJS.Timeout | null = null;
  private reading = false;

  constructor(
    private readonly path: string,
    private readonly onLine: (line: string) => void,
    private readonly intervalMs = 1000,
  ) {}

  /** Lines already in the file are not read: only what is appended from now on. */
  start(): void {
    this.position ??= (() => {
      try {
        return statSync(this.path).size;
      } catch {
        return 0;
      }
    })();
    this.timer ??= setInterval(() => void this.poll(), this.intervalMs);
    this.timer.unref();
  }

  /** Reads what was appended since the last poll (or since start()). */
  async poll(): Promise<void> {
    if (this.reading) return;
    this.reading = true;
    try {
      const size = (await stat(this.path).catch(() => null))?.size ?? null;
      if (size === null) return;
      this.position ??= 0;
      if (size < this.position) this.position = 0;
      if (size === this.position) return;
      const handle = await open(this.path, 'r');
      try {
        const buffer = Buffer.alloc(Math.min(size - this.position, 4 * 1024 * 1024));
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, this.position);
        this.position += bytesRead;
        const lines = (this.partial + buffer.subarray(0, bytesRead).toString('utf8')).split('\n');
        this.partial = lines.pop() ?? '';
        for (const line of lines) if (line) this.onLine(line);
      } finally {
        await handle.close();
      }
    } finally {
      this.reading = false;
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
