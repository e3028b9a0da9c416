// The REST API under /api/v1. Who may call what is decided by the access gate (../access.ts) before a request
// gets here; bodies arrive parsed. Errors are JSON: { error: { code, message, field } }.
import type { Router } from 'express';
import type { AppContext } from '../../context.ts';
import { currentUser } from '../auth/middleware.ts';
import { securityHeaders } from '../auth/security.ts';
import { strictRouter } from '../router.ts';
import { clusterApiRoutes } from './api-cluster.ts';
import { apiErrorHandler, sendError } from './api-errors.ts';
import { nodeApiRoutes } from './api-nodes.ts';
import { openApiDocument } from './api-openapi.ts';

export function apiRoutes(ctx: AppContext): Router {
  const api = strictRouter();
  api.use(securityHeaders());
  api.use((_req, res, next) => {
    res.set('Cache-Control', 'no-store');
    next();
  });
  api.get('/openapi.json', (_req, res) => {
    res.json(openApiDocument());
  });
  api.get('/whoami', (_req, res) => {
    const user = currentUser(res)!;
    res.json({ username: user.username, role: user.role, via: user.via });
  });
  api.use(nodeApiRoutes(ctx));
  api.use(clusterApiRoutes(ctx));
  api.use((req, res) => sendError(res, 404, 'no_route', `no API route ${req.method} ${req.originalUrl.split('?')[0]} (see /api/v1/openapi.json)`));
  api.use(apiErrorHandler(ctx.log));

  const router = strictRouter();
  router.use('/api/v1', api);
  return router;
}
