// GET /metrics: the appliance's Prometheus metrics (services/metrics.ts). Not a boot route: the access table
// (access.ts) lets any user with the viewer role or above read it, with an API token (Authorization: Bearer,
// what Prometheus sends with `authorization: { credentials: TOKEN }`) or a logged-in session.
import { Router, type RequestHandler } from 'express';
import type { AppContext } from '../../context.ts';
import { routeGroup } from '../../services/metrics.ts';

/** Counts every request by route group and status, and the requests in flight (file transfers included). */
export function countRequests(ctx: AppContext): RequestHandler {
  const { metrics } = ctx.services;
  return (req, res, next) => {
    metrics.httpInFlight.inc();
    let counted = false;
    const done = () => {
      if (counted) return;
      counted = true;
      metrics.httpInFlight.dec();
      metrics.httpRequests.inc({ route: routeGroup(req.path), status: String(res.statusCode) });
    };
    res.once('finish', done);
    res.once('close', done);
    next();
  };
}

export function metricsRoutes(ctx: AppContext): Router {
  const router = Router();
  router.get('/metrics', (_req, res, next) => {
    ctx.services.metrics
      .text()
      .then((text) => res.set('Cache-Control', 'no-store').type(ctx.services.metrics.contentType).send(text))
      .catch(next);
  });
  return router;
}
