import { Router } from 'express';
import type { AppContext } from '../../context.ts';

export function healthRoutes(ctx: AppContext): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    ctx.store.db.prepare('SELECT 1').get();
    res.json({ status: 'ok', nodes: ctx.store.nodes.size() });
  });
  return router;
}
