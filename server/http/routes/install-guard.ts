// The shared door of every route below /install/<token>/: the token and the caller's address are checked by
// InstallCallbacks before anything else, the body is read only after that (under a small limit), and the node
// is handed to the route in res.locals. Routes added for agents (inventory, progress, ...) use the same guard.
import express, { type Request, type RequestHandler, type Response } from 'express';
import type { AppContext } from '../../context.ts';
import type { StoredNode } from '../../store/nodes.ts';
import { plainAddress } from '../../services/install-callbacks.ts';

export const CALLBACK_BODY_LIMIT = 16 * 1024;

export interface CallbackLocals {
  node: StoredNode;
  /** `over`: this generation's done was claimed before (only for guards with afterDone: 'claim'). */
  phase: 'live' | 'over';
  source: string;
}

export function callbackOf(res: Response): CallbackLocals {
  const found = res.locals.callback as CallbackLocals | undefined;
  if (!found) throw new Error('route reached without the install callback guard');
  return found;
}

export const callbackSource = (req: Request) => plainAddress(req.socket.remoteAddress);

/**
 * `what` names the request in events (a function of the request for routes with a parameter). POST routes
 * pass afterDone 'claim' so a second claim of the node is seen (and fails it) rather than vanishing in a 404.
 */
export function installCallbackGuard(ctx: AppContext, what: string | ((req: Request) => string), options: { afterDone: 'claim' | 'refuse' }): RequestHandler {
  return (req, res, next) => {
    const source = callbackSource(req);
    const verdict = ctx.services.callbacks.authorize(
      { token: String(req.params.token), what: typeof what === 'string' ? what : what(req), source },
      options.afterDone,
    );
    if (!verdict.ok) {
      res.set('Connection', 'close').status(verdict.status).type('text/plain').send(verdict.message);
      return;
    }
    res.locals.callback = { node: verdict.node, phase: verdict.phase, source } satisfies CallbackLocals;
    next();
  };
}

/** Installers post plain text (busybox wget, curl --data-binary) or JSON; anything else is read as text. */
export const callbackBody: RequestHandler[] = [express.json({ limit: CALLBACK_BODY_LIMIT }), express.text({ type: () => true, limit: CALLBACK_BODY_LIMIT })];
