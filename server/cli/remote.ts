// The CLI talking to a running appliance through its REST API (--url/--token or RACKLIFT_URL/RACKLIFT_TOKEN),
// with the same operations and output as the local commands.
import type { NodeState, Role } from '../domain/types.ts';
import type { NodeSettings } from '../services/nodes.ts';
import type { EventRecord } from '../store/events.ts';
import type { StoredNode } from '../store/nodes.ts';
import { requestJson, TransportError } from './transport.ts';

export class RemoteError extends Error {
  readonly code = 'remote';
}

export interface RemoteTarget {
  url: string;
  token: string;
  caFile?: string;
  fingerprint?: string;
}

export interface RemoteOptions {
  url?: string;
  token?: string;
  caFile?: string;
  tlsFingerprint?: string;
}

/** The appliance to talk to, or null to work on the local store. */
export function remoteTarget(options: RemoteOptions, env: NodeJS.ProcessEnv = process.env): RemoteTarget | null {
  const url = options.url ?? env.RACKLIFT_URL;
  if (!url) return null;
  if (!/^https?:\/\/[^/]+/.test(url)) throw new RemoteError(`--url ${url}: expected https://HOST:8443 (or http://HOST:PORT) of the appliance`);
  const token = options.token ?? env.RACKLIFT_TOKEN;
  if (!token) throw new RemoteError('--url needs an API token: --token or RACKLIFT_TOKEN (make one on the appliance: racklift user token NAME)');
  const caFile = options.caFile ?? env.RACKLIFT_CA_FILE;
  const fingerprint = options.tlsFingerprint ?? env.RACKLIFT_TLS_FINGERPRINT;
  return { url: url.replace(/\/+$/, ''), token, ...(caFile ? { caFile } : {}), ...(fingerprint ? { fingerprint } : {}) };
}

/** What the API returns for a node: the public part of a StoredNode. */
export type RemoteNode = StoredNode;

export class RemoteNodes {
  constructor(
    private readonly target: RemoteTarget,
    private readonly pageSize = 1000,
  ) {}

  private async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    let response;
    try {
      response = await requestJson(this.target, method, path, body);
    } catch (error) {
      if (error instanceof TransportError) throw new RemoteError(error.message);
      throw error;
    }
    if (response.status === 308) {
      throw new RemoteError(`${this.target.url} serves the API over HTTPS only: use --url https://HOST:8443 (the port of http.tls.port)`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(response.text);
    } catch {
      throw new RemoteError(`${this.target.url} answered ${response.status} with something that is not JSON (is it a racklift appliance?)`);
    }
    if (response.status < 200 || response.status >= 300) {
      const message = (parsed as { error?: { message?: string } }).error?.message ?? `HTTP ${response.status}`;
      throw new RemoteError(message);
    }
    return parsed as T;
  }

  private static node(ref: string): string {
    return `/nodes/${encodeURIComponent(ref)}`;
  }

  /** Every node matching the filter, page after page (the API hands out at most one page per request). */
  async list(filter: { state?: NodeState; role?: Role }): Promise<RemoteNode[]> {
    const all: RemoteNode[] = [];
    let after: number | null = null;
    do {
      const query = new URLSearchParams({ limit: String(this.pageSize) });
      if (filter.state) query.set('state', filter.state);
      if (filter.role) query.set('role', filter.role);
      if (after !== null) query.set('after', String(after));
      const page: { nodes: (RemoteNode & { lastEventAt?: unknown; currentStage?: unknown })[]; next: number | null } = await this.request('GET', `/nodes?${query}`);
      // The list adds two columns for the web form; the CLI prints what a local list prints.
      for (const { lastEventAt: _last, currentStage: _stage, ...node } of page.nodes) all.push(node);
      after = page.next;
    } while (after !== null);
    return all;
  }

  async show(ref: string, eventLimit: number): Promise<{ node: RemoteNode; events: EventRecord[] }> {
    const node = await this.request<RemoteNode>('GET', RemoteNodes.node(ref));
    const { events } = await this.request<{ events: EventRecord[] }>('GET', `${RemoteNodes.node(String(node.id))}/events?limit=${eventLimit}`);
    return { node, events };
  }

  add(mac: string, settings: NodeSettings): Promise<RemoteNode> {
    return this.request('POST', '/nodes', { mac, ...settings });
  }

  update(ref: string, settings: NodeSettings): Promise<RemoteNode> {
    return this.request('PATCH', RemoteNodes.node(ref), settings);
  }

  assign(ref: string, settings: NodeSettings): Promise<RemoteNode> {
    return this.request('POST', `${RemoteNodes.node(ref)}/assign`, settings);
  }

  reimage(ref: string): Promise<RemoteNode> {
    return this.request('POST', `${RemoteNodes.node(ref)}/reimage`);
  }

  retry(ref: string): Promise<RemoteNode> {
    return this.request('POST', `${RemoteNodes.node(ref)}/retry`);
  }

  forget(ref: string): Promise<RemoteNode> {
    return this.request('DELETE', RemoteNodes.node(ref));
  }
}
