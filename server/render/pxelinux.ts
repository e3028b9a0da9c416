// Placeholder: the HTTP boot issue replaces this with the real per-node pxelinux config from the boot plan.
import type { AppContext } from '../context.ts';

/** pxelinux.cfg/01-<mac> (mac given) or pxelinux.cfg/default (mac null): local disk by default. */
export function renderPxelinuxConfig(_ctx: AppContext, _mac: string | null): string {
  return 'DEFAULT local\nLABEL local\n  LOCALBOOT 0\n';
}
