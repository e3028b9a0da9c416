// Placeholder: the HTTP boot issue replaces this with the real renderer (templates under templates/).
import type { AppContext } from '../context.ts';
import type { StoredNode } from '../store/nodes.ts';

export interface RenderedFile {
  contentType: string;
  body: string;
}

/** The iPXE script /boot.ipxe?mac= answers for this MAC (install, local disk, or discovery). */
export function renderBootScript(_ctx: AppContext, _mac: string): string {
  return '#!ipxe\necho racklift: boot scripts are not implemented yet\nexit\n';
}

/** A node's installer file of one kind (preseed, kickstart, user-data, meta-data). */
export function renderInstallFile(_ctx: AppContext, _node: StoredNode, kind: string): RenderedFile {
  throw new Error(`rendering ${kind} is not implemented yet`);
}
