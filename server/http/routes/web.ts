// The web form: login, Nodes, Node, Cluster, Preview and the live stream. Who may see or change what is decided
// by the access gate (../access.ts) before a request gets here.
import { join } from 'node:path';
import express, { type ErrorRequestHandler, type Router } from 'express';
import type { AppContext } from '../../context.ts';
import type { Accounts } from '../auth/accounts.ts';
import { securityHeaders } from '../auth/security.ts';
import { describeError } from './api-errors.ts';
import { clusterWebRoutes } from './web-cluster.ts';
import { LiveHub, liveRoutes } from './web-live.ts';
import { loginRoutes } from './web-login.ts';
import { nodeWebRoutes } from './web-nodes.ts';
import { loadViews } from './web-views.ts';
import { onStageOutput } from '../../orchestrator/live.ts';
import { strictRouter } from '../router.ts';

export function webRoutes(ctx: AppContext, accounts: Accounts, hub: LiveHub = new LiveHub(ctx, (listener) => onStageOutput(ctx, listener))): Router {
  const views = loadViews(ctx.config.webDir);
  const router = strictRouter();
  router.use(securityHeaders());
  router.use('/static', express.static(join(ctx.config.webDir, 'static'), { index: false, maxAge: '1h' }));
  router.use(loginRoutes(ctx, accounts, views));
  router.use(nodeWebRoutes(ctx, views));
  router.use(clusterWebRoutes(ctx, views));
  router.use(liveRoutes(hub));
  const onError: ErrorRequestHandler = (error: unknown, req, res, _next) => {
    const known = describeError(error);
    if (!known) ctx.log.error({ err: error, url: req.originalUrl }, 'web request failed');
    if (res.headersSent) return;
    views.render(res, 'message', { title: 'Error', heading: known ? 'Refused' : 'Something went wrong', text: known ? known.body.error.message : 'The appliance log has the details.' }, known?.status ?? 500);
  };
  router.use(onError);
  return router;
}
