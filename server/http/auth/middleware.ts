// Who is asking: a session cookie (browser) or an Authorization: Bearer token (scripts, the remote CLI).
// Mutating requests over a cookie must also carry the session's CSRF token (form field or header). The access
// gate (../access.ts) runs these for every request; routes read the result with currentUser/actorOf.
import { timingSafeEqual } from 'node:crypto';
import type { Request, Response } from 'express';
import type { Accounts, AuthenticatedUser } from './accounts.ts';

export const SESSION_COOKIE = 'racklift_session';
export const CSRF_HEADER = 'x-csrf-token';
export const CSRF_FIELD = '_csrf';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function currentUser(res: Response): AuthenticatedUser | null {
  return (res.locals.user as AuthenticatedUser | undefined) ?? null;
}

/** The user of a route the access gate let through. */
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

/** Sets res.locals.user from the bearer token or the session cookie (cookies parsed by cookie-parser). */
export function identifyRequest(accounts: Accounts, req: Request, res: Response): void {
  const token = bearerToken(req);
  const sessionId = (req.cookies as Record<string, string> | undefined)?.[SESSION_COOKIE];
  res.locals.user = token ? accounts.apiToken(token) : sessionId ? accounts.session(sessionId) : null;
  res.locals.bearerRejected = token !== null && res.locals.user === null;
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
