// One validated configuration object: defaults that run on a laptop, then racklift.yaml (--config or
// RACKLIFT_CONFIG), then RACKLIFT_* environment overrides. A bad value names its key and the reason.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { isIpv4, parseCidr } from './domain/ipv4.ts';

/** The checkout: shipped directories (templates, bootstrap, web) resolve from here, not from the cwd. */
export const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const ipv4 = z.string().refine(isIpv4, 'not an IPv4 address');
const cidr = z.string().refine((value) => {
  try {
    parseCidr(value);
    return true;
  } catch {
    return false;
  }
}, 'not a CIDR subnet such as 10.20.0.0/24');
const port = z.coerce.number().int().min(1).max(65535);
/** A port to listen on; 0 picks a free one (tests, the lab). */
const listenPort = z.coerce.number().int().min(0).max(65535);
const flag = z.preprocess((value) => (value === 'true' || value === '1' ? true : value === 'false' || value === '0' ? false : value), z.boolean());

const poolSchema = z.object({ start: ipv4, end: ipv4 }).strict();

const subnetSchema = z
  .object({
    subnet: cidr,
    gateway: ipv4.optional(),
    dns: z.array(ipv4).default([]),
    pool: poolSchema.optional(),
  })
  .strict();

const configSchema = z
  .object({
    dataDir: z.string().min(1).default('./var'),
    bootDir: z.string().min(1).default('./boot'),
    templatesDir: z.string().min(1).default('./templates'),
    bootstrapDir: z.string().min(1).default('./bootstrap'),
    webDir: z.string().min(1).default('./web'),
    log: z.object({ level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info') }).strict().default({ level: 'info' }),
    http: z
      .object({
        host: z.string().default('0.0.0.0'),
        port: listenPort.default(8080),
        /** URL booting machines use to reach the appliance; derived from provisioning.address when unset. */
        publicUrl: z.url({ message: 'must be an http:// URL' }).nullable().default(null),
        /**
         * The HTTP proxy installers and image builds fetch packages through. Unset: the appliance's own package
         * cache (packageCache) when it runs; set: that proxy, and the appliance starts no cache of its own.
         */
        packageProxy: z.url().nullable().default(null),
        /**
         * HTTPS for the web form and the API (boot and installer routes stay on plain HTTP at `port`, for
         * firmware without TLS). Without certFile/keyFile a self-signed certificate is made at first start.
         */
        tls: z
          .object({
            enabled: flag.default(true),
            port: listenPort.default(8443),
            certFile: z.string().min(1).nullable().default(null),
            keyFile: z.string().min(1).nullable().default(null),
          })
          .strict()
          .refine((tls) => (tls.certFile === null) === (tls.keyFile === null), 'give both certFile and keyFile, or neither (a self-signed certificate is made)')
          .default({ enabled: true, port: 8443, certFile: null, keyFile: null }),
      })
      .strict()
      .default({ host: '0.0.0.0', port: 8080, publicUrl: null, packageProxy: null, tls: { enabled: true, port: 8443, certFile: null, keyFile: null } }),
    provisioning: z
      .object({
        interface: z.string().regex(/^[a-zA-Z0-9._-]{1,15}$/, 'not an interface name').nullable().default(null),
        address: ipv4.nullable().default(null),
        subnet: cidr.nullable().default(null),
        gateway: ipv4.nullable().default(null),
        dns: z.array(ipv4).default([]),
        domain: z.string().default('cluster.local'),
        ntp: z.array(ipv4).default([]),
        pool: poolSchema.nullable().default(null),
        leaseSeconds: z.coerce.number().int().min(60).default(3600),
        /** Further subnets reached through DHCP relays; giaddr picks the subnet. */
        relayedSubnets: z.array(subnetSchema).default([]),
      })
      .strict()
      .default({ interface: null, address: null, subnet: null, gateway: null, dns: [], domain: 'cluster.local', ntp: [], pool: null, leaseSeconds: 3600, relayedSubnets: [] }),
    dhcp: z
      .object({
        /** null: on when provisioning.interface is set. */
        enabled: flag.nullable().default(null),
        mode: z.enum(['authoritative', 'proxy']).default('authoritative'),
        host: z.string().default('0.0.0.0'),
        port: port.default(67),
        proxyPort: port.default(4011),
        /** Whom to answer: only network-boot clients (PXE/iPXE/HTTPClient), only known MACs, or everyone. */
        answer: z.enum(['pxe-clients', 'known-macs', 'all']).default('pxe-clients'),
        uefiLoader: z.enum(['ipxe.efi', 'snponly.efi']).default('ipxe.efi'),
        /** No Debian 12 package ships an arm64 iPXE loader: none unless a site places one under boot/ and names it. */
        arm64Loader: z.string().regex(/^[A-Za-z0-9._-]+$/, 'a file name under boot/').nullable().default(null),
        /** Add the 255.255.255.255/32 host route through the provisioning interface when running as root. */
        manageBroadcastRoute: flag.default(true),
        /** New pool offers per subnet and second (reservations and a MAC's own lease are not counted). */
        newOffersPerSecond: z.coerce.number().min(0.1).max(100_000).default(50),
        /** New pool offers a subnet may make at once (a rack powering on), refilled at newOffersPerSecond. */
        newOfferBurst: z.coerce.number().int().min(1).max(1_000_000).default(250),
      })
      .strict()
      .default({ enabled: null, mode: 'authoritative', host: '0.0.0.0', port: 67, proxyPort: 4011, answer: 'pxe-clients', uefiLoader: 'ipxe.efi', arm64Loader: null, manageBroadcastRoute: true, newOffersPerSecond: 50, newOfferBurst: 250 }),
    tftp: z
      .object({
        enabled: flag.nullable().default(null),
        host: z.string().default('0.0.0.0'),
        port: port.default(69),
        maxBlksize: z.coerce.number().int().min(512).max(65464).default(1468),
        maxWindowsize: z.coerce.number().int().min(1).max(64).default(64),
        timeoutSeconds: z.coerce.number().min(0.1).max(255).default(1),
        retries: z.coerce.number().int().min(1).max(50).default(6),
        /** Floor of the adaptive retransmission timeout (timeoutSeconds is its ceiling and starting value). */
        minTimeoutMs: z.coerce.number().int().min(1).max(10_000).default(20),
        /** A window (windowsize x blksize) never exceeds this, so one burst fits a receiver's default socket buffer. */
        maxWindowBytes: z.coerce.number().int().min(512).max(4_194_304).default(65_536),
      })
      .strict()
      .default({ enabled: null, host: '0.0.0.0', port: 69, maxBlksize: 1468, maxWindowsize: 64, timeoutSeconds: 1, retries: 6, minTimeoutMs: 20, maxWindowBytes: 65_536 }),
    boot: z
      .object({
        /** Unknown machines are held in a discovery loop instead of booting their disk. Off: never wipe by accident. */
        autoEnrol: flag.default(false),
        /** Every x86-64 UEFI machine boots Debian's signed shim and GRUB (a node can also ask for it alone). */
        secureBoot: flag.default(false),
        /** Boot files kept in memory for TFTP and HTTP (least recently used go first); a file over a quarter of it is read from disk. */
        fileCacheBytes: z.coerce.number().int().min(0).default(268_435_456),
      })
      .strict()
      .default({ autoEnrol: false, secureBoot: false, fileCacheBytes: 268_435_456 }),
    watchdog: z
      .object({
        installSeconds: z.coerce.number().int().min(60).default(7200),
        /** An installing node that asks the appliance for nothing this long has stopped: it fails with that reason. */
        installNoContactSeconds: z.coerce.number().int().min(60).default(900),
        sshWaitSeconds: z.coerce.number().int().min(30).default(1800),
        intervalSeconds: z.coerce.number().min(1).default(30),
      })
      .strict()
      .default({ installSeconds: 7200, installNoContactSeconds: 900, sshWaitSeconds: 1800, intervalSeconds: 30 }),
    packageCache: z
      .object({
        /** Debian's apt-cacher-ng on provisioning.address. null: on when that address is set and http.packageProxy is not. */
        enabled: flag.nullable().default(null),
        // apt-cacher-ng 3.7 binds nothing on ports above 32767 (measured: "Error resolving address for binding").
        port: port.max(32767, 'apt-cacher-ng 3.7 cannot listen above port 32767').default(3142),
        binary: z.string().min(1).default('/usr/sbin/apt-cacher-ng'),
      })
      .strict()
      .default({ enabled: null, port: 3142, binary: '/usr/sbin/apt-cacher-ng' }),
    orchestrator: z
      .object({
        enabled: flag.default(true),
        concurrency: z.coerce.number().int().min(1).max(256).default(8),
        sshPort: port.default(22),
        sshUser: z.string().default('root'),
        /** A node whose SSH connection answers nothing (no keepalive, no progress) this long fails its stage. */
        sshStallSeconds: z.coerce.number().min(1).max(3600).default(30),
      })
      .strict()
      .default({ enabled: true, concurrency: 8, sshPort: 22, sshUser: 'root', sshStallSeconds: 30 }),
  })
  .strict();

export type Config = z.infer<typeof configSchema> & {
  /** Where the file came from, if any. */
  source: string | null;
  /** Resolved base URL for booting clients, no trailing slash. */
  publicUrl: string;
  dhcpEnabled: boolean;
  tftpEnabled: boolean;
  /** The appliance runs its package cache (apt-cacher-ng); http.packageProxy then names it unless set. */
  packageCacheEnabled: boolean;
};

export class ConfigError extends Error {
  readonly code = 'config_error';
}

/** Environment variables that override file values; documented in the README. */
export const ENV_OVERRIDES: Record<string, string> = {
  RACKLIFT_DATA_DIR: 'dataDir',
  RACKLIFT_BOOT_DIR: 'bootDir',
  RACKLIFT_TEMPLATES_DIR: 'templatesDir',
  RACKLIFT_BOOTSTRAP_DIR: 'bootstrapDir',
  RACKLIFT_LOG_LEVEL: 'log.level',
  RACKLIFT_HTTP_HOST: 'http.host',
  RACKLIFT_HTTP_PORT: 'http.port',
  RACKLIFT_PUBLIC_URL: 'http.publicUrl',
  RACKLIFT_TLS_ENABLED: 'http.tls.enabled',
  RACKLIFT_TLS_PORT: 'http.tls.port',
  RACKLIFT_TLS_CERT_FILE: 'http.tls.certFile',
  RACKLIFT_TLS_KEY_FILE: 'http.tls.keyFile',
  RACKLIFT_PACKAGE_PROXY: 'http.packageProxy',
  RACKLIFT_PROVISIONING_INTERFACE: 'provisioning.interface',
  RACKLIFT_PROVISIONING_ADDRESS: 'provisioning.address',
  RACKLIFT_PROVISIONING_SUBNET: 'provisioning.subnet',
  RACKLIFT_DHCP_ENABLED: 'dhcp.enabled',
  RACKLIFT_DHCP_MODE: 'dhcp.mode',
  RACKLIFT_DHCP_PORT: 'dhcp.port',
  RACKLIFT_TFTP_ENABLED: 'tftp.enabled',
  RACKLIFT_TFTP_HOST: 'tftp.host',
  RACKLIFT_TFTP_PORT: 'tftp.port',
  RACKLIFT_AUTO_ENROL: 'boot.autoEnrol',
  RACKLIFT_SECURE_BOOT: 'boot.secureBoot',
  RACKLIFT_ORCHESTRATOR_ENABLED: 'orchestrator.enabled',
  RACKLIFT_PACKAGE_CACHE_ENABLED: 'packageCache.enabled',
};

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let cursor = target;
  for (const key of keys.slice(0, -1)) {
    if (typeof cursor[key] !== 'object' || cursor[key] === null) cursor[key] = {};
    cursor = cursor[key] as Record<string, unknown>;
  }
  cursor[keys.at(-1)!] = value;
}

export interface LoadConfigOptions {
  file?: string | null;
  env?: NodeJS.ProcessEnv;
  /** Values set by code (tests, the lab), applied after the file and before the environment. */
  overrides?: Record<string, unknown>;
  cwd?: string;
}

export function loadConfig(options: LoadConfigOptions = {}): Config {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const file = options.file ?? env.RACKLIFT_CONFIG ?? (existsSync(resolve(cwd, 'racklift.yaml')) ? 'racklift.yaml' : null);
  let raw: Record<string, unknown> = {};
  if (file) {
    const path = resolve(cwd, file);
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      throw new ConfigError(`config file ${path}: ${(error as Error).message}`);
    }
    try {
      raw = (parseYaml(text) as Record<string, unknown> | null) ?? {};
    } catch (error) {
      throw new ConfigError(`config file ${path}: not valid YAML: ${(error as Error).message}`);
    }
  }
  for (const [path, value] of Object.entries(options.overrides ?? {})) setPath(raw, path, value);
  for (const [variable, path] of Object.entries(ENV_OVERRIDES)) {
    const value = env[variable];
    if (value !== undefined && value !== '') setPath(raw, path, value);
  }
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${issue.path.join('.') || '(top level)'}: ${issue.message}`);
    throw new ConfigError(`invalid configuration${file ? ` in ${file}` : ''}:\n${lines.join('\n')}`);
  }
  return finish(parsed.data, file ? resolve(cwd, file) : null, cwd);
}

function finish(config: z.infer<typeof configSchema>, source: string | null, cwd: string): Config {
  const p = config.provisioning;
  if (p.interface && (!p.address || !p.subnet)) {
    throw new ConfigError('invalid configuration:\n  provisioning: an interface needs its address and subnet (provisioning.address, provisioning.subnet)');
  }
  const dhcpEnabled = config.dhcp.enabled ?? p.interface !== null;
  const tftpEnabled = config.tftp.enabled ?? p.interface !== null;
  if (dhcpEnabled && (!p.address || !p.subnet)) {
    throw new ConfigError('invalid configuration:\n  dhcp.enabled: DHCP needs provisioning.address and provisioning.subnet');
  }
  if (dhcpEnabled && config.dhcp.mode === 'authoritative' && !p.pool) {
    throw new ConfigError('invalid configuration:\n  provisioning.pool: authoritative DHCP needs a pool (start and end)');
  }
  const host = p.address ?? (config.http.host === '0.0.0.0' ? '127.0.0.1' : config.http.host);
  const publicUrl = (config.http.publicUrl ?? `http://${host}:${config.http.port}`).replace(/\/+$/, '');
  const tls = config.http.tls;
  const packageCacheEnabled = config.packageCache.enabled ?? (p.address !== null && config.http.packageProxy === null);
  if (packageCacheEnabled && !p.address) {
    throw new ConfigError('invalid configuration:\n  packageCache.enabled: the package cache listens on provisioning.address, which is not set');
  }
  const packageProxy = config.http.packageProxy ?? (packageCacheEnabled ? `http://${p.address}:${config.packageCache.port}` : null);
  return {
    ...config,
    http: { ...config.http, packageProxy, tls: { ...tls, certFile: tls.certFile && resolve(cwd, tls.certFile), keyFile: tls.keyFile && resolve(cwd, tls.keyFile) } },
    packageCacheEnabled,
    dataDir: resolve(cwd, config.dataDir),
    bootDir: resolve(PACKAGE_ROOT, config.bootDir),
    templatesDir: resolve(PACKAGE_ROOT, config.templatesDir),
    bootstrapDir: resolve(PACKAGE_ROOT, config.bootstrapDir),
    webDir: resolve(PACKAGE_ROOT, config.webDir),
    source,
    publicUrl,
    dhcpEnabled,
    tftpEnabled,
  };
}
