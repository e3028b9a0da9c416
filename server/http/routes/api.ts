// The REST API under /api/v1. Every route needs a user (API token, or session + CSRF for mutations);
// only the OpenAPI document is public. Errors are JSON: { error: { code, message, field } }.
import express, { Router } from 'express';
import cookieParser from 'cookie-parser';
import type { AppContext } from '../../context.ts';
import type { Accounts } from '../auth/accounts.ts';
import { currentUser, identify, requireApiUser } from '../auth/middleware.ts';
import { securityHeaders } from '../auth/security.ts';
import { clusterApiRoutes } from './api-cluster.ts';
import { apiErrorHandler, sendError } from './api-errors.ts';
import { nodeApiRoutes } from './api-nodes.ts';
import { openApiDocument } from './api-openapi.ts';

export function apiRoutes(ctx: AppContext, accounts: Accounts): Router {
  const api = Router();
  api.use(securityHeaders());
  api.use((_req, res, next) => {
    res.set('Cache-Control', 'no-store');
    next();
  });
  api.get('/openapi.json', (_req, res) => {
    res.json(openApiDocument());
  });
  api.use(cookieParser());
  api.use(identify(accounts));
  api.use(requireApiUser());
  api.use(express.json({ limit: '256kb' }));
  api.get('/whoami', (_req, res) => {
    const user = currentUser(res)!;
    res.json({ username: user.username, via: user.via });
  });
  api.use(nodeApiRoutes(ctx));
  api.use(clusterApiRoutes(ctx));
  api.use((req, res) => sendError(res, 404, 'no_route', `no API route ${req.method} ${req.originalUrl.split('?')[0]} (see /api/v1/openapi.json)`));
  api.use(apiErrorHandler(ctx.log));

  const router = Router();
  router.use('/api/v1', api);
  return router;
}
