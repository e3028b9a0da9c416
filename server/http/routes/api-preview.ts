// What a node would be served, from the same renderers the boot routes use. Shared by the API and the web form.
import type { AppContext } from '../../context.ts';
import { Masker } from '../../orchestrator/masking.ts';
import { rootPasswordHash } from '../../render/context.ts';
import { INSTALL_FILE_KINDS, renderBootScript, renderInstallFile } from '../../render/index.ts';
import { renderPxelinuxConfig } from '../../render/pxelinux.ts';
import type { StoredNode } from '../../store/nodes.ts';

export const PREVIEW_KINDS = ['ipxe', 'pxelinux', ...new Set(Object.values(INSTALL_FILE_KINDS).flat())] as const;
export type PreviewKind = string;

/** Stands in for the install token of a node that has no live one (not assigned or installing). */
export const PREVIEW_TOKEN = 'preview-no-live-token';

export interface PreviewFile {
  kind: PreviewKind;
  title: string;
  contentType: string;
  /** The rendered file, or null when rendering failed (then `error` says why). */
  body: string | null;
  error: string | null;
}

type Rendered = string | { body: string; contentType?: string };

// Awaited, so the preview keeps working whether a renderer answers at once or with a promise.
async function attempt(kind: PreviewKind, title: string, contentType: string, render: () => Rendered | Promise<Rendered>): Promise<PreviewFile> {
  try {
    const out = await render();
    if (typeof out === 'string') return { kind, title, contentType, body: out, error: null };
    return { kind, title, contentType: out.contentType ?? contentType, body: out.body, error: null };
  } catch (error) {
    return { kind, title, contentType, body: null, error: (error as Error).message };
  }
}

/** Everything secret a rendered file can hold: the live install token, the root password and its hash, the cluster's passwords. */
function secretMasker(ctx: AppContext, node: StoredNode): Masker {
  const token = ctx.services.nodes.installTokenOf(node);
  return new Masker([...(token ? [token] : []), ctx.store.secrets.getOrCreate('root-password'), rootPasswordHash(ctx), ...Object.values(ctx.services.cluster.secrets())]);
}

/**
 * The boot script, the pxelinux config and the installer file(s) of the node's profile. Only an admin sees
 * the secrets in them; everyone else gets them masked (the files are otherwise exactly what is served).
 */
export async function previewFiles(ctx: AppContext, node: StoredNode, options: { secrets: boolean }): Promise<PreviewFile[]> {
  const files = await renderedFiles(ctx, node);
  if (options.secrets) return files;
  const masker = secretMasker(ctx, node);
  return files.map((file) => ({ ...file, title: `${file.title} (secrets masked: admin only)`, body: file.body === null ? null : masker.mask(file.body), error: file.error === null ? null : masker.mask(file.error) }));
}

async function renderedFiles(ctx: AppContext, node: StoredNode): Promise<PreviewFile[]> {
  const files = [
    await attempt('ipxe', `/boot.ipxe?mac=${node.mac}`, 'text/plain', () => renderBootScript(ctx, node.mac)),
    await attempt('pxelinux', `pxelinux.cfg/01-${node.mac.replaceAll(':', '-')}`, 'text/plain', () => renderPxelinuxConfig(ctx, node.mac)),
  ];
  const profile = node.profile ? ctx.store.profiles.get(node.profile) : null;
  // A node that is not installing has no live token: render with a stand-in so the operator still sees the file.
  const token = ctx.services.nodes.installTokenOf(node) ? undefined : PREVIEW_TOKEN;
  for (const kind of profile ? INSTALL_FILE_KINDS[profile.installer] : []) {
    const title = `/install/<token>/${kind} (${profile!.name}${token ? ', stand-in token: the node has no live one' : ''})`;
    files.push(await attempt(kind, title, 'text/plain', () => renderInstallFile(ctx, node, kind, { token })));
  }
  return files;
}
