// The renderer's public face: what /boot.ipxe, /install/<token>/<kind>, the TFTP pxelinux files and
// `racklift render` hand out. Every output comes from the boot plan and one typed render context.
import type { AppContext } from '../context.ts';
import type { StoredNode } from '../store/nodes.ts';
import { bootScriptFor, installBootFor } from './boot-script.ts';
import { RenderError } from './context.ts';
import { engineFor } from './engine.ts';

export { bootScriptFor, pxelinuxConfigFor, installBootFor } from './boot-script.ts';
export { RenderError } from './context.ts';
export { renderGrubConfig } from './grub.ts';

export interface RenderedFile {
  contentType: string;
  body: string;
}

/** The installer files each installer kind fetches, by the name in /install/<token>/<kind>. */
export const INSTALL_FILE_KINDS = {
  preseed: ['preseed', 'finish.sh'],
  kickstart: ['kickstart', 'finish.sh'],
  autoinstall: ['user-data', 'meta-data', 'vendor-data', 'finish.sh'],
} as const;

export type InstallFileKind = 'preseed' | 'kickstart' | 'user-data' | 'meta-data' | 'vendor-data' | 'finish.sh';

/** The iPXE script /boot.ipxe?mac= answers for this MAC (install, local disk, or discovery). */
export function renderBootScript(ctx: AppContext, mac: string): string {
  return bootScriptFor(ctx, mac).script;
}

export interface RenderInstallOptions {
  /** Render with this token instead of the node's live one (previews of nodes that are not installing). */
  token?: string;
}

/** A node's installer file of one kind (preseed, kickstart, user-data, meta-data, vendor-data). Throws RenderError. */
export function renderInstallFile(ctx: AppContext, node: StoredNode, kind: string, options: RenderInstallOptions = {}): RenderedFile {
  const boot = installBootFor(ctx, node, options.token);
  const kinds: readonly string[] = INSTALL_FILE_KINDS[boot.profile.installer];
  if (!kinds.includes(kind)) {
    throw new RenderError(`profile ${boot.profile.name} (${boot.profile.installer}) has no ${kind} file; it serves ${kinds.join(', ')}`);
  }
  const engine = engineFor(ctx.config.templatesDir);
  switch (kind) {
    case 'meta-data':
      return { contentType: 'text/plain; charset=utf-8', body: engine.render('autoinstall/meta-data.hbs', boot.context) };
    case 'finish.sh':
      return { contentType: 'text/x-shellscript; charset=utf-8', body: engine.render('snippets/finish.sh.hbs', boot.context) };
    case 'vendor-data':
      return { contentType: 'text/plain; charset=utf-8', body: '' };
    default:
      return { contentType: 'text/plain; charset=utf-8', body: engine.render(boot.profile.template, boot.context) };
  }
}
