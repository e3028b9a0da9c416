// The one typed context every installer template is rendered from. Built from the store and the config, and
// re-validated here (defence in depth: the store only holds values that passed the edge, but a hand-edited
// database or profile must not turn into a command in a late_command).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createHmac } from 'node:crypto';
import { subnetFor } from '../domain/address-plan.ts';
import { formatIpv4, netmaskOf, parseIpv4 } from '../domain/ipv4.ts';
import type { OsProfile } from '../domain/types.ts';
import { hostnameSchema, ipv4Schema, macSchema } from '../domain/validation.ts';
import type { AppContext } from '../context.ts';
import type { StoredNode } from '../store/nodes.ts';
import { sha512Crypt } from './sha512-crypt.ts';

export class RenderError extends Error {
  readonly code = 'render_failed';
}

export interface MirrorParts {
  url: string;
  protocol: 'http' | 'https';
  host: string;
  directory: string;
}

export interface RenderContext {
  node: {
    id: number;
    mac: string;
    hostname: string;
    /** First label of the hostname. */
    shortname: string;
    domain: string;
    fqdn: string;
    roles: string[];
    generation: number;
    disks: string[];
    /** Interface the installer should use: the management interface name, else `auto`. */
    installInterface: string;
  };
  network: {
    /** static when the node has a reserved management address inside a served subnet. */
    mode: 'static' | 'dhcp';
    address: string | null;
    prefix: number | null;
    netmask: string | null;
    gateway: string | null;
    nameservers: string[];
  };
  profile: {
    name: string;
    family: OsProfile['family'];
    release: string;
    installer: OsProfile['installer'];
    mirror: MirrorParts;
    /** Where the installer finds packages or the install tree: an imported tree on the appliance, else the mirror. */
    installSource: string;
    /** Ubuntu live-server ISO on the appliance, when imported. */
    isoUrl: string | null;
  };
  cluster: {
    timezone: string;
    ntp: string[];
    /** HTTP proxy installers use (config.http.packageProxy), or null. */
    packageProxy: string | null;
  };
  appliance: {
    url: string;
    sshPublicKey: string;
    /** `${url}/install/<token>`; every callback and installer file hangs below it. */
    installBase: string;
    startedUrl: string;
    /** The shared finish script (snippets/finish.sh.hbs), for installers that fetch it (Preseed). */
    finishUrl: string;
    doneUrl: string;
    failedUrl: string;
  };
  secrets: {
    rootPasswordHash: string;
  };
}

const TIMEZONE = /^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+){0,2}$/;
const SSH_PUBLIC_KEY = /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/]+={0,3}( [A-Za-z0-9@._-]{1,64})?$/;
const URL_SAFE = /^https?:\/\/[A-Za-z0-9.:\[\]-]+(\/[A-Za-z0-9._~%\/-]*)?$/;

export function isSshPublicKeyLine(value: string): boolean {
  return SSH_PUBLIC_KEY.test(value) && value.length <= 16_384;
}

/** A URL that may appear unquoted in a kernel command line, a Preseed or a shell word. */
export function safeUrl(value: string, what: string): string {
  const trimmed = value.replace(/\/+$/, '');
  if (!URL_SAFE.test(trimmed)) throw new RenderError(`${what} ${JSON.stringify(value)} is not a plain http(s) URL (letters, digits, . - _ ~ / only)`);
  return trimmed;
}

function mirrorParts(url: string): MirrorParts {
  const clean = safeUrl(url, 'mirror URL');
  const parsed = new URL(clean);
  return {
    url: clean,
    protocol: parsed.protocol === 'https:' ? 'https' : 'http',
    host: parsed.host,
    directory: parsed.pathname.replace(/\/+$/, '') || '/',
  };
}

function checked<T>(schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: { issues: { message: string }[] } } }, value: unknown, what: string): T {
  const result = schema.safeParse(value);
  if (!result.success) throw new RenderError(`${what} ${JSON.stringify(value)}: ${result.error.issues[0]?.message ?? 'invalid'}`);
  return result.data;
}

const passwordHashCache = new Map<string, string>();

/**
 * The cluster's root password as a SHA-512 crypt hash. The password itself is a generated appliance secret
 * (in the store only); the salt is derived from it, so the hash is stable and computed once per process.
 */
export function rootPasswordHash(ctx: AppContext): string {
  const password = ctx.store.secrets.getOrCreate('root-password');
  let hash = passwordHashCache.get(password);
  if (!hash) {
    const salt = createHmac('sha256', password).update('racklift root salt').digest('base64').replace(/[^A-Za-z0-9]/g, '.').slice(0, 16);
    hash = sha512Crypt(password, salt);
    passwordHashCache.set(password, hash);
  }
  return hash;
}

function networkFor(ctx: AppContext, node: StoredNode): RenderContext['network'] {
  const address = node.addresses.management ? checked(ipv4Schema, node.addresses.management, 'management address') : null;
  const served = address ? subnetFor(ctx.services.addressPlan, parseIpv4(address)) : null;
  if (!address || !served) {
    return { mode: 'dhcp', address: null, prefix: null, netmask: null, gateway: null, nameservers: [] };
  }
  return {
    mode: 'static',
    address,
    prefix: served.subnet.prefix,
    netmask: netmaskOf(served.subnet),
    gateway: served.gateway === null ? null : formatIpv4(served.gateway),
    nameservers: served.dns.map(formatIpv4),
  };
}

/** The install source of a profile: boot/<name>/tree when `racklift os import` placed one, else its mirror. */
function installSourceOf(ctx: AppContext, profile: OsProfile, mirror: MirrorParts): { installSource: string; isoUrl: string | null } {
  const base = `${ctx.config.publicUrl}/boot/${profile.name}`;
  const iso = join(ctx.config.bootDir, profile.name, 'install.iso');
  const tree = join(ctx.config.bootDir, profile.name, 'tree');
  return {
    installSource: existsSync(tree) ? `${base}/tree` : mirror.url,
    isoUrl: existsSync(iso) ? `${base}/install.iso` : null,
  };
}

export function buildRenderContext(ctx: AppContext, node: StoredNode, profile: OsProfile, token: string): RenderContext {
  const hostname = checked(hostnameSchema, node.hostname ?? '', 'hostname');
  const settings = ctx.store.cluster.get().settings;
  const configuredDomain = settings.domain ?? ctx.config.provisioning.domain;
  const [shortname, ...rest] = hostname.split('.');
  const domain = rest.length > 0 ? rest.join('.') : checked(hostnameSchema, configuredDomain, 'cluster domain');
  const timezone = String(settings.timezone ?? 'Etc/UTC');
  if (!TIMEZONE.test(timezone)) throw new RenderError(`cluster timezone ${JSON.stringify(timezone)} is not a zone name such as Europe/Berlin`);
  const ntpSetting = settings.ntp;
  const ntp = (Array.isArray(ntpSetting) ? ntpSetting : ctx.config.provisioning.ntp).map((server) => checked(hostnameSchema, server, 'NTP server'));
  const sshPublicKey = ctx.services.sshIdentity().publicKey;
  if (!isSshPublicKeyLine(sshPublicKey)) throw new RenderError('the appliance SSH public key is not one authorized_keys line');
  const url = safeUrl(ctx.config.publicUrl, 'public URL');
  // Live tokens are 32 base64url characters; previews use stand-ins of the same alphabet.
  if (!/^[A-Za-z0-9_-]{8,64}$/.test(token)) throw new RenderError('install token has an unexpected shape');
  const installBase = `${url}/install/${token}`;
  const mirror = mirrorParts(profile.mirrorUrl);
  const interfaceName = node.interfaces.management ?? 'auto';
  if (!/^[a-zA-Z0-9._-]{1,15}$/.test(interfaceName)) throw new RenderError(`management interface ${JSON.stringify(interfaceName)} is not an interface name`);
  return {
    node: {
      id: node.id,
      mac: checked(macSchema, node.mac, 'MAC'),
      hostname,
      shortname: shortname!,
      domain,
      fqdn: `${shortname}.${domain}`,
      roles: [...node.roles],
      generation: node.generation,
      disks: node.disks.map((disk) => {
        if (!/^[a-zA-Z0-9][a-zA-Z0-9/_.:-]{0,127}$/.test(disk) || disk.split('/').includes('..')) throw new RenderError(`disk ${JSON.stringify(disk)} is not a device name`);
        return disk;
      }),
      installInterface: interfaceName,
    },
    network: networkFor(ctx, node),
    profile: {
      name: profile.name,
      family: profile.family,
      release: profile.release,
      installer: profile.installer,
      mirror,
      ...installSourceOf(ctx, profile, mirror),
    },
    cluster: {
      timezone,
      ntp,
      packageProxy: ctx.config.http.packageProxy ? safeUrl(ctx.config.http.packageProxy, 'package proxy') + '/' : null,
    },
    appliance: {
      url,
      sshPublicKey,
      installBase,
      startedUrl: `${installBase}/started`,
      finishUrl: `${installBase}/finish.sh`,
      doneUrl: `${installBase}/done`,
      failedUrl: `${installBase}/failed`,
    },
    secrets: { rootPasswordHash: rootPasswordHash(ctx) },
  };
}
