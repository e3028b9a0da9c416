// What a TFTP request serves: the boot-files root's answer (generated config or file, boot-files/files.ts),
// as a byte source for the transfer; files small enough come from the boot file cache (shared with HTTP).
import type { AppContext } from '../context.ts';
import { BootFiles } from '../boot-files/files.ts';
import { fileSource, memorySource, MemorySource, type ByteSource } from './source.ts';

export { GenerationFailed } from '../boot-files/files.ts';

export class TftpFiles {
  private readonly files: BootFiles;

  constructor(private readonly ctx: AppContext) {
    this.files = new BootFiles(ctx);
  }

  /** Opens the source for a request; PathRefused means "file not found" to the client. */
  async open(requested: string, netascii: boolean): Promise<ByteSource> {
    const answer = await this.files.open(requested, 'tftp');
    if (answer.kind === 'generated') return memorySource(answer.content, netascii);
    if (netascii) return fileSource(answer.path, true);
    const { content } = await this.ctx.services.bootFileCache.lookup(answer.path);
    return content ? new MemorySource(content) : fileSource(answer.path, false);
  }
}
