// The append-only event log. Events outlive their node (no foreign key), so a forgotten node keeps its history.
import type { Db } from './db.ts';

export interface NewEvent {
  nodeId: number | null;
  mac: string | null;
  kind: string;
  fromState?: string | null;
  toState?: string | null;
  message: string;
  actor?: string | null;
  /** The network address a request came from (installer callbacks), when there is one. */
  source?: string | null;
}

export interface EventRecord {
  id: number;
  nodeId: number | null;
  mac: string | null;
  at: string;
  kind: string;
  fromState: string | null;
  toState: string | null;
  message: string;
  actor: string | null;
  source: string | null;
}

interface EventRow {
  id: number;
  node_id: number | null;
  mac: string | null;
  at: string;
  kind: string;
  from_state: string | null;
  to_state: string | null;
  message: string;
  actor: string | null;
  source: string | null;
}

const toEvent = (row: EventRow): EventRecord => ({
  id: row.id,
  nodeId: row.node_id,
  mac: row.mac,
  at: row.at,
  kind: row.kind,
  fromState: row.from_state,
  toState: row.to_state,
  message: row.message,
  actor: row.actor,
  source: row.source,
});

export type EventListener = (event: EventRecord) => void;

export class EventStore {
  private readonly insert;
  private readonly forNode;
  private readonly recent;
  private readonly since;
  private readonly lastForNodes;
  private readonly adoptStatement;
  private readonly listeners = new Set<EventListener>();

  constructor(db: Db) {
    this.insert = db.prepare(
      `INSERT INTO events (node_id, mac, at, kind, from_state, to_state, message, actor, source)
       VALUES (@nodeId, @mac, @at, @kind, @fromState, @toState, @message, @actor, @source)`,
    );
    this.forNode = db.prepare<[number, number], EventRow>('SELECT * FROM events WHERE node_id = ? ORDER BY id DESC LIMIT ?');
    this.recent = db.prepare<[number], EventRow>('SELECT * FROM events ORDER BY id DESC LIMIT ?');
    this.since = db.prepare<[number, number], EventRow>('SELECT * FROM events WHERE id > ? ORDER BY id LIMIT ?');
    this.adoptStatement = db.prepare<[number, string]>('UPDATE events SET node_id = ? WHERE mac = ? AND node_id IS NULL');
    // Per node through the (node_id, id) index: the cost of a page, not of the whole log.
    this.lastForNodes = db.prepare<[string], { node_id: number; at: string | null }>(
      'SELECT value AS node_id, (SELECT at FROM events WHERE node_id = value ORDER BY id DESC LIMIT 1) AS at FROM json_each(?)',
    );
  }

  append(event: NewEvent): EventRecord {
    const at = new Date().toISOString();
    const row = {
      nodeId: event.nodeId,
      mac: event.mac,
      at,
      kind: event.kind,
      fromState: event.fromState ?? null,
      toState: event.toState ?? null,
      message: event.message,
      actor: event.actor ?? null,
      source: event.source ?? null,
    };
    const id = Number(this.insert.run(row).lastInsertRowid);
    const record: EventRecord = { id, ...row };
    // Listeners (the live view) are told after the write; a failing listener never breaks the writer.
    for (const listener of this.listeners) {
      try {
        listener(record);
      } catch {
        /* a broken subscriber is its own problem */
      }
    }
    return record;
  }

  /** A new node takes the events written by its MAC before it existed (its first boot decisions). */
  adopt(mac: string, nodeId: number): number {
    return this.adoptStatement.run(nodeId, mac).changes;
  }

  listForNode(nodeId: number, limit = 200): EventRecord[] {
    return this.forNode.all(nodeId, limit).map(toEvent);
  }

  listRecent(limit = 200): EventRecord[] {
    return this.recent.all(limit).map(toEvent);
  }

  listSince(afterId: number, limit = 1000): EventRecord[] {
    return this.since.all(afterId, limit).map(toEvent);
  }

  /** The time of the latest event of each of these nodes (nodes without events are left out). */
  lastEventTimesOf(nodeIds: number[]): Map<number, string> {
    const times = new Map<number, string>();
    for (const row of this.lastForNodes.all(JSON.stringify(nodeIds))) if (row.at !== null) times.set(row.node_id, row.at);
    return times;
  }

  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
