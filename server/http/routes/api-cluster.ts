// /api/v1/cluster, /checks, /secrets and /profiles. Secrets come only from an explicit POST, which is audited.
import { Router } from 'express';
import type { AppContext } from '../../context.ts';
import { actorOf } from '../auth/middleware.ts';
import { RequestError } from './api-errors.ts';
import { strictRouter } from '../router.ts';

export function clusterApiRoutes(ctx: AppContext): Router {
  const router = strictRouter();
  const cluster = ctx.services.cluster;

  router.get('/cluster', (_req, res) => {
    res.json(cluster.settings());
  });

  router.patch('/cluster', (req, res) => {
    const body: unknown = req.body;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new RequestError(400, 'invalid', 'request body must be a JSON object', 'body');
    res.json(cluster.update(body as Record<string, unknown>, actorOf(res)));
  });

  router.get('/cluster/checks', (_req, res) => {
    res.json({ checks: cluster.checks() });
  });

  router.post('/cluster/secrets/reveal', (_req, res) => {
    res.set('Cache-Control', 'no-store');
    res.json({ secrets: cluster.revealSecrets(actorOf(res)) });
  });

  router.get('/profiles', (_req, res) => {
    res.json({ profiles: ctx.store.profiles.list() });
  });

  return router;
}
