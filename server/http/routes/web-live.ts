// GET /events/stream: server-sent events for the pages. One subscription to the event log per app, fanned out
// to every open page; a reconnecting browser sends Last-Event-ID and gets what it missed.
import { Router, type Request, type Response } from 'express';
import type { AppContext } from '../../context.ts';
import type { EventRecord } from '../../store/events.ts';
import { strictRouter } from '../router.ts';

const HEARTBEAT_MS = 20_000;
/** A page that stops reading is dropped once this much is queued; it reconnects and catches up by id. */
const MAX_QUEUED_BYTES = 1024 * 1024;
const REPLAY_LIMIT = 500;

export interface StageOutputMessage {
  nodeId: number;
  stage: string;
  runId: number;
  stream: string;
  text: string;
}

interface Client {
  res: Response;
  /** Only this node's messages, or all. */
  nodeId: number | null;
}

export class LiveHub {
  private readonly clients = new Set<Client>();
  private unsubscribe: (() => void) | null = null;

  constructor(
    private readonly ctx: AppContext,
    /** Subscribes to live stage output when the orchestrator provides it; returns the unsubscribe function. */
    private readonly stageOutput: ((listener: (output: StageOutputMessage) => void) => () => void) | null = null,
  ) {}

  get size(): number {
    return this.clients.size;
  }

  private start(): void {
    const offEvents = this.ctx.store.events.subscribe((event) => this.broadcastEvent(event));
    const offOutput = this.stageOutput?.((output) => this.broadcast(output.nodeId, frame('stage-output', null, output))) ?? null;
    this.unsubscribe = () => {
      offEvents();
      offOutput?.();
    };
  }

  private broadcastEvent(event: EventRecord): void {
    if (this.clients.size === 0) return;
    const node = event.nodeId !== null ? this.ctx.store.nodes.get(event.nodeId) : null;
    const summary = node
      ? { state: node.state, hostname: node.hostname, address: node.addresses.management ?? null, roles: node.roles, profile: node.profile, powerState: node.powerState, failedReason: node.failedReason }
      : null;
    this.broadcast(event.nodeId, frame('node-event', event.id, { ...event, node: summary }));
  }

  private broadcast(nodeId: number | null, data: string): void {
    for (const client of this.clients) {
      if (client.nodeId !== null && client.nodeId !== nodeId) continue;
      if (client.res.writableLength > MAX_QUEUED_BYTES) {
        client.res.end();
        continue;
      }
      client.res.write(data);
    }
  }

  attach(req: Request, res: Response, nodeId: number | null): void {
    res.status(200).set({ 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store', 'X-Accel-Buffering': 'no' });
    res.flushHeaders();
    res.write('retry: 3000\n\n');
    const lastId = Number(req.get('last-event-id'));
    if (Number.isSafeInteger(lastId) && lastId > 0) {
      for (const event of this.ctx.store.events.listSince(lastId, REPLAY_LIMIT)) {
        if (nodeId === null || event.nodeId === nodeId) res.write(frame('node-event', event.id, { ...event, node: null }));
      }
    }
    const client: Client = { res, nodeId };
    if (this.clients.size === 0) this.start();
    this.clients.add(client);
    const heartbeat = setInterval(() => res.write(': ping\n\n'), HEARTBEAT_MS);
    heartbeat.unref();
    const close = () => {
      clearInterval(heartbeat);
      if (!this.clients.delete(client)) return;
      if (this.clients.size === 0) {
        this.unsubscribe?.();
        this.unsubscribe = null;
      }
    };
    req.on('close', close);
    res.on('close', close);
  }
}

function frame(event: string, id: number | null, data: unknown): string {
  return `${id !== null ? `id: ${id}\n` : ''}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

export function liveRoutes(hub: LiveHub): Router {
  const router = strictRouter();
  router.get('/events/stream', (req, res) => {
    const node = Number(req.query.node);
    hub.attach(req, res, Number.isSafeInteger(node) && node > 0 ? node : null);
  });
  return router;
}
