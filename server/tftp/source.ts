// Where a transfer's bytes come from: a file on disk (read asynchronously, in chunks), a generated buffer,
// or either of them converted to netascii. Reads are sequential: a transfer only ever moves forward, and
// retransmissions are served from the chunks it still holds.
import { open, type FileHandle } from 'node:fs/promises';
import { NetasciiEncoder, netasciiLength, toNetascii } from './netascii.ts';

export interface ByteSource {
  /** Total bytes the client will receive (what tsize reports). */
  readonly size: number;
  /** The whole content, when it is in memory: blocks are then views of it, with no reads and no copies. */
  readonly whole?: Buffer;
  /** Fills `target` with the bytes at `position`; returns how many were read (fewer only at the end). */
  read(position: number, target: Buffer): Promise<number>;
  close(): Promise<void>;
}

export class MemorySource implements ByteSource {
  constructor(readonly whole: Buffer) {}

  get size(): number {
    return this.whole.length;
  }

  async read(position: number, target: Buffer): Promise<number> {
    return this.whole.copy(target, 0, position, Math.min(this.whole.length, position + target.length));
  }

  async close(): Promise<void> {}
}

export class FileSource implements ByteSource {
  private constructor(private readonly handle: FileHandle, readonly size: number) {}

  static async open(path: string): Promise<FileSource> {
    const handle = await open(path, 'r');
    try {
      const info = await handle.stat();
      return new FileSource(handle, info.size);
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  async read(position: number, target: Buffer): Promise<number> {
    let filled = 0;
    while (filled < target.length) {
      const { bytesRead } = await this.handle.read(target, filled, target.length - filled, position + filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return filled;
  }

  close(): Promise<void> {
    return this.handle.close();
  }
}

const RAW_CHUNK = 64 * 1024;

/** A file converted to netascii on the fly. The converted size is counted first with one streaming pass. */
export class NetasciiFileSource implements ByteSource {
  private readonly encoder = new NetasciiEncoder();
  private rawPosition = 0;
  private position = 0;
  private readonly raw = Buffer.allocUnsafe(RAW_CHUNK);

  private constructor(private readonly file: FileSource, readonly size: number) {}

  static async open(path: string): Promise<NetasciiFileSource> {
    const file = await FileSource.open(path);
    try {
      const chunk = Buffer.allocUnsafe(RAW_CHUNK);
      let size = 0;
      for (let at = 0; at < file.size; at += RAW_CHUNK) {
        const n = await file.read(at, chunk);
        size += netasciiLength(chunk.subarray(0, n));
        if (n < RAW_CHUNK) break;
      }
      return new NetasciiFileSource(file, size);
    } catch (error) {
      await file.close();
      throw error;
    }
  }

  async read(position: number, target: Buffer): Promise<number> {
    if (position !== this.position) throw new Error(`netascii source read out of order (${position}, expected ${this.position})`);
    let filled = 0;
    while (filled < target.length) {
      if (this.encoder.pending === 0 && !this.encoder.hasCarry) {
        const n = await this.file.read(this.rawPosition, this.raw);
        if (n === 0) break;
        this.rawPosition += n;
        this.encoder.push(this.raw.subarray(0, n));
      }
      filled += this.encoder.pull(target.subarray(filled));
    }
    this.position += filled;
    return filled;
  }

  close(): Promise<void> {
    return this.file.close();
  }
}

export function memorySource(content: Buffer, netascii: boolean): ByteSource {
  return new MemorySource(netascii ? toNetascii(content) : content);
}

export function fileSource(path: string, netascii: boolean): Promise<ByteSource> {
  return netascii ? NetasciiFileSource.open(path) : FileSource.open(path);
}
