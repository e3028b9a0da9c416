// A transfer's read-ahead: blocks are read from the source in chunks of whole blocks, at most a few chunks
// at a time (the one being sent, the next one loading), and released once acknowledged. Memory per transfer
// stays around 2-3 chunks whatever the file size. A source held in memory needs none of this: its blocks are
// views of its buffer.
import type { ByteSource } from './source.ts';

const CHUNK_TARGET_BYTES = 128 * 1024;
const CHUNKS_AHEAD = 1;

interface Chunk {
  data: Buffer | null;
  length: number;
}

export class BlockReader {
  /** Number of the final block (absolute, 1-based); it is shorter than blksize, possibly empty. */
  readonly lastBlock: number;
  private readonly chunkBlocks: number;
  private readonly chunks = new Map<number, Chunk>();
  private loading: Promise<void> = Promise.resolve();
  private nextChunkToLoad = 0;
  private releasedBelow = 0;
  private failure: Error | null = null;
  private closed = false;

  constructor(
    private readonly source: ByteSource,
    private readonly blksize: number,
    windowsize: number,
    private readonly onReady: () => void,
    private readonly onError: (error: Error) => void,
  ) {
    this.lastBlock = Math.floor(source.size / blksize) + 1;
    this.chunkBlocks = Math.max(windowsize, Math.ceil(CHUNK_TARGET_BYTES / blksize));
  }

  /** Payload of block `block`, or undefined while its chunk is loading (onReady fires when it lands). */
  block(block: number): Buffer | undefined {
    const whole = this.source.whole;
    if (whole) {
      const start = Math.min((block - 1) * this.blksize, whole.length);
      return whole.subarray(start, Math.min(start + this.blksize, whole.length));
    }
    const index = this.chunkOf(block);
    this.loadThrough(index + CHUNKS_AHEAD);
    const chunk = this.chunks.get(index);
    if (!chunk?.data) return undefined;
    const start = (block - 1 - index * this.chunkBlocks) * this.blksize;
    return chunk.data.subarray(Math.min(start, chunk.length), Math.min(start + this.blksize, chunk.length));
  }

  /** Blocks up to `block` are acknowledged: their chunks can go. */
  release(block: number): void {
    const below = Math.floor(block / this.chunkBlocks);
    for (let index = this.releasedBelow; index < below; index++) this.chunks.delete(index);
    this.releasedBelow = Math.max(this.releasedBelow, below);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.chunks.clear();
    await this.loading.catch(() => undefined);
    await this.source.close().catch(() => undefined);
  }

  private chunkOf(block: number): number {
    return Math.floor((block - 1) / this.chunkBlocks);
  }

  private loadThrough(index: number): void {
    const lastChunk = this.chunkOf(this.lastBlock);
    while (this.nextChunkToLoad <= Math.min(index, lastChunk) && !this.failure && !this.closed) {
      const chunkIndex = this.nextChunkToLoad++;
      const chunk: Chunk = { data: null, length: 0 };
      this.chunks.set(chunkIndex, chunk);
      // Chained: sources such as netascii need reads in order, and one read at a time per transfer keeps
      // the thread pool fair between transfers.
      this.loading = this.loading.then(() => this.load(chunkIndex, chunk));
    }
  }

  private async load(index: number, chunk: Chunk): Promise<void> {
    if (this.failure || this.closed) return;
    const position = index * this.chunkBlocks * this.blksize;
    const expected = Math.max(0, Math.min(this.chunkBlocks * this.blksize, this.source.size - position));
    const data = Buffer.allocUnsafe(expected);
    try {
      const length = expected === 0 ? 0 : await this.source.read(position, data);
      if (length < expected) throw new Error(`file shrank during the transfer (read ${position + length} of ${this.source.size} bytes)`);
      if (this.closed || !this.chunks.has(index)) return;
      chunk.data = data;
      chunk.length = length;
      this.onReady();
    } catch (error) {
      if (this.closed) return;
      this.failure = error as Error;
      this.onError(this.failure);
    }
  }
}
