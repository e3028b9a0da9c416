// What a TFTP request serves: the boot-files root's answer (generated config or file, boot-files/files.ts),
// as a byte source for the transfer; files small enough come from the in-memory cache.
import type { AppContext } from '../context.ts';
import { BootFiles } from '../boot-files/files.ts';
import { FileCache } from './file-cache.ts';
import { fileSource, memorySource, MemorySource, type ByteSource } from './source.ts';

export { GenerationFailed } from '../boot-files/files.ts';

export class TftpFiles {
  private readonly files: BootFiles;
  readonly cache: FileCache;

  constructor(ctx: AppContext) {
    this.files = new BootFiles(ctx);
    this.cache = new FileCache(ctx.config.tftp.cacheBytes);
  }

  /** Opens the source for a request; PathRefused means "file not found" to the client. */
  async open(requested: string, netascii: boolean): Promise<ByteSource> {
    const answer = await this.files.open(requested, 'tftp');
    if (answer.kind === 'generated') return memorySource(answer.content, netascii);
    if (netascii) return fileSource(answer.path, true);
    const cached = await this.cache.get(answer.path);
    return cached ? new MemorySource(cached) : fileSource(answer.path, false);
  }
}
