// Errors that are the client's doing, raised by body parsing (body-parser sets `expose` and a 4xx status):
// too large, not JSON, an unsupported charset, an aborted upload. They get their status, never a 500.
export interface ClientError {
  status: number;
  code: string;
  message: string;
}

const MESSAGES: Record<string, { code: string; message: string }> = {
  'entity.too.large': { code: 'too_large', message: 'request body is too large' },
  'entity.parse.failed': { code: 'invalid_json', message: 'request body could not be parsed' },
  'entity.verify.failed': { code: 'invalid', message: 'request body was refused' },
  'request.aborted': { code: 'aborted', message: 'the request was aborted while its body was read' },
  'request.size.invalid': { code: 'invalid', message: 'request body is shorter or longer than its Content-Length' },
  'encoding.unsupported': { code: 'unsupported', message: 'request body encoding is not supported' },
  'charset.unsupported': { code: 'unsupported', message: 'request body charset is not supported' },
  'parameters.too.many': { code: 'too_large', message: 'too many form fields' },
};

export function clientError(error: unknown): ClientError | null {
  const e = error as { type?: string; status?: number; expose?: boolean } | null;
  if (!e || typeof e.status !== 'number' || e.status < 400 || e.status >= 500 || !e.expose) return null;
  const known = e.type ? MESSAGES[e.type] : undefined;
  return { status: e.status, code: known?.code ?? 'invalid', message: known?.message ?? 'request refused' };
}
