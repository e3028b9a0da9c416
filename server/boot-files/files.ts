// What a name under the boot-files root serves, for TFTP and HTTP alike: a config generated per request from
// the boot plan (pxelinux.cfg/01-<mac> and default, grub/grub.cfg and grub/grub.cfg-01-<mac>), or a file by
// the root's one rule (paths.ts). The other names pxelinux tries first (UUID, hex IP prefixes) are answered
// "not found" at once, without touching the disk. Per-machine configs are boot decisions: each is an event.
import type { AppContext } from '../context.ts';
import { normalizeMac } from '../domain/mac.ts';
import { renderGrubConfig, renderGrubDefault } from '../render/grub.ts';
import { renderPxelinuxConfig } from '../render/pxelinux.ts';
import type { BootDoor } from '../services/boot-events.ts';
import { bootFileRoot } from './check.ts';
import { BootFileRoot, cleanRequestPath, PathRefused } from './paths.ts';

export class GenerationFailed extends Error {}

export type BootFileAnswer = { kind: 'generated'; content: Buffer } | { kind: 'file'; path: string };

const PER_MAC = /^01-([0-9a-f]{2}(?:-[0-9a-f]{2}){5})$/i;
const GRUB_PER_MAC = /^grub\.cfg-01-([0-9a-f]{2}(?:-[0-9a-f]{2}){5})$/i;

export class BootFiles {
  readonly root: BootFileRoot;

  constructor(private readonly ctx: AppContext) {
    this.root = bootFileRoot(ctx);
  }

  /** The answer for a requested name; PathRefused means "not found" to the client, GenerationFailed a server error. */
  async open(requested: string, door: BootDoor): Promise<BootFileAnswer> {
    const relative = cleanRequestPath(requested);
    const segments = relative.split('/');
    const directory = segments.length >= 2 ? segments.at(-2)!.toLowerCase() : '';
    const name = segments.at(-1)!;
    if (directory === 'pxelinux.cfg') return this.generated(this.pxelinuxConfig(requested, name, door));
    if (relative === 'grub/grub.cfg') return this.generated(this.render('grub default config', () => renderGrubDefault(this.ctx)));
    const grubMac = relative.startsWith('grub/') && segments.length === 2 ? GRUB_PER_MAC.exec(name) : null;
    if (grubMac) return this.generated(this.perMac(normalizeMac(grubMac[1]!), `grub/${name}`, door, (mac) => renderGrubConfig(this.ctx, mac)));
    return { kind: 'file', path: await this.root.resolve(relative) };
  }

  private generated(text: string): BootFileAnswer {
    return { kind: 'generated', content: Buffer.from(text, 'utf8') };
  }

  private pxelinuxConfig(requested: string, name: string, door: BootDoor): string {
    if (name.toLowerCase() === 'default') return this.render('pxelinux config for default', () => renderPxelinuxConfig(this.ctx, null));
    const match = PER_MAC.exec(name);
    if (!match) throw new PathRefused(requested, 'pxelinux config names other than 01-<mac> and default are not generated');
    return this.perMac(normalizeMac(match[1]!), `pxelinux.cfg/${name}`, door, (mac) => renderPxelinuxConfig(this.ctx, mac));
  }

  private perMac(mac: string, name: string, door: BootDoor, render: (mac: string) => string): string {
    const content = this.render(`${name}`, () => render(mac));
    const node = this.ctx.services.nodes.findByMac(mac);
    const firstLine = content.split('\n', 1)[0]!.replace(/^#\s*racklift:\s*/, '');
    try {
      this.ctx.services.bootEvents.record(mac, door, `fetched ${name} over ${door.toUpperCase()} (${node ? `state ${node.state}` : 'unknown machine'}): ${firstLine}`);
    } catch (error) {
      // The config is served whatever happens to the event log.
      this.ctx.log.warn({ err: error, mac }, `${door}: could not record the boot event`);
    }
    return content;
  }

  private render(what: string, render: () => string): string {
    try {
      return render();
    } catch (error) {
      throw new GenerationFailed(`${what}: ${(error as Error).message}`);
    }
  }
}
