// Service errors as JSON: { error: { code, message, field } }, with the HTTP status each one means.
import type { ErrorRequestHandler, Response } from 'express';
import { IllegalTransitionError } from '../../domain/lifecycle.ts';
import { ConflictError, NotFoundError, ValidationError } from '../../services/errors.ts';
import { StaleStateError } from '../../store/nodes.ts';
import type { Logger } from '../../log.ts';

export interface ApiErrorBody {
  error: { code: string; message: string; field: string | null };
}

export class RequestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field: string | null = null,
  ) {
    super(message);
  }
}

/** The status and body for an error a service raised, or null when it is not an operator-facing error. */
export function describeError(error: unknown): { status: number; body: ApiErrorBody } | null {
  const body = (code: string, message: string, field: string | null = null): ApiErrorBody => ({ error: { code, message, field } });
  if (error instanceof RequestError) return { status: error.status, body: body(error.code, error.message, error.field) };
  if (error instanceof ValidationError) return { status: 400, body: body(error.code, error.message, error.field) };
  if (error instanceof NotFoundError) return { status: 404, body: body(error.code, error.message) };
  if (error instanceof ConflictError) return { status: 409, body: body(error.code, error.message, error.field) };
  if (error instanceof IllegalTransitionError) return { status: 409, body: body(error.code, error.message, 'state') };
  if (error instanceof StaleStateError) return { status: 409, body: body(error.code, error.message, 'state') };
  // express.json() failures: a body that is not JSON, or too large.
  const parseError = error as { type?: string; status?: number; message?: string };
  if (parseError.type === 'entity.parse.failed') return { status: 400, body: body('invalid_json', `request body is not valid JSON: ${parseError.message}`) };
  if (parseError.type === 'entity.too.large') return { status: 413, body: body('too_large', 'request body is too large') };
  return null;
}

export function sendError(res: Response, status: number, code: string, message: string, field: string | null = null): void {
  res.status(status).json({ error: { code, message, field } } satisfies ApiErrorBody);
}

export function apiErrorHandler(log: Logger): ErrorRequestHandler {
  return (error: unknown, req, res, _next) => {
    const known = describeError(error);
    if (known) {
      res.status(known.status).json(known.body);
      return;
    }
    log.error({ err: error, url: req.originalUrl }, 'api request failed');
    if (!res.headersSent) sendError(res, 500, 'internal', 'internal error; the appliance log has the details');
  };
}
