// Boot files kept in memory for TFTP and HTTP: a rack powering on asks for the same loader hundreds of times
// within seconds, and every installer for the same kernel and initrd. Served from memory, a TFTP transfer
// needs no read-ahead (no thread-pool round trip that can stall a window) and hands out blocks as views of one
// buffer; an HTTP answer is one write of that buffer, which the socket drains without the event loop's help.
// Each lookup checks the file's identity (device, inode, size, mtime) with one stat, so a replaced or
// rewritten file is read again; a transfer already running keeps the snapshot it started with. Concurrent
// lookups of the same file share one read. Least recently used files go first when the budget is exceeded;
// files larger than a quarter of the budget are never kept (they are read from disk per transfer).
import type { Stats } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';

interface Entry {
  identity: string;
  content: Promise<Buffer>;
  bytes: number;
}

export interface BootFileLookup {
  info: Stats;
  /** The whole file, or null when it is too large to keep (read it from disk). */
  content: Buffer | null;
}

export class BootFileCache {
  /** In use order: the first key is the least recently used. */
  private readonly entries = new Map<string, Entry>();
  private heldBytes = 0;
  hits = 0;
  misses = 0;

  constructor(private readonly budgetBytes: number) {}

  /** The file's metadata and its content, from memory or read now; a stat error (ENOENT...) is thrown. */
  async lookup(path: string): Promise<BootFileLookup> {
    const info = await stat(path);
    if (!info.isFile() || info.size > this.budgetBytes / 4) return { info, content: null };
    const identity = `${info.dev}:${info.ino}:${info.size}:${info.mtimeMs}`;
    const cached = this.entries.get(path);
    if (cached && cached.identity === identity) {
      this.entries.delete(path);
      this.entries.set(path, cached);
      this.hits++;
      return { info, content: await cached.content };
    }
    if (cached) this.forget(path, cached);
    this.misses++;
    const entry: Entry = { identity, bytes: info.size, content: readFile(path) };
    this.entries.set(path, entry);
    this.heldBytes += entry.bytes;
    entry.content.catch(() => this.forget(path, entry));
    this.evict();
    const content = await entry.content;
    if (content.length !== info.size) {
      // Changed between the stat and the read: serve what was read, keep nothing.
      this.forget(path, entry);
    }
    return { info, content };
  }

  get size(): { files: number; bytes: number } {
    return { files: this.entries.size, bytes: this.heldBytes };
  }

  private evict(): void {
    for (const [path, entry] of this.entries) {
      if (this.heldBytes <= this.budgetBytes) break;
      this.forget(path, entry);
    }
  }

  private forget(path: string, entry: Entry): void {
    if (this.entries.get(path) !== entry) return;
    this.entries.delete(path);
    this.heldBytes -= entry.bytes;
  }
}
