// pxelinux.cfg files for the TFTP service, from the same boot plan as /boot.ipxe.
import type { AppContext } from '../context.ts';
import { pxelinuxConfigFor } from './boot-script.ts';

/** pxelinux.cfg/01-<mac> (mac given) or pxelinux.cfg/default (mac null): local disk by default. */
export function renderPxelinuxConfig(ctx: AppContext, mac: string | null): string {
  return pxelinuxConfigFor(ctx, mac);
}
