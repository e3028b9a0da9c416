// What a requested name serves: pxelinux configs generated per request from the boot plan
// (`pxelinux.cfg/01-<mac>`, `pxelinux.cfg/default`), or a file under the TFTP root. The other names pxelinux
// tries first (UUID, hex IP prefixes) are answered "not found" at once, without touching the disk.
import type { AppContext } from '../context.ts';
import { normalizeMac } from '../domain/mac.ts';
import { renderPxelinuxConfig } from '../render/pxelinux.ts';
import { cleanRequestPath, PathRefused, TftpRoot } from './paths.ts';
import { FileCache } from './file-cache.ts';
import { fileSource, memorySource, MemorySource, type ByteSource } from './source.ts';

export class GenerationFailed extends Error {}

const PER_MAC_CONFIG = /^01-([0-9a-f]{2}(?:-[0-9a-f]{2}){5})$/i;
const BOOT_EVENT_REPEAT_MS = 10_000;

export class TftpFiles {
  private readonly root: TftpRoot;
  readonly cache: FileCache;
  /** Last boot event per MAC: pxelinux may ask twice in a row, one event is enough. */
  private readonly lastBootEvent = new Map<string, number>();

  constructor(private readonly ctx: AppContext) {
    this.root = new TftpRoot(ctx.config.bootDir);
    this.cache = new FileCache(ctx.config.tftp.cacheBytes);
  }

  /** Opens the source for a request; PathRefused means "file not found" to the client. */
  async open(requested: string, netascii: boolean): Promise<ByteSource> {
    const relative = cleanRequestPath(requested);
    const segments = relative.split('/');
    if (segments.length >= 2 && segments.at(-2)!.toLowerCase() === 'pxelinux.cfg') {
      return memorySource(Buffer.from(this.pxelinuxConfig(requested, segments.at(-1)!), 'utf8'), netascii);
    }
    const path = await this.root.resolve(relative);
    if (netascii) return fileSource(path, true);
    const cached = await this.cache.get(path);
    return cached ? new MemorySource(cached) : fileSource(path, false);
  }

  private pxelinuxConfig(requested: string, name: string): string {
    if (name.toLowerCase() === 'default') return this.render(null);
    const match = PER_MAC_CONFIG.exec(name);
    if (!match) throw new PathRefused(requested, 'pxelinux config names other than 01-<mac> and default are not generated');
    const mac = normalizeMac(match[1]!);
    const content = this.render(mac);
    this.recordBoot(mac, name);
    return content;
  }

  private render(mac: string | null): string {
    try {
      return renderPxelinuxConfig(this.ctx, mac);
    } catch (error) {
      throw new GenerationFailed(`pxelinux config for ${mac ?? 'default'}: ${(error as Error).message}`);
    }
  }

  private recordBoot(mac: string, name: string): void {
    const at = Date.now();
    if (at - (this.lastBootEvent.get(mac) ?? 0) < BOOT_EVENT_REPEAT_MS) return;
    try {
      const node = this.ctx.services.nodes.findByMac(mac);
      if (!node) return;
      this.lastBootEvent.set(mac, at);
      if (this.lastBootEvent.size > 10_000) this.lastBootEvent.clear();
      this.ctx.store.events.append({
        nodeId: node.id,
        mac,
        kind: 'boot',
        message: `fetched pxelinux.cfg/${name} over TFTP (state ${node.state})`,
        actor: 'tftp',
      });
    } catch (error) {
      // The config is served whatever happens to the event log.
      this.ctx.log.warn({ err: error, mac }, 'tftp: could not record the boot event');
    }
  }
}
