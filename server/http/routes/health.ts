import { Router } from 'express';
import type { AppContext } from '../../context.ts';
import { strictRouter } from '../router.ts';

export function healthRoutes(ctx: AppContext): Router {
  const router = strictRouter();
  router.get('/healthz', (_req, res) => {
    ctx.store.db.prepare('SELECT 1').get();
    res.json({ status: 'ok', nodes: ctx.store.nodes.size() });
  });
  return router;
}
