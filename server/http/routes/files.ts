// GET /boot/<file>: loaders, kernels, initrds, ISOs and install trees from config.bootDir. Streamed, with
// Content-Length, Range (one range; several ranges get the whole file), HEAD, ETag and Last-Modified, by
// sendFileResponse (large chunks through two reused buffers). Paths with `..`, empty or backslash segments
// are refused before any lookup.
import { Router, type Request, type Response } from 'express';
import { join } from 'node:path';
import type { AppContext } from '../../context.ts';
import { FileUnavailable, sendFileResponse } from '../file-response.ts';
import { strictRouter } from '../router.ts';

// Dot files are allowed: RHEL install trees have .treeinfo and .discinfo.
const SEGMENT = /^[A-Za-z0-9._+~=,@-]+$/;

export function bootFileProblem(segments: string[]): string | null {
  if (segments.length === 0) return 'no file named';
  for (const segment of segments) {
    if (segment === '..' || segment === '.') return 'path traversal';
    if (!SEGMENT.test(segment)) return `bad path segment ${JSON.stringify(segment)}`;
  }
  return null;
}

export function fileRoutes(ctx: AppContext): Router {
  const router = strictRouter();
  const serve = (req: Request, res: Response) => {
    // The raw path, so an encoded `%2e%2e` or `%2f` is judged after decoding, one segment at a time.
    const raw = req.path.replace(/^\/boot\//, '');
    let segments: string[];
    try {
      segments = raw.split('/').map((segment) => decodeURIComponent(segment));
    } catch {
      res.status(400).type('text/plain').send('bad path encoding\n');
      return;
    }
    const problem = bootFileProblem(segments.filter((segment, i) => segment !== '' || i < segments.length - 1));
    if (problem || segments.some((segment) => segment.includes('/') || segment.includes('\\'))) {
      ctx.log.warn({ path: req.path, problem }, 'boot file request refused');
      res.status(400).type('text/plain').send(`refused: ${problem ?? 'bad path'}\n`);
      return;
    }
    sendFileResponse(req, res, join(ctx.config.bootDir, ...segments)).catch((error: Error) => {
      if (res.headersSent) return; // the client went away mid-transfer
      const status = error instanceof FileUnavailable ? error.status : 500;
      if (status >= 500) ctx.log.error({ err: error, path: req.path }, 'boot file failed');
      res.status(status).type('text/plain').send(status === 404 ? `not found: boot/${segments.join('/')}\n` : 'cannot serve this file\n');
    });
  };
  router.get('/boot/*path', serve);
  return router;
}
