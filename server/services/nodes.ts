// Node operations shared by the CLI, the REST API, the web form and the boot services. Each asks the
// lifecycle what may happen, then has the store persist it with its event.
import { z } from 'zod';
import { reservationProblem, type AddressPlan } from '../domain/address-plan.ts';
import { installTokenValid, planTransition, type LifecycleEvent } from '../domain/lifecycle.ts';
import { groupMacProblem, normalizeMac, isMac } from '../domain/mac.ts';
import type { NodeFacts, NodeState, Role } from '../domain/types.ts';
import { NODE_STATES, ROLES } from '../domain/types.ts';
import {
  diskSchema,
  hostnameSchema,
  interfaceNameSchema,
  ipv4Schema,
  macSchema,
  profileNameSchema,
  rolesSchema,
} from '../domain/validation.ts';
import type { Store } from '../store/index.ts';
import type { NodeFields, StoredNode } from '../store/nodes.ts';
import type { NodePage, NodeQuery, PageWindow } from '../store/node-pages.ts';
import { ConflictError, NotFoundError, ValidationError } from './errors.ts';
import type { InstallTokens } from './install-tokens.ts';

export const nodeSettingsSchema = z
  .object({
    hostname: hostnameSchema.optional(),
    roles: rolesSchema.optional(),
    profile: profileNameSchema.optional(),
    managementAddress: ipv4Schema.nullable().optional(),
    tunnelAddress: ipv4Schema.nullable().optional(),
    storageAddress: ipv4Schema.nullable().optional(),
    interfaces: z
      .object({
        management: interfaceNameSchema.optional(),
        tunnel: interfaceNameSchema.optional(),
        external: interfaceNameSchema.optional(),
        storage: interfaceNameSchema.optional(),
      })
      .strict()
      .optional(),
    disks: z.array(diskSchema).max(64).optional(),
    bootloader: z.enum(['ipxe', 'pxelinux']).optional(),
    /** UEFI boots Debian's signed shim and GRUB (Secure Boot) instead of iPXE. */
    secureBoot: z.boolean().optional(),
  })
  .strict();

export type NodeSettings = z.input<typeof nodeSettingsSchema>;

export interface NodeFilter {
  state?: NodeState;
  role?: Role;
}

/** Largest page the API and the web form hand out at once. */
export const MAX_PAGE_SIZE = 10_000;
export const DEFAULT_PAGE_SIZE = 100;
const MAX_SEARCH_LENGTH = 100;

function checkFilter(filter: NodeFilter): void {
  if (filter.state && !NODE_STATES.includes(filter.state)) throw new ValidationError('state', `unknown state ${filter.state}`);
  if (filter.role && !ROLES.includes(filter.role)) throw new ValidationError('role', `unknown role ${filter.role}`);
}

/** Who did it: a user name, `cli`, `dhcp`, `installer`, `orchestrator`, `watchdog`. */
export type Actor = string;

export class NodeService {
  constructor(
    private readonly store: Store,
    private readonly tokens: InstallTokens,
    private readonly addressPlan: AddressPlan,
  ) {}

  list(filter: NodeFilter = {}): StoredNode[] {
    checkFilter(filter);
    return this.store.nodes.list(filter.state).filter((node) => !filter.role || node.roles.includes(filter.role));
  }

  /** One page of the nodes matching the query (filters and window checked here, applied by the store). */
  page(query: NodeQuery, window: PageWindow): NodePage<StoredNode> {
    checkFilter(query);
    if (query.search !== undefined && query.search.length > MAX_SEARCH_LENGTH) throw new ValidationError('q', `search text longer than ${MAX_SEARCH_LENGTH} characters`);
    if (!Number.isInteger(window.limit) || window.limit < 1 || window.limit > MAX_PAGE_SIZE) throw new ValidationError('limit', `expected a whole number from 1 to ${MAX_PAGE_SIZE}`);
    return this.store.nodes.page(query, window);
  }

  /** Finds a node by id, MAC or hostname. */
  find(ref: string | number): StoredNode {
    const node =
      typeof ref === 'number' || /^\d+$/.test(ref)
        ? this.store.nodes.get(Number(ref))
        : isMac(ref)
          ? this.store.nodes.getByMac(normalizeMac(ref))
          : this.store.nodes.getByHostname(ref.toLowerCase());
    if (!node) throw new NotFoundError(`no node ${JSON.stringify(String(ref))} (give an id, a MAC or a hostname)`);
    return node;
  }

  findByMac(mac: string): StoredNode | null {
    return this.store.nodes.getByMac(normalizeMac(mac));
  }

  /** An operator registers a MAC ahead of its first boot; with a profile it is assigned at once. */
  add(mac: string, settings: NodeSettings, actor: Actor): StoredNode {
    const parsedMac = macSchema.safeParse(mac);
    if (!parsedMac.success) throw new ValidationError('mac', parsedMac.error.issues[0]!.message);
    if (this.store.nodes.getByMac(parsedMac.data)) throw new ConflictError('mac', `a node with MAC ${parsedMac.data} exists already`);
    const fields = this.validateSettings(null, settings);
    return this.store.db.transaction(() => {
      let node = this.store.nodes.create(parsedMac.data, {}, `added by ${actor}`, actor);
      node = this.store.nodes.update(node.id, fields);
      if (node.profile) node = this.apply(node, { kind: 'assign' }, actor);
      return node;
    })();
  }

  /** An unknown MAC network-booted: record it once as discovered. Returns the existing node if there is one. */
  discover(mac: string, facts: NodeFacts, via: string): StoredNode {
    const normalized = normalizeMac(mac);
    const groupMac = groupMacProblem(normalized);
    if (groupMac) throw new ValidationError('mac', groupMac);
    const existing = this.store.nodes.getByMac(normalized);
    if (existing) return existing;
    return this.store.nodes.create(normalized, facts, `discovered: network boot via ${via}`, via);
  }

  /** Remembers what the client said about itself at its latest boot, without an event per boot. */
  recordBootFacts(node: StoredNode, facts: NodeFacts): StoredNode {
    return this.store.nodes.update(node.id, { facts: { ...node.facts, ...facts } });
  }

  update(ref: string | number, settings: NodeSettings, actor: Actor): StoredNode {
    const node = this.find(ref);
    const fields = this.validateSettings(node, settings);
    const updated = this.store.nodes.update(node.id, fields);
    this.store.events.append({ nodeId: node.id, mac: node.mac, kind: 'operator', message: `settings changed: ${Object.keys(settings).join(', ')}`, actor });
    return updated;
  }

  /** Sets the node's role, profile, hostname and addresses and moves it to `assigned` (install generation +1). */
  assign(ref: string | number, settings: NodeSettings, actor: Actor): StoredNode {
    const node = this.find(ref);
    const fields = this.validateSettings(node, settings);
    return this.store.db.transaction(() => {
      const updated = this.store.nodes.update(node.id, fields);
      if (!updated.profile) throw new ValidationError('profile', 'an OS profile is required to assign a node');
      if (!updated.hostname) throw new ValidationError('hostname', 'a hostname is required to assign a node');
      return this.apply(updated, { kind: 'assign' }, actor);
    })();
  }

  /** Re-image from scratch: any state -> assigned, a new install generation, the old token dead. */
  reimage(ref: string | number, actor: Actor): StoredNode {
    return this.apply(this.find(ref), { kind: 'reimage' }, actor);
  }

  retry(ref: string | number, actor: Actor): StoredNode {
    return this.apply(this.find(ref), { kind: 'retry' }, actor);
  }

  forget(ref: string | number, actor: Actor): StoredNode {
    const node = this.find(ref);
    this.store.nodes.delete(node, actor);
    return node;
  }

  /** The one way a state changes: the lifecycle plans, the store writes state, token and event together. */
  apply(node: StoredNode, event: LifecycleEvent, actor: Actor, message?: string, source?: string): StoredNode {
    const transition = planTransition(node, event);
    const tokenHash =
      transition.newGeneration !== null
        ? this.tokens.hashFor(node.id, transition.newGeneration)
        : transition.to === 'installed' || transition.to === 'discovered'
          ? null
          : undefined;
    return this.store.nodes.writeTransition(node, transition, { tokenHash, actor, message, source });
  }

  installTokenOf(node: StoredNode): string | null {
    return installTokenValid(node.state) && node.installTokenHash ? this.tokens.tokenFor(node.id, node.generation) : null;
  }

  private validateSettings(node: StoredNode | null, settings: NodeSettings): NodeFields {
    const parsed = nodeSettingsSchema.safeParse(settings);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new ValidationError(issue.path.join('.') || 'settings', issue.message);
    }
    const s = parsed.data;
    const fields: NodeFields = {};
    if (s.hostname !== undefined) {
      const other = this.store.nodes.getByHostname(s.hostname);
      if (other && other.id !== node?.id) throw new ConflictError('hostname', `${s.hostname} is already used by node ${other.mac}`);
      fields.hostname = s.hostname;
    }
    if (s.roles !== undefined) fields.roles = s.roles;
    if (s.profile !== undefined) {
      if (!this.store.profiles.get(s.profile)) throw new ValidationError('profile', `no OS profile named ${s.profile} (see racklift os list)`);
      fields.profile = s.profile;
    }
    if (s.managementAddress !== undefined || s.tunnelAddress !== undefined || s.storageAddress !== undefined) {
      const current = node?.addresses ?? {};
      const management = s.managementAddress === undefined ? current.management : (s.managementAddress ?? undefined);
      if (s.managementAddress) {
        const problem = reservationProblem(this.addressPlan, s.managementAddress);
        if (problem) throw new ValidationError('managementAddress', problem);
        const other = this.store.nodes.getByManagementAddress(s.managementAddress);
        if (other && other.id !== node?.id) throw new ConflictError('managementAddress', `${s.managementAddress} is reserved for node ${other.hostname ?? other.mac}`);
      }
      fields.addresses = {
        management,
        tunnel: s.tunnelAddress === undefined ? current.tunnel : (s.tunnelAddress ?? undefined),
        storage: s.storageAddress === undefined ? current.storage : (s.storageAddress ?? undefined),
      };
    }
    if (s.interfaces !== undefined) fields.interfaces = { ...(node?.interfaces ?? {}), ...s.interfaces };
    if (s.disks !== undefined) fields.disks = s.disks;
    if (s.bootloader !== undefined) fields.bootloader = s.bootloader;
    if (s.secureBoot !== undefined) fields.secureBoot = s.secureBoot;
    return fields;
  }
}
