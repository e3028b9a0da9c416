// The services every front end (CLI, REST API, web form, DHCP, TFTP, HTTP boot) shares.
import { buildAddressPlan, type AddressPlan } from '../domain/address-plan.ts';
import type { BootPlanSettings } from '../domain/boot-plan.ts';
import type { Config } from '../config.ts';
import type { Store } from '../store/index.ts';
import { BootEvents } from './boot-events.ts';
import { BootService } from './boot.ts';
import { BootFileCache } from './boot-file-cache.ts';
import { ClusterService } from './cluster.ts';
import { InstallCallbacks } from './install-callbacks.ts';
import { ContactBook } from './contacts.ts';
import { ApplianceMetrics } from './metrics.ts';
import { InstallTokens } from './install-tokens.ts';
import { NodeService } from './nodes.ts';
import { seedProfiles } from './profiles.ts';
import { loadOrCreateSshIdentity, type SshIdentity } from './ssh-identity.ts';

export interface Services {
  nodes: NodeService;
  boot: BootService;
  /** Boot decisions as events, whichever door (DHCP, TFTP, HTTP) a machine came through first. */
  bootEvents: BootEvents;
  /** Last contact of each node (written in batches once main.ts starts it). */
  contacts: ContactBook;
  /** Prometheus metrics (GET /metrics). */
  metrics: ApplianceMetrics;
  cluster: ClusterService;
  tokens: InstallTokens;
  /** The token and source-address check of every installer and agent callback. */
  callbacks: InstallCallbacks;
  addressPlan: AddressPlan;
  /** Boot files held in memory, shared by TFTP and HTTP. */
  bootFileCache: BootFileCache;
  /** Loaded on first use, so read-only CLI commands do not create a key pair. */
  sshIdentity(): SshIdentity;
}

export function bootPlanSettings(config: Config): BootPlanSettings {
  return {
    autoEnrol: config.boot.autoEnrol,
    httpBaseUrl: config.publicUrl,
    uefiX64Loader: config.dhcp.uefiLoader,
    secureBoot: config.boot.secureBoot,
    arm64Loader: config.dhcp.arm64Loader,
  };
}

export function createServices(config: Config, store: Store): Services {
  seedProfiles(store, config.templatesDir);
  const tokens = new InstallTokens(store.secrets.getOrCreate('install-token-key'));
  const addressPlan = buildAddressPlan(config.provisioning);
  let identity: SshIdentity | null = null;
  const nodes = new NodeService(store, tokens, addressPlan);
  return {
    sshIdentity: () => (identity ??= loadOrCreateSshIdentity(config.dataDir)),
    tokens,
    callbacks: new InstallCallbacks(store, tokens, nodes),
    addressPlan,
    bootFileCache: new BootFileCache(config.boot.fileCacheBytes),
    nodes,
    boot: new BootService(store, bootPlanSettings(config)),
    bootEvents: new BootEvents(store),
    contacts: new ContactBook(store),
    metrics: new ApplianceMetrics(store),
    cluster: new ClusterService(store),
  };
}
