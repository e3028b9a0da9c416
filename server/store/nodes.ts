// The nodes table. State changes go through writeTransition() only, which also appends the event.
import type { Db } from './db.ts';
import type { Transition } from '../domain/lifecycle.ts';
import type {
  BmcSettings,
  BootLoaderChoice,
  FailedPhase,
  NodeAddresses,
  NodeFacts,
  NodeInterfaces,
  NodeRecord,
  NodeState,
  Role,
} from '../domain/types.ts';
import type { EventStore } from './events.ts';
import { SecretBox } from './secret-box.ts';
import { NodeCache } from './node-cache.ts';
import { NodePages, type NodePage, type NodeQuery, type PageWindow } from './node-pages.ts';

export interface NodeRow {
  id: number;
  mac: string;
  hostname: string | null;
  roles: string;
  profile: string | null;
  state: NodeState;
  generation: number;
  install_token_hash: string | null;
  failed_phase: FailedPhase | null;
  failed_reason: string | null;
  management_address: string | null;
  addresses: string;
  interfaces: string;
  disks: string;
  bmc: string | null;
  facts: string;
  bootloader: BootLoaderChoice;
  ssh_host_key: string | null;
  power_state: string | null;
  install_done_from: string | null;
  secure_boot: number;
  last_contact_at: string | null;
  last_contact_via: string | null;
  created_at: string;
  updated_at: string;
  state_changed_at: string;
}

export interface StoredNode extends NodeRecord {
  powerState: string | null;
  /** The address the done callback of the current install generation came from (null until then). */
  installDoneFrom: string | null;
}

/** Fields an operator (or discovery) may set without a state change. */
export interface NodeFields {
  hostname?: string | null;
  roles?: Role[];
  profile?: string | null;
  addresses?: NodeAddresses;
  interfaces?: NodeInterfaces;
  disks?: string[];
  bmc?: BmcSettings | null;
  facts?: NodeFacts;
  bootloader?: BootLoaderChoice;
  sshHostKey?: string | null;
  powerState?: string | null;
  installDoneFrom?: string | null;
  secureBoot?: boolean;
}

/** A node was heard from (a request from its address, a lease renewal, a package through the cache). */
export interface NodeContact {
  nodeId: number;
  at: string;
  via: string;
}

export class StaleStateError extends Error {
  readonly code = 'stale_state';
  constructor(nodeId: number, expected: NodeState) {
    super(`node #${nodeId} is no longer ${expected}; another action changed it first`);
  }
}

const bmcContext = (nodeId: number) => `bmc:${nodeId}`;

/** The BMC column: the password sealed (SecretBox), never in clear. */
function bmcToColumn(bmc: BmcSettings | null, nodeId: number, box: SecretBox): string | null {
  if (!bmc) return null;
  const { password, ...rest } = bmc;
  return JSON.stringify(password === undefined ? rest : { ...rest, password: box.seal(password, bmcContext(nodeId)) });
}

function bmcFromColumn(text: string | null, nodeId: number, box: SecretBox): BmcSettings | null {
  if (!text) return null;
  const bmc = JSON.parse(text) as BmcSettings;
  if (SecretBox.isSealed(bmc.password)) bmc.password = box.open(bmc.password, bmcContext(nodeId));
  return bmc;
}

function toNode(row: NodeRow, box: SecretBox): StoredNode {
  const addresses = JSON.parse(row.addresses) as NodeAddresses;
  if (row.management_address) addresses.management = row.management_address;
  return {
    id: row.id,
    mac: row.mac,
    hostname: row.hostname,
    roles: JSON.parse(row.roles) as Role[],
    profile: row.profile,
    state: row.state,
    generation: row.generation,
    installTokenHash: row.install_token_hash,
    failedPhase: row.failed_phase,
    failedReason: row.failed_reason,
    addresses,
    interfaces: JSON.parse(row.interfaces) as NodeInterfaces,
    disks: JSON.parse(row.disks) as string[],
    bmc: bmcFromColumn(row.bmc, row.id, box),
    facts: JSON.parse(row.facts) as NodeFacts,
    bootloader: row.bootloader,
    sshHostKey: row.ssh_host_key,
    powerState: row.power_state,
    installDoneFrom: row.install_done_from,
    secureBoot: row.secure_boot === 1,
    lastContactAt: row.last_contact_at,
    lastContactVia: row.last_contact_via,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    stateChangedAt: row.state_changed_at,
  };
}

const FIELD_COLUMNS: Record<keyof NodeFields, (value: never, nodeId: number, box: SecretBox) => [string, unknown][]> = {
  hostname: (v: string | null) => [['hostname', v]],
  roles: (v: Role[]) => [['roles', JSON.stringify(v)]],
  profile: (v: string | null) => [['profile', v]],
  addresses: (v: NodeAddresses) => {
    const { management, ...extra } = v;
    return [
      ['management_address', management ?? null],
      ['addresses', JSON.stringify(extra)],
    ];
  },
  interfaces: (v: NodeInterfaces) => [['interfaces', JSON.stringify(v)]],
  disks: (v: string[]) => [['disks', JSON.stringify(v)]],
  bmc: (v: BmcSettings | null, nodeId: number, box: SecretBox) => [['bmc', bmcToColumn(v, nodeId, box)]],
  facts: (v: NodeFacts) => [['facts', JSON.stringify(v)]],
  bootloader: (v: BootLoaderChoice) => [['bootloader', v]],
  sshHostKey: (v: string | null) => [['ssh_host_key', v]],
  powerState: (v: string | null) => [['power_state', v]],
  installDoneFrom: (v: string | null) => [['install_done_from', v]],
  secureBoot: (v: boolean) => [['secure_boot', v ? 1 : 0]],
};

export class NodeStore {
  private readonly byId;
  private readonly byMac;
  private readonly byHostname;
  private readonly byAddress;
  private readonly byTokenHash;
  private readonly all;
  private readonly inState;
  private readonly insert;
  private readonly remove;
  private readonly transitionUpdate;
  private readonly count;
  private readonly pages: NodePages;
  private readonly contactUpdate;
  private readonly cache: NodeCache;

  constructor(
    private readonly db: Db,
    private readonly events: EventStore,
    private readonly box: SecretBox,
  ) {
    this.byId = db.prepare<[number], NodeRow>('SELECT * FROM nodes WHERE id = ?');
    this.byMac = db.prepare<[string], NodeRow>('SELECT * FROM nodes WHERE mac = ?');
    this.byHostname = db.prepare<[string], NodeRow>('SELECT * FROM nodes WHERE hostname = ?');
    this.byAddress = db.prepare<[string], NodeRow>('SELECT * FROM nodes WHERE management_address = ?');
    this.byTokenHash = db.prepare<[string], NodeRow>('SELECT * FROM nodes WHERE install_token_hash = ?');
    this.all = db.prepare<[], NodeRow>('SELECT * FROM nodes ORDER BY id');
    this.inState = db.prepare<[string], NodeRow>('SELECT * FROM nodes WHERE state = ? ORDER BY id');
    this.count = db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM nodes');
    this.pages = new NodePages(db);
    this.cache = new NodeCache(db);
    this.insert = db.prepare(
      `INSERT INTO nodes (mac, state, facts, created_at, updated_at, state_changed_at)
       VALUES (@mac, 'discovered', @facts, @now, @now, @now)`,
    );
    this.remove = db.prepare<[number]>('DELETE FROM nodes WHERE id = ?');
    // Only ever forward: a late batch must not move the last contact back.
    this.contactUpdate = db.prepare<[string, string, number, string]>(
      'UPDATE nodes SET last_contact_at = ?, last_contact_via = ? WHERE id = ? AND (last_contact_at IS NULL OR last_contact_at < ?)',
    );
    this.transitionUpdate = db.prepare(
      `UPDATE nodes SET state = @to, generation = @generation, install_token_hash = @tokenHash,
         failed_phase = @failedPhase, failed_reason = @failedReason, updated_at = @now, state_changed_at = @now,
         install_done_from = CASE WHEN @generation = generation THEN install_done_from ELSE NULL END
       WHERE id = @id AND state = @from`,
    );
  }

  get(id: number): StoredNode | null {
    const row = this.byId.get(id);
    return row ? toNode(row, this.box) : null;
  }

  /** The packet path's lookup: from the node cache when it holds the MAC (the node is then frozen). */
  getByMac(mac: string): StoredNode | null {
    const cached = this.cache.get(mac);
    if (cached !== undefined) return cached;
    const row = this.byMac.get(mac);
    const node = row ? toNode(row, this.box) : null;
    this.cache.keep(mac, node);
    return node;
  }

  getByHostname(hostname: string): StoredNode | null {
    const row = this.byHostname.get(hostname);
    return row ? toNode(row, this.box) : null;
  }

  getByManagementAddress(address: string): StoredNode | null {
    const row = this.byAddress.get(address);
    return row ? toNode(row, this.box) : null;
  }

  getByInstallTokenHash(hash: string): StoredNode | null {
    const row = this.byTokenHash.get(hash);
    return row ? toNode(row, this.box) : null;
  }

  list(state?: NodeState): StoredNode[] {
    return (state ? this.inState.all(state) : this.all.all()).map((row) => toNode(row, this.box));
  }

  /** One page of the nodes that match, in id order, with the count of all that match. */
  page(query: NodeQuery, window: PageWindow): NodePage<StoredNode> {
    const { rows, total, next } = this.pages.page(query, window);
    return { nodes: rows.map((row) => toNode(row, this.box)), total, next };
  }

  /** How many nodes are in each state (states without nodes are left out). */
  countByState(): Map<NodeState, number> {
    return this.pages.countByState();
  }

  size(): number {
    return this.count.get()!.n;
  }

  /** A new row always starts `discovered`; the creation is the first event of its history. */
  create(mac: string, facts: NodeFacts, cause: string, actor: string | null): StoredNode {
    this.cache.forgetMac(mac);
    return this.db.transaction(() => {
      const now = new Date().toISOString();
      const id = Number(this.insert.run({ mac, facts: JSON.stringify(facts), now }).lastInsertRowid);
      this.events.adopt(mac, id);
      this.events.append({ nodeId: id, mac, kind: 'transition', fromState: null, toState: 'discovered', message: cause, actor });
      return this.get(id)!;
    })();
  }

  /** Sets descriptive fields; never the state, generation or token (those go through writeTransition). */
  update(id: number, fields: NodeFields): StoredNode {
    const assignments: [string, unknown][] = [];
    for (const [key, value] of Object.entries(fields) as [keyof NodeFields, never][]) {
      if (value === undefined) continue;
      assignments.push(...FIELD_COLUMNS[key](value, id, this.box));
    }
    this.cache.forgetId(id);
    if (assignments.length > 0) {
      const sql = `UPDATE nodes SET ${assignments.map(([column]) => `${column} = ?`).join(', ')}, updated_at = ? WHERE id = ?`;
      this.db.prepare(sql).run(...assignments.map(([, value]) => value), new Date().toISOString(), id);
    }
    const node = this.get(id);
    if (!node) throw new Error(`node #${id} does not exist`);
    return node;
  }

  /**
   * Persists a transition the lifecycle decided, with its event, in one transaction. Fails with
   * StaleStateError if the node left the `from` state meanwhile, so two racing actions cannot both win.
   */
  writeTransition(
    node: StoredNode,
    transition: Transition,
    options: { tokenHash?: string | null; actor?: string | null; message?: string; source?: string | null } = {},
  ): StoredNode {
    this.cache.forgetMac(node.mac);
    return this.db.transaction(() => {
      const now = new Date().toISOString();
      const result = this.transitionUpdate.run({
        id: node.id,
        from: transition.from,
        to: transition.to,
        generation: transition.newGeneration ?? node.generation,
        tokenHash: options.tokenHash === undefined ? node.installTokenHash : options.tokenHash,
        failedPhase: transition.failedPhase,
        failedReason: transition.failedReason,
        now,
      });
      if (result.changes !== 1) throw new StaleStateError(node.id, transition.from);
      this.events.append({
        nodeId: node.id,
        mac: node.mac,
        kind: 'transition',
        fromState: transition.from,
        toState: transition.to,
        message: options.message ?? transition.message,
        actor: options.actor ?? null,
        source: options.source ?? null,
      });
      return this.get(node.id)!;
    })();
  }

  /** Seals BMC passwords an older version stored in clear; returns how many. */
  sealPlainBmcPasswords(): number {
    const rows = this.db.prepare<[], { id: number; bmc: string }>('SELECT id, bmc FROM nodes WHERE bmc IS NOT NULL').all();
    const write = this.db.prepare('UPDATE nodes SET bmc = ? WHERE id = ?');
    let sealed = 0;
    this.cache.clear();
    this.db.transaction(() => {
      for (const row of rows) {
        const bmc = JSON.parse(row.bmc) as BmcSettings;
        if (typeof bmc.password !== 'string' || SecretBox.isSealed(bmc.password)) continue;
        write.run(bmcToColumn(bmc, row.id, this.box), row.id);
        sealed += 1;
      }
    })();
    return sealed;
  }

  /** Writes last-contact times in one transaction (not a settings change: updated_at stays). */
  recordContacts(contacts: NodeContact[]): void {
    if (contacts.length === 0) return;
    for (const contact of contacts) this.cache.forgetId(contact.nodeId);
    this.db.transaction(() => {
      for (const contact of contacts) this.contactUpdate.run(contact.at, contact.via, contact.nodeId, contact.at);
    })();
  }

  /** Removes the row; its events stay (they carry the MAC). */
  delete(node: StoredNode, actor: string | null): void {
    this.cache.forgetMac(node.mac);
    this.db.transaction(() => {
      this.remove.run(node.id);
      this.events.append({ nodeId: node.id, mac: node.mac, kind: 'forget', fromState: node.state, toState: null, message: 'forgotten', actor });
    })();
  }
}
