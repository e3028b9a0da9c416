// The express application: the access gate (access.ts) first, then one router per concern under routes/.
import cookieParser from 'cookie-parser';
import express, { type ErrorRequestHandler } from 'express';
import type { AppContext } from '../context.ts';
import { accessGate } from './access.ts';
import { Accounts } from './auth/accounts.ts';
import { clientError } from './client-errors.ts';
import { apiRoutes } from './routes/api.ts';
import { bootRoutes } from './routes/boot.ts';
import { fileRoutes } from './routes/files.ts';
import { healthRoutes } from './routes/health.ts';
import { installRoutes } from './routes/install.ts';
import { countRequests, metricsRoutes } from './routes/metrics.ts';
import { webRoutes } from './routes/web.ts';
import { redactedPath } from '../services/contacts.ts';

export interface HttpAppOptions {
  /** The plain-HTTP app beside an HTTPS listener on this port: boot routes only, the rest is sent there. */
  httpsPort?: number;
}

export function createHttpApp(ctx: AppContext, options: HttpAppOptions = {}): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  app.set('case sensitive routing', true);
  app.set('strict routing', true);
  const accounts = new Accounts(ctx.store);
  // Counted and noted before the gate, so refusals are counted too and any request is a sign of life.
  app.use(countRequests(ctx));
  app.use((req, _res, next) => {
    ctx.services.contacts.noteAddress(req.socket.remoteAddress, `http ${req.method} ${redactedPath(req.path)}`);
    next();
  });
  app.use(cookieParser());
  app.use(accessGate(accounts, { httpsPort: options.httpsPort }));
  app.use(healthRoutes(ctx));
  app.use(bootRoutes(ctx));
  app.use(fileRoutes(ctx));
  app.use(installRoutes(ctx));
  app.use(metricsRoutes(ctx));
  app.use(apiRoutes(ctx));
  app.use(webRoutes(ctx, accounts));
  const onError: ErrorRequestHandler = (error: unknown, req, res, _next) => {
    const known = clientError(error);
    if (known) {
      // A client's mistake (a body too large or not parseable): answered, logged without a stack.
      ctx.log.info({ url: req.originalUrl, status: known.status, reason: known.message }, 'http request refused');
      if (res.headersSent) return;
      res.status(known.status).set('Connection', 'close');
      if (req.path.startsWith('/api/')) res.json({ error: { code: known.code, message: known.message, field: null } });
      else res.type('text/plain').send(`${known.message}\n`);
      return;
    }
    ctx.log.error({ err: error, url: req.originalUrl }, 'http request failed');
    if (!res.headersSent) res.status(500).type('text/plain').send('internal error\n');
  };
  app.use(onError);
  return app;
}
