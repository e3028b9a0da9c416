// Every route an express app has registered, read from its router stack (nested routers and mount paths
// included). The access test walks this list, so a route added anywhere is checked without being named.
import type { Express } from 'express';

export interface RegisteredRoute {
  method: string;
  /** The full path pattern, e.g. `/api/v1/nodes/:ref` or `/boot/*path`. */
  path: string;
}

interface LayerLike {
  rawPath?: unknown;
  route?: { path: unknown; methods: Record<string, boolean> };
  handle?: { stack?: LayerLike[] };
  name?: string;
}

function join(prefix: string, path: string): string {
  const joined = `${prefix}/${path}`.replace(/\/+/g, '/');
  return joined.length > 1 ? joined.replace(/\/$/, path.endsWith('/') && path !== '/' ? '/' : '') : joined;
}

function walk(stack: LayerLike[], prefix: string, out: RegisteredRoute[]): void {
  for (const layer of stack) {
    const raw = typeof layer.rawPath === 'string' ? layer.rawPath : '/';
    if (layer.route) {
      const paths = Array.isArray(layer.route.path) ? (layer.route.path as string[]) : [String(layer.route.path)];
      for (const method of Object.keys(layer.route.methods)) {
        for (const path of paths) out.push({ method: method.toUpperCase(), path: join(prefix, path) });
      }
    } else if (layer.handle?.stack) {
      walk(layer.handle.stack, raw === '/' ? prefix : join(prefix, raw), out);
    } else if (raw !== '/') {
      // A mounted middleware such as express.static('/static'): it answers GET (and HEAD) below its path.
      out.push({ method: 'GET', path: join(prefix, `${raw}/*rest`) });
    }
  }
}

export function registeredRoutes(app: Express): RegisteredRoute[] {
  const out: RegisteredRoute[] = [];
  walk((app.router as unknown as { stack: LayerLike[] }).stack, '', out);
  const seen = new Set<string>();
  return out.filter((route) => {
    const key = `${route.method} ${route.path}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
