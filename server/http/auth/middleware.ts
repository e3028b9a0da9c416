// Who is asking: a session cookie (browser) or an Authorization: Bearer token (scripts, the remote CLI).
// Mutating requests over a cookie must also carry the session's CSRF token (form field or header).
import { timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Accounts, AuthenticatedUser } from './accounts.ts';

export const SESSION_COOKIE = 'racklift_session';
export const CSRF_HEADER = 'x-csrf-token';
export const CSRF_FIELD = '_csrf';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function currentUser(res: Response): AuthenticatedUser | null {
  return (res.locals.user as AuthenticatedUser | undefined) ?? null;
}

/** The user of a route that ran behind requireApiUser/requireWebUser. */
export function actorOf(res: Response): string {
  const user = currentUser(res);
  if (!user) throw new Error('route reached without an authenticated user');
  return user.username;
}

function bearerToken(req: Request): string | null {
  const header = req.headers.authorization;
  const match = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
  return match ? match[1]! : null;
}

export function identify(accounts: Accounts): RequestHandler {
  return (req, res, next) => {
    const token = bearerToken(req);
    const sessionId = (req.cookies as Record<string, string> | undefined)?.[SESSION_COOKIE];
    res.locals.user = token ? accounts.apiToken(token) : sessionId ? accounts.session(sessionId) : null;
    res.locals.bearerRejected = token !== null && res.locals.user === null;
    next();
  };
}

function sameSecret(given: unknown, expected: string): boolean {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** True when a cookie-authenticated mutating request carries the right CSRF token (header or form field). */
export function csrfOk(req: Request, user: AuthenticatedUser): boolean {
  if (user.via === 'token' || SAFE_METHODS.has(req.method)) return true;
  const given = req.get(CSRF_HEADER) ?? (req.body as Record<string, unknown> | undefined)?.[CSRF_FIELD];
  return sameSecret(given, user.csrfToken ?? '');
}

type Refusal = (res: Response, status: 401 | 403, code: string, message: string) => void;

function requireUser(refuse: Refusal, onMissing?: (req: Request, res: Response) => boolean): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const user = currentUser(res);
    if (!user) {
      if (onMissing?.(req, res)) return;
      const message = res.locals.bearerRejected
        ? 'the API token is unknown or revoked (racklift user token NAME makes a new one)'
        : 'log in first, or send an API token as Authorization: Bearer TOKEN';
      return refuse(res, 401, 'unauthorized', message);
    }
    if (!csrfOk(req, user)) {
      return refuse(res, 403, 'csrf', `missing or wrong CSRF token: send the ${CSRF_HEADER} header (or the ${CSRF_FIELD} form field) of your session`);
    }
    next();
  };
}

export const requireApiUser = (): RequestHandler =>
  requireUser((res, status, code, message) => {
    res.status(status).json({ error: { code, message, field: null } });
  });

/** Web pages send a browser without a session to the login page; a refused form answers a plain page. */
export const requireWebUser = (): RequestHandler =>
  requireUser(
    (res, status, _code, message) => {
      res.status(status).type('text/plain').send(`${message}\n`);
    },
    (req, res) => {
      if (req.method !== 'GET') return false;
      res.redirect(303, `/login?next=${encodeURIComponent(req.originalUrl)}`);
      return true;
    },
  );
