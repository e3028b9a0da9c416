// `racklift doctor`: can this appliance boot machines now? Each check gives plain lines: ok, FAIL (the
// appliance cannot boot some machine, and what to do), or a note. Boot files are judged by the same rule and
// the same generated names TFTP and HTTP serve with; the mirror is asked what installers will ask.
import { networkInterfaces } from 'node:os';
import { existsSync, openSync, readSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import type { AppContext } from '../context.ts';
import { BOOT_FILES } from '../boot-files/catalog.ts';
import { bootFileRoot, unservable } from '../boot-files/check.ts';
import { BootFiles } from '../boot-files/files.ts';
import { probePackageCache } from '../package-cache/service.ts';
import { PowerService } from '../power/service.ts';
import type { OsProfile } from '../domain/types.ts';
import { listenersOn } from './ports.ts';
import { checkDebianInstallerMirror, fetchThrough, kernelRelease } from './mirror.ts';

export type Verdict = 'ok' | 'fail' | 'note';
export interface DoctorLine {
  verdict: Verdict;
  subject: string;
  text: string;
}

const ok = (subject: string, text: string): DoctorLine => ({ verdict: 'ok', subject, text });
const fail = (subject: string, text: string): DoctorLine => ({ verdict: 'fail', subject, text });
const note = (subject: string, text: string): DoctorLine => ({ verdict: 'note', subject, text });

/** Debian and Ubuntu release -> suite (dists/<suite>) for the mirror checks. */
const SUITES: Record<string, string> = {
  'debian:11': 'bullseye', 'debian:12': 'bookworm', 'debian:13': 'trixie',
  'ubuntu:14.04': 'trusty', 'ubuntu:20.04': 'focal', 'ubuntu:22.04': 'jammy', 'ubuntu:24.04': 'noble',
};

export async function checkBootFiles(ctx: AppContext): Promise<DoctorLine[]> {
  const root = bootFileRoot(ctx);
  const lines: DoctorLine[] = [];
  const names = [...BOOT_FILES.map((entry) => entry.file), ...(ctx.config.dhcp.arm64Loader ? [ctx.config.dhcp.arm64Loader] : [])];
  const missing: string[] = [];
  for (const name of names) {
    const reason = await unservable(root, name);
    if (!reason) continue;
    const entry = BOOT_FILES.find((e) => e.file === name);
    missing.push(name);
    const fix = !entry
      ? 'place it under the boot dir or unset dhcp.arm64Loader'
      : existsSync(entry.source)
        ? `run racklift setup (it links ${entry.source})`
        : `install the Debian package ${entry.debianPackage}, then run racklift setup`;
    lines.push(fail(`boot file ${name}`, `not servable (${reason}): ${fix}`));
  }
  const files = new BootFiles(ctx);
  for (const generated of ['pxelinux.cfg/default', 'grub/grub.cfg']) {
    try {
      await files.open(generated, 'tftp');
    } catch (error) {
      missing.push(generated);
      lines.push(fail(`boot file ${generated}`, `cannot be generated: ${(error as Error).message}`));
    }
  }
  if (missing.length === 0) lines.push(ok('boot files', `all ${names.length} loaders and modules, and the generated pxelinux and GRUB configs, are servable over TFTP and HTTP from ${ctx.config.bootDir}`));
  return lines;
}

export function checkInterface(ctx: AppContext): DoctorLine[] {
  const p = ctx.config.provisioning;
  if (!p.interface) {
    return [fail('provisioning interface', 'none configured: DHCP and TFTP are off, so no machine can network-boot from here (set provisioning.interface, .address, .subnet and .pool in racklift.yaml)')];
  }
  const found = networkInterfaces()[p.interface];
  if (!found) return [fail('provisioning interface', `${p.interface} does not exist on this machine`)];
  const addresses = found.filter((a) => a.family === 'IPv4').map((a) => a.address);
  if (!addresses.includes(p.address!)) return [fail('provisioning interface', `${p.interface} does not carry ${p.address} (it has ${addresses.join(', ') || 'no IPv4 address'})`)];
  return [ok('provisioning interface', `${p.interface} carries ${p.address}; DHCP ${ctx.config.dhcpEnabled ? `on (${ctx.config.dhcp.mode})` : 'off'}, TFTP ${ctx.config.tftpEnabled ? 'on' : 'off'}`)];
}

export function checkPorts(ctx: AppContext): DoctorLine[] {
  const { config } = ctx;
  const wanted: { protocol: 'udp' | 'tcp'; port: number; what: string; owner: RegExp }[] = [];
  const ours = /racklift.*\bserve\b/;
  if (config.dhcpEnabled) wanted.push({ protocol: 'udp', port: config.dhcp.port, what: 'DHCP', owner: ours });
  if (config.dhcpEnabled && config.dhcp.mode === 'proxy') wanted.push({ protocol: 'udp', port: config.dhcp.proxyPort, what: 'proxyDHCP', owner: ours });
  if (config.tftpEnabled) wanted.push({ protocol: 'udp', port: config.tftp.port, what: 'TFTP', owner: ours });
  if (config.http.port !== 0) wanted.push({ protocol: 'tcp', port: config.http.port, what: 'HTTP', owner: ours });
  if (config.http.tls.enabled && config.http.tls.port !== 0) wanted.push({ protocol: 'tcp', port: config.http.tls.port, what: 'HTTPS', owner: ours });
  if (config.packageCacheEnabled) wanted.push({ protocol: 'tcp', port: config.packageCache.port, what: 'package cache', owner: /apt-cacher-ng/ });
  const isRoot = process.getuid?.() === 0;
  return wanted.map(({ protocol, port, what, owner }) => {
    const subject = `port ${port}/${protocol} (${what})`;
    if (port < 1024 && !isRoot) return fail(subject, 'needs root (or CAP_NET_BIND_SERVICE) to listen on');
    const listeners = listenersOn(protocol, port);
    if (listeners.length === 0) return ok(subject, 'free');
    const strangers = listeners.filter((l) => !owner.test(l.command ?? ''));
    if (strangers.length === 0) return ok(subject, `ours: ${[...new Set(listeners.map((l) => `pid ${l.pid} ${l.command}`.slice(0, 80)))].join(', ')}`);
    return fail(subject, `taken by ${strangers.map((l) => (l.pid ? `pid ${l.pid} (${(l.command ?? '?').slice(0, 60)})` : `a process this user cannot see (${l.address})`)).join(', ')}`);
  });
}

function profilesInUse(ctx: AppContext): Set<string> {
  return new Set(ctx.store.nodes.list().filter((n) => n.profile && (n.state === 'assigned' || n.state === 'installing')).map((n) => n.profile!));
}

/** Profiles the doctor holds to account: imported ones, and those a node is about to install. */
export function relevantProfiles(ctx: AppContext): OsProfile[] {
  const used = profilesInUse(ctx);
  const imported = ctx.store.profiles.imported();
  return ctx.store.profiles.list().filter((p) => used.has(p.name) || imported.has(p.name) || existsSync(join(ctx.config.bootDir, p.kernel)));
}

export async function checkProfiles(ctx: AppContext): Promise<DoctorLine[]> {
  const root = bootFileRoot(ctx);
  const relevant = new Set(relevantProfiles(ctx).map((p) => p.name));
  const used = profilesInUse(ctx);
  const lines: DoctorLine[] = [];
  for (const profile of ctx.store.profiles.list()) {
    const subject = `profile ${profile.name}`;
    if (!relevant.has(profile.name)) {
      lines.push(note(subject, `not imported (racklift os import ${profile.name}${profile.family === 'debian' && profile.release === '12' ? '' : ' --from <iso or tree>'})`));
      continue;
    }
    const problems: string[] = [];
    for (const path of [profile.kernel, profile.initrd]) {
      if (/^https?:\/\//.test(path)) continue;
      const reason = await unservable(root, path);
      if (reason) problems.push(`boot/${path}: ${reason}`);
    }
    const usedBy = used.has(profile.name) ? ' (nodes are assigned to it)' : '';
    lines.push(problems.length > 0 ? fail(subject, `${problems.join('; ')}${usedBy}: racklift os import ${profile.name}`) : ok(subject, `kernel and initrd servable (boot/${profile.kernel}, boot/${profile.initrd})${usedBy}`));
  }
  return lines;
}

function readHead(path: string, bytes: number): Buffer | null {
  try {
    const fd = openSync(path, 'r');
    try {
      const buffer = Buffer.alloc(bytes);
      const n = readSync(fd, buffer, 0, bytes, 0);
      return buffer.subarray(0, n);
    } finally {
      closeSync(fd);
    }
  } catch {
    return null;
  }
}

/** The proxy the mirror checks go through: the operator's, or the appliance's cache when it answers. */
async function mirrorPath(ctx: AppContext): Promise<{ proxy: string | null; how: string; lines: DoctorLine[] }> {
  const { config } = ctx;
  const proxy = config.http.packageProxy;
  if (!proxy) return { proxy: null, how: 'direct (no package proxy)', lines: [] };
  if (!config.packageCacheEnabled) return { proxy, how: `through ${proxy}`, lines: [] };
  const answered = await probePackageCache(proxy);
  if (answered === 'apt-cacher-ng') return { proxy, how: `through the package cache ${proxy}`, lines: [ok('package cache', `apt-cacher-ng answers on ${proxy}`)] };
  if (!existsSync(config.packageCache.binary)) {
    return { proxy: null, how: 'direct', lines: [fail('package cache', `${config.packageCache.binary} is missing (Debian package apt-cacher-ng): installers are handed ${proxy}, which will not answer`)] };
  }
  return { proxy: null, how: 'direct: the package cache is not running yet (racklift serve starts it)', lines: [note('package cache', `racklift serve starts apt-cacher-ng on ${proxy}; installers and image builds fetch through it`)] };
}

export async function checkMirrors(ctx: AppContext): Promise<DoctorLine[]> {
  const { proxy, how, lines } = await mirrorPath(ctx);
  const done = new Set<string>();
  for (const profile of relevantProfiles(ctx)) {
    const subject = `mirror for ${profile.name}`;
    const mirror = profile.mirrorUrl.replace(/\/+$/, '');
    if (profile.family === 'rhel') {
      const repomd = await fetchThrough(`${mirror}/repodata/repomd.xml`, proxy);
      lines.push(repomd.status === 200 ? ok(subject, `${mirror} answers for repodata/repomd.xml, ${how}`) : fail(subject, `${mirror}/repodata/repomd.xml: ${repomd.status ?? repomd.error}, ${how}`));
      continue;
    }
    const suite = SUITES[`${profile.family}:${profile.release}`];
    if (!suite) {
      lines.push(note(subject, `no suite known for ${profile.family} ${profile.release}: not checked`));
      continue;
    }
    if (done.has(`${mirror} ${suite}`)) continue;
    done.add(`${mirror} ${suite}`);
    const kernel = /^https?:/.test(profile.kernel) ? null : readHead(join(ctx.config.bootDir, profile.kernel), 64 * 1024);
    const abi = kernel ? kernelRelease(kernel) : null;
    const report = await checkDebianInstallerMirror(mirror, suite, profile.installer === 'preseed' ? abi : null, proxy);
    const badIndexes = report.indexes.filter((f) => f.status !== 200);
    if (badIndexes.length > 0) {
      lines.push(fail(subject, `${mirror} (${how}) does not serve ${badIndexes.map((f) => `${f.url.replace(`${mirror}/`, '')} (${f.status ?? f.error})`).join(', ')}`));
      continue;
    }
    if (profile.installer !== 'preseed') {
      lines.push(ok(subject, `${mirror} answers for the ${suite} indexes, ${how}`));
      continue;
    }
    const answered = report.components.filter((c) => c.fetched?.status === 200);
    const refused = report.components.filter((c) => c.fetched?.status !== 200);
    const sample = `${answered.length} of ${report.components.length} installer components (.udeb) answer`;
    if (refused.length === 0) {
      lines.push(ok(subject, `${mirror} answers for the ${suite} indexes and ${sample}, ${how}`));
    } else {
      const names = refused.map((c) => `${c.name} (${c.fetched ? (c.fetched.status ?? c.fetched.error) : 'not in the index'})`).join(', ');
      lines.push(fail(subject, `${mirror} answers for the ${suite} indexes, but only ${sample}, ${how}; missing: ${names}. The mirror serves main/debian-installer only in part: the netboot installer will stop at "Loading additional components" (use a full mirror or a package proxy that reaches one)`));
    }
  }
  return lines;
}

export async function checkBmcs(ctx: AppContext): Promise<DoctorLine[]> {
  const withBmc = ctx.store.nodes.list().filter((n) => n.bmc);
  if (withBmc.length === 0) return [note('BMCs', 'none configured')];
  const power = new PowerService(ctx.store, ctx.services.nodes, { timeoutMs: 10_000, log: ctx.log });
  const outcomes = await Promise.all(withBmc.map((node) => power.status(node.id, 'doctor').then((outcome) => ({ node, outcome }))));
  return outcomes.map(({ node, outcome }) =>
    outcome.ok ? ok(`BMC of ${node.hostname ?? node.mac}`, `${node.bmc!.driver} ${node.bmc!.address} answers: ${outcome.message}`) : fail(`BMC of ${node.hostname ?? node.mac}`, `${node.bmc!.driver} ${node.bmc!.address}: ${outcome.message}`),
  );
}

export async function runDoctor(ctx: AppContext): Promise<DoctorLine[]> {
  return [
    ...(await checkBootFiles(ctx)),
    ...checkInterface(ctx),
    ...checkPorts(ctx),
    ...(await checkProfiles(ctx)),
    ...(await checkMirrors(ctx)),
    ...(await checkBmcs(ctx)),
  ];
}

export function formatDoctor(lines: DoctorLine[]): string {
  const mark = { ok: 'ok  ', fail: 'FAIL', note: '  - ' } as const;
  const failures = lines.filter((l) => l.verdict === 'fail').length;
  const body = lines.map((l) => `${mark[l.verdict]}  ${l.subject}: ${l.text}`).join('\n');
  const verdict = failures === 0 ? 'racklift doctor: this appliance can boot machines' : `racklift doctor: ${failures} problem${failures === 1 ? '' : 's'}: this appliance cannot boot machines yet`;
  return `${body}\n${verdict}\n`;
}
