// The last contact of every node: any DHCP, TFTP or HTTP request from it, any package it fetched through the
// appliance's cache. Noting one is a map write on the request path; every few seconds the notes are matched to
// nodes (by MAC, or by address through the node's reservation or its lease) and written in one transaction.
// Each node and door is noted at most once per few seconds however often it asks.
import { isIpv4 } from '../domain/ipv4.ts';
import type { Logger } from '../log.ts';
import type { Store } from '../store/index.ts';
import type { NodeContact } from '../store/nodes.ts';

export interface ContactBookOptions {
  flushMs?: number;
  /** A key (MAC or address) is noted again only after this long. */
  repeatMs?: number;
  now?: () => number;
}

interface Note {
  at: number;
  via: string;
}

/** Install tokens never go into the store or onto a page: `/install/<token>/preseed` -> `/install/.../preseed`. */
export function redactedPath(path: string): string {
  return path.replace(/^\/install\/[^/]+/, '/install/...').slice(0, 100);
}

export class ContactBook {
  private readonly byMac = new Map<string, Note>();
  private readonly byAddress = new Map<string, Note>();
  private readonly lastNoted = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  private readonly repeatMs: number;
  private readonly flushMs: number;
  private readonly now: () => number;

  constructor(
    private readonly store: Store,
    private readonly log: Logger | null = null,
    options: ContactBookOptions = {},
  ) {
    this.repeatMs = options.repeatMs ?? 5_000;
    this.flushMs = options.flushMs ?? 5_000;
    this.now = options.now ?? Date.now;
  }

  noteMac(mac: string, via: string): void {
    this.note(this.byMac, mac, via);
  }

  /** IPv4 only; an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`, as HTTP sockets report it) counts as IPv4. */
  noteAddress(address: string | undefined, via: string): void {
    if (!address) return;
    const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
    if (isIpv4(v4) && v4 !== '127.0.0.1') this.note(this.byAddress, v4, via);
  }

  private note(into: Map<string, Note>, key: string, via: string): void {
    const at = this.now();
    const last = this.lastNoted.get(key);
    if (last !== undefined && at - last < this.repeatMs) return;
    if (this.lastNoted.size > 20_000) this.lastNoted.clear();
    this.lastNoted.set(key, at);
    into.set(key, { at, via });
  }

  /** Matches the notes to nodes and writes them; notes of machines that are no node are dropped. */
  flush(): void {
    if (this.byMac.size === 0 && this.byAddress.size === 0) return;
    const contacts = new Map<number, NodeContact>();
    const add = (nodeId: number, note: Note) => {
      const at = new Date(note.at).toISOString();
      const existing = contacts.get(nodeId);
      if (!existing || existing.at < at) contacts.set(nodeId, { nodeId, at, via: note.via });
    };
    try {
      for (const [mac, note] of this.byMac) {
        const node = this.store.nodes.getByMac(mac);
        if (node) add(node.id, note);
      }
      for (const [address, note] of this.byAddress) {
        const node = this.store.nodes.getByManagementAddress(address) ?? this.nodeLeasing(address);
        if (node) add(node.id, note);
      }
      this.store.nodes.recordContacts([...contacts.values()]);
    } catch (error) {
      this.log?.error({ err: error }, 'could not record node contacts');
    } finally {
      this.byMac.clear();
      this.byAddress.clear();
    }
  }

  private nodeLeasing(address: string) {
    const lease = this.store.leases.get(address);
    return lease && lease.state === 'bound' ? this.store.nodes.getByMac(lease.mac) : null;
  }

  start(): void {
    this.timer ??= setInterval(() => this.flush(), this.flushMs);
    this.timer.unref();
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.flush();
  }
}
