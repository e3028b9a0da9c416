// A 30 MB body, over a real socket, to every route that takes one (and to one that takes none): 413 before
// anything is parsed, whoever asks, and never an error-level log with a stack. Without Content-Length (chunked)
// the parsers' own limits answer 413 too.
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from '../api/harness.ts';
import { leaseTo } from '../helpers/http-from.ts';

let api: TestApi;
let nodeId: number;
let token: string;
const errors: unknown[] = [];

beforeAll(async () => {
  api = await startTestApi();
  const node = api.ctx.services.nodes.add('52:54:00:00:40:01', { hostname: 'big-1', profile: 'debian-12' }, 'test');
  nodeId = node.id;
  token = api.ctx.services.nodes.installTokenOf(node)!;
  // The test is the node's installer (callbacks are taken only from its address), so the body reaches the parser.
  leaseTo(api.ctx, node.mac, '127.0.0.1');
  const log = api.ctx.log as unknown as { error: (...args: unknown[]) => void };
  log.error = (...args: unknown[]) => errors.push(args);
});
afterAll(async () => {
  await api.close();
});

const MB30 = 30 * 1024 * 1024;

/** Sends `size` bytes (declared in Content-Length, or chunked) and returns the status the server answered. */
function send(method: string, path: string, size: number, options: { chunked?: boolean; auth?: boolean } = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const url = new URL(path, api.base);
    const headers: Record<string, string | number> = { 'content-type': 'application/json' };
    if (!options.chunked) headers['content-length'] = size;
    if (options.auth) headers.authorization = `Bearer ${api.token}`;
    const req = request({ host: url.hostname, port: url.port, path: url.pathname, method, headers }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    // The server may answer and close before the upload ends: that is the point.
    req.on('error', (error: NodeJS.ErrnoException) => (['EPIPE', 'ECONNRESET'].includes(error.code ?? '') ? undefined : reject(error)));
    const chunk = Buffer.alloc(1024 * 1024, 0x61);
    let sent = 0;
    const pump = () => {
      while (sent < size) {
        sent += chunk.length;
        if (!req.write(chunk)) return void req.once('drain', pump);
      }
      req.end();
    };
    pump();
  });
}

describe('body limits before parsing', () => {
  const routes = () => [
    ['POST', `/install/${token}/done`],
    ['POST', `/install/${token}/failed`],
    ['POST', `/install/${token}/started`],
    ['POST', '/login'],
    ['POST', '/api/v1/nodes'],
    ['PATCH', `/api/v1/nodes/${nodeId}`],
    ['POST', `/nodes/${nodeId}/reimage`],
    ['POST', '/cluster'],
    ['GET', '/boot.ipxe'],
    ['GET', `/install/${token}/preseed`],
  ] as const;

  it('answers 413 to a 30 MB body with Content-Length on every route, authenticated or not', async () => {
    for (const [method, path] of routes()) {
      expect(await send(method, path, MB30), `${method} ${path}`).toBe(413);
      expect(await send(method, path, MB30, { auth: true }), `${method} ${path} with a token`).toBe(413);
    }
    expect(errors).toEqual([]);
  });

  it('answers 413 to a 30 MB chunked body (no Content-Length) on the installer and API routes', async () => {
    expect(await send('POST', `/install/${token}/done`, MB30, { chunked: true })).toBe(413);
    expect(await send('POST', '/api/v1/nodes', MB30, { chunked: true, auth: true })).toBe(413);
    expect(errors).toEqual([]);
    expect(api.ctx.services.nodes.find(nodeId).state).toBe('assigned');
  });
});
