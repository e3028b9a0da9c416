// GET/POST /login and POST /logout. The login form is protected against cross-site posts by a double-submit
// token (cookie + form field) since there is no session yet; failed attempts are rate-limited per address.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import express, { type Request, type Response, type Router } from 'express';
import { rateLimit } from 'express-rate-limit';
import type { AppContext } from '../../context.ts';
import type { Accounts } from '../auth/accounts.ts';
import { currentUser, SESSION_COOKIE } from '../auth/middleware.ts';
import type { Views } from './web-views.ts';
import { strictRouter } from '../router.ts';

const LOGIN_CSRF_COOKIE = 'racklift_login';
export const LOGIN_ATTEMPTS = 10;
const LOGIN_WINDOW_MS = 10 * 60 * 1000;

/** Only a path on this appliance: never `//host` or a full URL (no open redirect). */
export function safeNext(value: unknown): string {
  return typeof value === 'string' && /^\/(?![/\\])[\x21-\x7e]*$/.test(value) && !value.startsWith('/login') ? value : '/nodes';
}

const cookieOptions = (req: Request, maxAgeMs?: number) => ({
  httpOnly: true,
  sameSite: 'strict' as const,
  secure: req.secure,
  path: '/',
  ...(maxAgeMs !== undefined ? { maxAge: maxAgeMs } : {}),
});

function same(a: unknown, b: unknown): boolean {
  if (typeof a !== 'string' || typeof b !== 'string' || a.length === 0) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function loginRoutes(ctx: AppContext, accounts: Accounts, views: Views): Router {
  const router = strictRouter();
  const loginForm = express.urlencoded({ extended: false, limit: '8kb', parameterLimit: 20 });

  const showLogin = (req: Request, res: Response, status: number, error: string | null, username = '') => {
    const token = randomBytes(24).toString('base64url');
    res.cookie(LOGIN_CSRF_COOKIE, token, cookieOptions(req, 30 * 60 * 1000));
    views.render(res, 'login', { title: 'Log in', csrfToken: token, error, username, next: safeNext(req.query.next ?? (req.body as Record<string, unknown> | undefined)?.next), bodyClass: 'login' }, status);
  };

  router.get('/login', (req, res) => {
    if (currentUser(res)) return res.redirect(303, safeNext(req.query.next));
    showLogin(req, res, 200, null);
  });

  const limiter = rateLimit({
    windowMs: LOGIN_WINDOW_MS,
    limit: LOGIN_ATTEMPTS,
    skipSuccessfulRequests: true,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    handler: (req, res) => {
      ctx.log.warn({ address: req.ip }, 'login rate limit reached');
      res.status(429);
      showLogin(req, res, 429, 'Too many failed log-ins from this address. Wait ten minutes, then try again.');
    },
  });

  // Public: the gate has checked only the size (Content-Length), so the form is parsed here, under the same limit.
  router.post('/login', limiter, loginForm, async (req, res) => {
    const form = (req.body ?? {}) as Record<string, unknown>;
    const cookies = req.cookies as Record<string, string>;
    if (!same(form._csrf, cookies[LOGIN_CSRF_COOKIE])) return showLogin(req, res, 403, 'The log-in form expired. Please try again.');
    const username = typeof form.username === 'string' ? form.username.trim() : '';
    const password = typeof form.password === 'string' ? form.password : '';
    const user = await accounts.checkPassword(username, password);
    if (!user) {
      ctx.log.warn({ username, address: req.ip }, 'login refused');
      return showLogin(req, res, 401, 'Wrong user name or password.', username);
    }
    const session = accounts.startSession(user.id);
    ctx.store.events.append({ nodeId: null, mac: null, kind: 'auth', message: `${user.username} logged in from ${req.ip ?? 'unknown address'}`, actor: user.username });
    res.clearCookie(LOGIN_CSRF_COOKIE, cookieOptions(req));
    res.cookie(SESSION_COOKIE, session.sessionId, cookieOptions(req, session.maxAgeSeconds * 1000));
    res.redirect(303, safeNext(form.next));
  });

  router.post('/logout', (req, res) => {
    const sessionId = (req.cookies as Record<string, string>)[SESSION_COOKIE];
    if (sessionId) accounts.endSession(sessionId);
    const user = currentUser(res)!;
    ctx.store.events.append({ nodeId: null, mac: null, kind: 'auth', message: `${user.username} logged out`, actor: user.username });
    res.clearCookie(SESSION_COOKIE, cookieOptions(req));
    res.redirect(303, '/login');
  });

  return router;
}
