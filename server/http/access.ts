// Deny by default. Every route the appliance serves is listed here with the access it needs and the largest
// body it accepts; a request that matches no rule (a wrong letter case, a trailing slash, a route someone added
// without a rule) is answered 404 before any router sees it. Matching is case-sensitive and strict, like the
// routers. The public rules are the boot and installer routes (firmware and installers carry no credentials;
// installer routes check their install token and source address themselves), the login page and static files.
import express, { type Request, type RequestHandler, type Response } from 'express';
import { match, type MatchFunction } from 'path-to-regexp';
import { leastRoleFor, mayAccess, type AccessLevel } from '../domain/user-roles.ts';
import type { Accounts } from './auth/accounts.ts';
import { csrfOk, CSRF_FIELD, CSRF_HEADER, currentUser, identifyRequest } from './auth/middleware.ts';

export interface RouteRule {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  path: string;
  access: AccessLevel;
  /** Largest request body in bytes (checked on Content-Length before anything is read); 0 for none. */
  maxBody?: number;
  /** Served on the plain-HTTP listener too (boot and installer routes: firmware has no TLS). */
  plainHttp?: boolean;
}

const KB = 1024;
const INSTALLER_BODY = 16 * KB;
const FORM_BODY = 64 * KB;
const API_BODY = 256 * KB;

const rule = (method: RouteRule['method'], path: string, access: AccessLevel, maxBody?: number): RouteRule => ({ method, path, access, maxBody });
/** A boot or installer route: public, and answered over plain HTTP as well as HTTPS. */
const boot = (method: RouteRule['method'], path: string, maxBody?: number): RouteRule => ({ method, path, access: 'public', maxBody, plainHttp: true });

export const ROUTE_RULES: readonly RouteRule[] = [
  // Public boot and installer routes, also on plain HTTP (firmware without TLS).
  boot('GET', '/healthz'),
  boot('GET', '/boot.ipxe'),
  boot('GET', '/boot/*path'),
  boot('GET', '/install/:token/:kind'),
  boot('POST', '/install/:token/started', INSTALLER_BODY),
  boot('POST', '/install/:token/done', INSTALLER_BODY),
  boot('POST', '/install/:token/failed', INSTALLER_BODY),
  // Public, HTTPS only when it is on: the login page, static files, the API description.
  rule('GET', '/api/v1/openapi.json', 'public'),
  rule('GET', '/static/*rest', 'public'),
  rule('GET', '/login', 'public'),
  rule('POST', '/login', 'public', 8 * KB),

  // REST API.
  rule('GET', '/api/v1/whoami', 'read'),
  rule('GET', '/api/v1/nodes', 'read'),
  rule('POST', '/api/v1/nodes', 'operate', API_BODY),
  rule('GET', '/api/v1/nodes/:ref', 'read'),
  rule('PATCH', '/api/v1/nodes/:ref', 'operate', API_BODY),
  rule('DELETE', '/api/v1/nodes/:ref', 'operate'),
  rule('POST', '/api/v1/nodes/:ref/assign', 'operate', API_BODY),
  rule('POST', '/api/v1/nodes/:ref/reimage', 'operate', API_BODY),
  rule('POST', '/api/v1/nodes/:ref/retry', 'operate', API_BODY),
  rule('POST', '/api/v1/nodes/:ref/power', 'operate', API_BODY),
  rule('GET', '/api/v1/nodes/:ref/events', 'read'),
  rule('GET', '/api/v1/nodes/:ref/stage-runs', 'read'),
  // Secrets in the rendered files are masked unless the user is an admin.
  rule('GET', '/api/v1/nodes/:ref/preview', 'read'),
  rule('GET', '/api/v1/events', 'read'),
  rule('GET', '/api/v1/cluster', 'read'),
  rule('PATCH', '/api/v1/cluster', 'admin', API_BODY),
  rule('GET', '/api/v1/cluster/checks', 'read'),
  rule('POST', '/api/v1/cluster/secrets/reveal', 'admin', API_BODY),
  rule('GET', '/api/v1/profiles', 'read'),
  // Prometheus metrics: counters and gauges only, no node names or secrets; any user may read them.
  rule('GET', '/metrics', 'read'),

  // The web form.
  rule('POST', '/logout', 'read', FORM_BODY),
  rule('GET', '/', 'read'),
  rule('GET', '/nodes', 'read'),
  rule('POST', '/nodes/bulk', 'operate', FORM_BODY),
  rule('GET', '/nodes/:id', 'read'),
  rule('POST', '/nodes/:id', 'operate', FORM_BODY),
  rule('POST', '/nodes/:id/reimage', 'operate', FORM_BODY),
  rule('POST', '/nodes/:id/power', 'operate', FORM_BODY),
  rule('POST', '/nodes/:id/retry', 'operate', FORM_BODY),
  rule('POST', '/nodes/:id/forget', 'operate', FORM_BODY),
  rule('GET', '/nodes/:id/preview', 'read'),
  rule('GET', '/cluster', 'read'),
  rule('POST', '/cluster', 'admin', FORM_BODY),
  rule('POST', '/cluster/secrets', 'admin', FORM_BODY),
  rule('GET', '/events/stream', 'read'),
];

export const PUBLIC_ROUTES = ROUTE_RULES.filter((r) => r.access === 'public');

interface CompiledRule extends RouteRule {
  matches: MatchFunction<Partial<Record<string, string | string[]>>>;
}

const compiled: CompiledRule[] = ROUTE_RULES.map((r) => ({ ...r, matches: match(r.path, { sensitive: true, trailing: false }) }));

/** The rule for a request, or null: HEAD is GET's rule; paths match exactly (case, trailing slash). */
export function ruleFor(method: string, path: string): RouteRule | null {
  const wanted = method === 'HEAD' ? 'GET' : method;
  return compiled.find((r) => r.method === wanted && r.matches(path) !== false) ?? null;
}

// Machine-readable routes are refused with a status (401/403 JSON), never sent to the login page: /metrics is
// read by Prometheus with an API token.
const isApi = (req: Request) => req.path.startsWith('/api/') || req.path === '/metrics';

function refuse(req: Request, res: Response, status: number, code: string, message: string): void {
  if (status === 413 || status === 404) res.set('Connection', 'close');
  if (isApi(req)) res.status(status).json({ error: { code, message, field: null } });
  else res.status(status).type('text/plain').send(`${message}\n`);
}

const parsers = new Map<string, RequestHandler>();

/** The API reads JSON, the web form reads forms; always under the route's limit. */
function bodyParser(req: Request, limit: number): RequestHandler {
  const kind = isApi(req) ? 'json' : 'form';
  const id = `${kind} ${limit}`;
  let parser = parsers.get(id);
  if (!parser) {
    parser = kind === 'json' ? express.json({ limit }) : express.urlencoded({ extended: false, limit, parameterLimit: 5000 });
    parsers.set(id, parser);
  }
  return parser;
}

/**
 * Checks every request against ROUTE_RULES: the body size first (from Content-Length, before anything is
 * read), then who asks and whether their role may; only then is a body parsed, and a cookie session's
 * mutation must carry its CSRF token. Public routes parse their own bodies after their own checks.
 */
export interface GateOptions {
  /** Set on the plain-HTTP listener when HTTPS is on: only boot routes are served there, the rest is sent to it. */
  httpsPort?: number;
}

export function accessGate(accounts: Accounts, options: GateOptions = {}): RequestHandler {
  return (req, res, next) => {
    const found = ruleFor(req.method, req.path);
    if (!found) return refuse(req, res, 404, 'no_route', `no route ${req.method} ${req.path}${isApi(req) ? ' (see /api/v1/openapi.json)' : ''}`);
    if (options.httpsPort !== undefined && !found.plainHttp) {
      const https = `https://${req.hostname.includes(':') ? `[${req.hostname}]` : req.hostname}:${options.httpsPort}`;
      if (req.method === 'GET' || req.method === 'HEAD') return res.redirect(308, `${https}${req.originalUrl}`);
      return refuse(req, res, 403, 'https_required', `the web form and the API are served over HTTPS only: use ${https}${req.path}`);
    }
    const declared = Number(req.get('content-length') ?? 0);
    const maxBody = found.maxBody ?? 0;
    if (declared > maxBody) {
      return refuse(req, res, 413, 'too_large', `request body of ${declared} bytes is larger than this route accepts (${maxBody} bytes)`);
    }
    // Read once for every request: the login page and the layout show who is logged in.
    identifyRequest(accounts, req, res);
    res.locals.maxBody = maxBody;
    if (found.access === 'public') return next();
    const user = currentUser(res);
    if (!user) {
      if (!isApi(req) && req.method === 'GET') return res.redirect(303, `/login?next=${encodeURIComponent(req.originalUrl)}`);
      const message = res.locals.bearerRejected
        ? 'the API token is unknown or revoked (racklift user token NAME makes a new one)'
        : 'log in first, or send an API token as Authorization: Bearer TOKEN';
      return refuse(req, res, 401, 'unauthorized', message);
    }
    if (!mayAccess(user.role, found.access)) {
      return refuse(req, res, 403, 'forbidden', `${user.username} is a ${user.role}: ${req.method} ${req.path} needs the ${leastRoleFor(found.access)} role${found.access === 'admin' ? '' : ' or above'}`);
    }
    const checkCsrf = (error?: unknown) => {
      if (error) return next(error);
      if (!csrfOk(req, user)) {
        return refuse(req, res, 403, 'csrf', `missing or wrong CSRF token: send the ${CSRF_HEADER} header (or the ${CSRF_FIELD} form field) of your session`);
      }
      next();
    };
    if (maxBody === 0) return checkCsrf();
    bodyParser(req, maxBody)(req, res, checkCsrf);
  };
}
