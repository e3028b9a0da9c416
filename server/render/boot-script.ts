// The boot plan as bytes for the two script-driven loaders: an iPXE script (/boot.ipxe) and a pxelinux
// config (pxelinux.cfg/01-<mac>). Both come from the same plan and the same kernel-argument templates, so the
// HTTP and the TFTP path cannot disagree about what a machine gets.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { AppContext } from '../context.ts';
import type { BootTarget } from '../domain/boot-plan.ts';
import { isMac, normalizeMac } from '../domain/mac.ts';
import type { OsProfile } from '../domain/types.ts';
import type { StoredNode } from '../store/nodes.ts';
import { buildRenderContext, RenderError, safeUrl, type RenderContext } from './context.ts';
import { engineFor } from './engine.ts';
import { displayText, kernelArgWords } from './helpers.ts';

export const DISCOVER_RETRY_SECONDS = 30;
export const ERROR_RETRY_SECONDS = 60;
/** Consoles when a profile names none: VGA and the first serial port, serial last so the installer UI is on it (SOL, qemu). */
export const DEFAULT_CONSOLE_ARGS = 'console=tty0 console=ttyS0,115200n8';

export interface InstallBoot {
  node: StoredNode;
  profile: OsProfile;
  context: RenderContext;
  /** Paths under boot/ (or absolute URLs) of the kernel and initrd. */
  kernel: string;
  initrd: string;
  kernelArgs: string;
}

export interface BootScriptResult {
  script: string;
  node: StoredNode | null;
  target: BootTarget['kind'] | 'error';
  /** The reason shown to the machine: why it boots locally, waits, or cannot boot. */
  reason: string;
}

function fileUrl(ctx: AppContext, path: string): string {
  return /^https?:\/\//.test(path) ? safeUrl(path, 'boot file URL') : `${safeUrl(ctx.config.publicUrl, 'public URL')}/boot/${path}`;
}

function checkBootFile(ctx: AppContext, profile: OsProfile, path: string, what: string): void {
  if (/^https?:\/\//.test(path)) return;
  if (path.split('/').some((part) => part === '..' || part === '') || !/^[A-Za-z0-9._\/-]+$/.test(path)) {
    throw new RenderError(`profile ${profile.name}: ${what} path ${JSON.stringify(path)} is not a plain path under boot/`);
  }
  if (!existsSync(join(ctx.config.bootDir, path))) {
    throw new RenderError(`profile ${profile.name}: ${what} boot/${path} is missing; run: racklift os import ${profile.name}`);
  }
}

/** Splits a profile's kernelArgs into its console arguments and the rest; consoles default when it names none. */
function splitConsoleArgs(kernelArgs: string): { consoleArgs: string; otherArgs: string } {
  const words = kernelArgWords(kernelArgs);
  const consoles = words.filter((word) => word.startsWith('console='));
  return {
    consoleArgs: consoles.length > 0 ? consoles.join(' ') : DEFAULT_CONSOLE_ARGS,
    otherArgs: words.filter((word) => !word.startsWith('console=')).join(' '),
  };
}

/** Everything an install boot needs, for a node whose plan target is install. Throws RenderError with the reason. */
export function installBootFor(ctx: AppContext, node: StoredNode, tokenOverride?: string): InstallBoot {
  if (!node.profile) throw new RenderError(`node ${node.hostname ?? node.mac} has no OS profile`);
  const profile = ctx.store.profiles.get(node.profile);
  if (!profile) throw new RenderError(`node ${node.hostname ?? node.mac}: OS profile ${node.profile} does not exist (racklift os list)`);
  const token = tokenOverride ?? ctx.services.nodes.installTokenOf(node);
  if (!token) throw new RenderError(`node ${node.hostname ?? node.mac} is ${node.state}: it has no live install token`);
  checkBootFile(ctx, profile, profile.kernel, 'kernel');
  checkBootFile(ctx, profile, profile.initrd, 'initrd');
  const context = buildRenderContext(ctx, node, profile, token);
  if (profile.installer === 'autoinstall' && !context.profile.isoUrl) {
    throw new RenderError(`profile ${profile.name}: no live-server ISO at boot/${profile.name}/install.iso; run: racklift os import ${profile.name} --from <iso>`);
  }
  const { consoleArgs, otherArgs } = splitConsoleArgs(profile.kernelArgs);
  const network = context.network;
  const rendered = engineFor(ctx.config.templatesDir).render(`kernel-args/${profile.installer}.hbs`, {
    ...context,
    bootif: `01-${context.node.mac.replace(/:/g, '-')}`,
    staticInstaller: network.mode === 'static' && network.gateway !== null && network.nameservers.length > 0,
    firstNameserver: network.nameservers[0] ?? null,
    profileArgs: otherArgs,
    consoleArgs,
  });
  return { node, profile, context, kernel: profile.kernel, initrd: profile.initrd, kernelArgs: kernelArgWords(rendered.replace(/\s+/g, ' ')).join(' ') };
}

function scriptUrl(ctx: AppContext, mac: string): string {
  return `${safeUrl(ctx.config.publicUrl, 'public URL')}/boot.ipxe?mac=${mac}`;
}

function renderIpxe(ctx: AppContext, name: string, values: Record<string, unknown>): string {
  return engineFor(ctx.config.templatesDir).render(`ipxe/${name}.ipxe.hbs`, values);
}

/** The iPXE script for a MAC, with what was decided; never throws (a failure becomes a script that says why). */
export function bootScriptFor(ctx: AppContext, macInput: string): BootScriptResult {
  if (!isMac(macInput)) {
    const reason = `the boot script was asked for ${JSON.stringify(displayText(macInput).slice(0, 40))}, which is not a MAC address`;
    return { script: errorScript(ctx, null, reason), node: null, target: 'error', reason };
  }
  const mac = normalizeMac(macInput);
  let node: StoredNode | null = null;
  try {
    const plan = ctx.services.boot.planFor({ mac, userClass: 'iPXE' });
    node = plan.node;
    const target = plan.target;
    if (target.kind === 'local') {
      return { script: renderIpxe(ctx, 'local', { mac, reason: displayText(target.reason) }), node, target: 'local', reason: target.reason };
    }
    if (target.kind === 'discover') {
      const script = renderIpxe(ctx, 'discover', { mac, reason: displayText(target.reason), retrySeconds: DISCOVER_RETRY_SECONDS, scriptUrl: scriptUrl(ctx, mac) });
      return { script, node, target: 'discover', reason: target.reason };
    }
    const boot = installBootFor(ctx, node!);
    const initrdName = boot.initrd.split('/').pop()!.replace(/[^A-Za-z0-9._-]/g, '_');
    const script = renderIpxe(ctx, 'install', {
      mac,
      hostname: boot.context.node.hostname,
      profile: boot.profile.name,
      generation: node!.generation,
      kernelUrl: fileUrl(ctx, boot.kernel),
      initrdUrl: fileUrl(ctx, boot.initrd),
      initrdName,
      kernelArgs: boot.kernelArgs,
      applianceUrl: boot.context.appliance.url,
      scriptUrl: scriptUrl(ctx, mac),
    });
    return { script, node, target: 'install', reason: `install ${boot.profile.name}, generation ${node!.generation}` };
  } catch (error) {
    const reason = (error as Error).message;
    return { script: errorScript(ctx, mac, reason), node, target: 'error', reason };
  }
}

/** The script that prints why a machine cannot boot; built without templates so it works when they are broken. */
function errorScript(ctx: AppContext, mac: string | null, reason: string): string {
  const text = displayText(reason);
  try {
    if (mac) return renderIpxe(ctx, 'error', { mac, reason: text, retrySeconds: ERROR_RETRY_SECONDS, scriptUrl: scriptUrl(ctx, mac) });
  } catch {
    /* fall through to the built-in script */
  }
  const retry = mac ? `sleep ${ERROR_RETRY_SECONDS}\nchain --replace --autofree ${scriptUrl(ctx, mac)}\n` : 'exit\n';
  return `#!ipxe\necho racklift: cannot boot ${mac ?? 'this machine'}: ${text}\n${retry}`;
}

/** pxelinux.cfg/01-<mac> from the plan, or pxelinux.cfg/default (mac null): local disk unless installing. */
export function pxelinuxConfigFor(ctx: AppContext, macInput: string | null): string {
  const engine = engineFor(ctx.config.templatesDir);
  const defaultConfig = (reason: string) =>
    engine.render('pxelinux/default.cfg.hbs', { timeoutTenths: 900, reason: displayText(reason), discover: ctx.config.boot.autoEnrol });
  if (macInput === null || !isMac(macInput)) {
    return defaultConfig(ctx.config.boot.autoEnrol ? 'Not assigned yet: enrol it in racklift, then boot again' : 'Unknown machine: register it in racklift to install it');
  }
  const mac = normalizeMac(macInput);
  const plan = ctx.services.boot.planFor({ mac, vendorClass: 'PXEClient:Arch:00000', archCode: 0 });
  if (plan.target.kind === 'install' && plan.node) {
    try {
      const entry = tftpInstallEntry(ctx, plan.node, mac, (args) => args);
      if (!entry) throw new RenderError(`profile ${plan.node.profile}: pxelinux loads its kernel over TFTP, but the profile names a URL`);
      return engine.render('pxelinux/install.cfg.hbs', entry);
    } catch (error) {
      ctx.store.events.append({ nodeId: plan.node.id, mac, kind: 'render-failed', message: `pxelinux config: ${(error as Error).message}`, actor: 'tftp' });
      return engine.render('pxelinux/local.cfg.hbs', { mac, reason: displayText(`cannot install: ${(error as Error).message}`) });
    }
  }
  if (plan.target.kind === 'discover') return defaultConfig(plan.target.reason);
  const reason = plan.target.kind === 'local' ? plan.target.reason : 'install target without a node';
  return engine.render('pxelinux/local.cfg.hbs', { mac, reason: displayText(reason) });
}

/**
 * The values of an install entry whose kernel and initrd are loaded over TFTP (pxelinux, GRUB), with the kernel
 * arguments in the loader's own quoting; null when the profile names its kernel or initrd by URL.
 */
export function tftpInstallEntry(ctx: AppContext, node: StoredNode, mac: string, quoteArgs: (kernelArgs: string) => string) {
  const boot = installBootFor(ctx, node);
  if (/^https?:\/\//.test(boot.kernel) || /^https?:\/\//.test(boot.initrd)) return null;
  return {
    mac,
    hostname: boot.context.node.hostname,
    profile: boot.profile.name,
    generation: node.generation,
    kernelPath: boot.kernel,
    initrdPath: boot.initrd,
    kernelArgs: quoteArgs(boot.kernelArgs),
  };
}
