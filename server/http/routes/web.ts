// The web form: login, Nodes, Node, Cluster, Preview and the live stream. Only the paths listed here pass
// through its middleware (body parsing, session, security headers), so other routers keep their own rules.
import { join } from 'node:path';
import express, { Router, type ErrorRequestHandler, type RequestHandler } from 'express';
import cookieParser from 'cookie-parser';
import type { AppContext } from '../../context.ts';
import type { Accounts } from '../auth/accounts.ts';
import { identify, requireWebUser } from '../auth/middleware.ts';
import { securityHeaders } from '../auth/security.ts';
import { describeError } from './api-errors.ts';
import { clusterWebRoutes } from './web-cluster.ts';
import { LiveHub, liveRoutes } from './web-live.ts';
import { loginRoutes } from './web-login.ts';
import { nodeWebRoutes } from './web-nodes.ts';
import { loadViews } from './web-views.ts';
import { onStageOutput } from '../../orchestrator/live.ts';

const PAGE_PATHS = /^\/(?:$|nodes(?:\/|$)|cluster(?:\/|$)|events\/stream$)/;
const PUBLIC_PATHS = /^\/(?:login|logout|static\/)/;

function when(test: RegExp, handlers: RequestHandler[]): RequestHandler {
  return (req, res, next) => {
    if (!test.test(req.path)) return next();
    let i = 0;
    const step = (error?: unknown) => {
      if (error) return next(error);
      const handler = handlers[i++];
      if (!handler) return next();
      handler(req, res, step);
    };
    step();
  };
}

export function webRoutes(ctx: AppContext, accounts: Accounts, hub: LiveHub = new LiveHub(ctx, (listener) => onStageOutput(ctx, listener))): Router {
  const views = loadViews(ctx.config.webDir);
  const common = [securityHeaders(), cookieParser(), express.urlencoded({ extended: false, limit: '64kb', parameterLimit: 5000 }), identify(accounts)];
  const router = Router();
  router.use(when(PUBLIC_PATHS, common));
  router.use(when(PAGE_PATHS, [...common, requireWebUser()]));
  router.use('/static', express.static(join(ctx.config.webDir, 'static'), { index: false, maxAge: '1h' }));
  router.use(loginRoutes(ctx, accounts, views));
  router.use(nodeWebRoutes(ctx, views));
  router.use(clusterWebRoutes(ctx, views));
  router.use(liveRoutes(hub));
  const onError: ErrorRequestHandler = (error: unknown, req, res, next) => {
    if (!PAGE_PATHS.test(req.path) && !PUBLIC_PATHS.test(req.path)) return next(error);
    const known = describeError(error);
    if (!known) ctx.log.error({ err: error, url: req.originalUrl }, 'web request failed');
    if (res.headersSent) return;
    views.render(res, 'message', { title: 'Error', heading: known ? 'Refused' : 'Something went wrong', text: known ? known.body.error.message : 'The appliance log has the details.' }, known?.status ?? 500);
  };
  router.use(onError);
  return router;
}
