// Nodes by MAC, kept in memory for the packet path: DHCP, TFTP and HTTP ask the boot plan for every datagram
// and request, and reading a node row costs about ten times what looking it up in a map does. Correct
// without a time limit: every write through NodeStore forgets the node it touched, and `PRAGMA data_version`
// (which changes when another connection, such as the CLI working on the same database, commits) empties the
// whole cache; it is asked at most once a millisecond, so another process's change is seen within 1 ms. Nothing read inside a transaction is kept (it may be rolled back). Cached nodes are frozen, so a
// caller cannot change what the next caller gets.
import type { Db } from './db.ts';
import type { StoredNode } from './nodes.ts';

const MAX_ENTRIES = 20_000;

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

export class NodeCache {
  private readonly byMac = new Map<string, StoredNode | null>();
  private readonly macById = new Map<number, string>();
  private readonly dataVersion;
  private version: unknown = null;
  private versionCheckedAt = -Infinity;

  constructor(private readonly db: Db) {
    this.dataVersion = db.prepare('PRAGMA data_version').pluck();
  }

  /** The cached node (or null: no node has that MAC), or undefined when the store must be asked. */
  get(mac: string): StoredNode | null | undefined {
    const now = performance.now();
    if (now - this.versionCheckedAt >= 1) {
      this.versionCheckedAt = now;
      const version = this.dataVersion.get();
      if (version !== this.version) {
        this.clear();
        this.version = version;
      }
    }
    return this.byMac.get(mac);
  }

  keep(mac: string, node: StoredNode | null): void {
    if (this.db.inTransaction) return;
    if (this.byMac.size >= MAX_ENTRIES) this.clear();
    this.byMac.set(mac, node === null ? null : deepFreeze(node));
    if (node) this.macById.set(node.id, mac);
  }

  forgetMac(mac: string): void {
    this.byMac.delete(mac);
  }

  forgetId(id: number): void {
    const mac = this.macById.get(id);
    if (mac === undefined) return;
    this.macById.delete(id);
    this.byMac.delete(mac);
  }

  clear(): void {
    this.byMac.clear();
    this.macById.clear();
  }
}
