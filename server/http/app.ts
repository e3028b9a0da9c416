// The express application: one router per concern under routes/.
import express, { type ErrorRequestHandler } from 'express';
import type { AppContext } from '../context.ts';
import { bootRoutes } from './routes/boot.ts';
import { fileRoutes } from './routes/files.ts';
import { healthRoutes } from './routes/health.ts';
import { installRoutes } from './routes/install.ts';
import { Accounts } from './auth/accounts.ts';
import { apiRoutes } from './routes/api.ts';
import { webRoutes } from './routes/web.ts';

export function createHttpApp(ctx: AppContext): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  app.use(healthRoutes(ctx));
  app.use(bootRoutes(ctx));
  app.use(fileRoutes(ctx));
  app.use(installRoutes(ctx));
  const accounts = new Accounts(ctx.store);
  app.use(apiRoutes(ctx, accounts));
  app.use(webRoutes(ctx, accounts));
  const onError: ErrorRequestHandler = (error: Error, req, res, _next) => {
    ctx.log.error({ err: error, url: req.originalUrl }, 'http request failed');
    if (!res.headersSent) res.status(500).type('text/plain').send('internal error\n');
  };
  app.use(onError);
  return app;
}
