// GET /boot/<file>: loaders, kernels, initrds, ISOs and install trees from config.bootDir. Streamed, with
// Content-Length, Range (one range; several ranges get the whole file), HEAD, ETag and Last-Modified, through
// express's sendFile. Paths with `..`, empty or backslash segments are refused before any lookup.
import { Router, type Request, type Response } from 'express';
import type { AppContext } from '../../context.ts';

// Dot files are allowed: RHEL install trees have .treeinfo and .discinfo.
const SEGMENT = /^[A-Za-z0-9._+~=,@-]+$/;
const NOT_FOUND_CODES = new Set(['ENOENT', 'EISDIR', 'ENOTDIR', 'ENAMETOOLONG']);

export function bootFileProblem(segments: string[]): string | null {
  if (segments.length === 0) return 'no file named';
  for (const segment of segments) {
    if (segment === '..' || segment === '.') return 'path traversal';
    if (!SEGMENT.test(segment)) return `bad path segment ${JSON.stringify(segment)}`;
  }
  return null;
}

export function fileRoutes(ctx: AppContext): Router {
  const router = Router();
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
    res.sendFile(segments.join('/'), { root: ctx.config.bootDir, dotfiles: 'allow', acceptRanges: true, lastModified: true, cacheControl: false, headers: { 'Content-Type': 'application/octet-stream' } }, (error?: Error & { status?: number; code?: string }) => {
      if (!error) return;
      if (res.headersSent) return; // client went away mid-transfer
      const status = error.status ?? (NOT_FOUND_CODES.has(error.code ?? '') ? 404 : 500);
      if (status >= 500) ctx.log.error({ err: error, path: req.path }, 'boot file failed');
      res.status(status).type('text/plain').send(status === 404 ? `not found: boot/${segments.join('/')}\n` : 'cannot serve this file\n');
    });
  };
  router.get('/boot/*path', serve);
  return router;
}
