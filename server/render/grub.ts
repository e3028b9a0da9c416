// GRUB configs for the Secure Boot path (shimx64.efi -> grubnetx64.efi from Debian's signed packages), from
// the same boot plan: install (kernel and initrd over TFTP, as pxelinux) or `exit` (back to the firmware,
// which boots the disk). GRUB splits commands at `;`, so words carrying one are single-quoted.
import type { AppContext } from '../context.ts';
import { isMac, normalizeMac } from '../domain/mac.ts';
import { tftpInstallEntry } from './boot-script.ts';
import { engineFor } from './engine.ts';
import { displayText } from './helpers.ts';

/** One GRUB word: plain when it has no GRUB metacharacters, else single-quoted (kernelArg refused quotes already). */
export function grubWord(word: string): string {
  return /^[A-Za-z0-9_.,:\/=+@%-]+$/.test(word) ? word : `'${word}'`;
}

/** grub/grub.cfg: reads the machine's own config by its MAC (GRUB's $net_default_mac), else boots the disk. */
export function renderGrubDefault(ctx: AppContext): string {
  return engineFor(ctx.config.templatesDir).render('grub/default.cfg.hbs', { reason: 'GRUB did not learn its MAC address from the network: booting the local disk' });
}

/** grub/grub.cfg-01-<mac>: the boot plan for that machine (install, or `exit` to the firmware's next boot device). */
export function renderGrubConfig(ctx: AppContext, macInput: string | null): string {
  const engine = engineFor(ctx.config.templatesDir);
  if (macInput === null || !isMac(macInput)) return engine.render('grub/local.cfg.hbs', { mac: 'unknown', reason: 'no per-machine configuration' });
  const mac = normalizeMac(macInput);
  const plan = ctx.services.boot.planFor({ mac, archCode: 7, vendorClass: 'PXEClient:Arch:00007' });
  if (plan.target.kind === 'install' && plan.node) {
    try {
      const entry = tftpInstallEntry(ctx, plan.node, mac, (args) => args.split(' ').map(grubWord).join(' '));
      if (entry) return engine.render('grub/install.cfg.hbs', entry);
    } catch (error) {
      ctx.store.events.append({ nodeId: plan.node.id, mac, kind: 'render-failed', message: `grub config: ${(error as Error).message}`, actor: 'tftp' });
      return engine.render('grub/local.cfg.hbs', { mac, reason: displayText(`cannot install: ${(error as Error).message}`) });
    }
  }
  const reason = plan.target.kind === 'install' ? 'the profile loads its kernel from a URL' : plan.target.reason;
  return engine.render('grub/local.cfg.hbs', { mac, reason: displayText(reason) });
}
