// Every route the API router serves is in the OpenAPI document, and every documented route is served.
import { describe, expect, it } from 'vitest';
import { openApiDocument } from '../../server/http/routes/api-openapi.ts';
import { nodeApiRoutes } from '../../server/http/routes/api-nodes.ts';
import { clusterApiRoutes } from '../../server/http/routes/api-cluster.ts';
import type { AppContext } from '../../server/context.ts';

function servedRoutes(): string[] {
  const ctx = { services: {}, store: {}, config: {}, log: {} } as unknown as AppContext;
  const routes: string[] = ['get /whoami', 'get /openapi.json'];
  for (const router of [nodeApiRoutes(ctx), clusterApiRoutes(ctx)]) {
    for (const layer of (router as unknown as { stack: { route?: { path: string; methods: Record<string, boolean> } }[] }).stack) {
      if (!layer.route) continue;
      for (const method of Object.keys(layer.route.methods)) routes.push(`${method} ${layer.route.path.replace(/:(\w+)/g, '{$1}')}`);
    }
  }
  return routes.sort();
}

describe('OpenAPI document', () => {
  it('lists exactly the routes the API serves', () => {
    const doc = openApiDocument() as { paths: Record<string, Record<string, unknown>> };
    const documented = Object.entries(doc.paths)
      .flatMap(([path, item]) => Object.keys(item).filter((k) => k !== 'parameters').map((method) => `${method} ${path}`))
      .sort();
    expect(documented).toEqual(servedRoutes());
  });
});
