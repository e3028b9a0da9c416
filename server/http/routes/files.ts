// GET /boot/<file>: the boot-files root over HTTP, by the same rule and with the same generated configs as
// TFTP (boot-files/files.ts): loaders, kernels, initrds, ISOs and install trees, pxelinux and GRUB configs.
// Files are sent with Content-Length, Range (one range; several ranges get the whole file), HEAD, ETag and
// Last-Modified, by sendFileResponse (from the boot file cache, or from disk in large chunks). Paths with `..`,
// empty or backslash segments are refused before any lookup; a link that leaves boot/ for anything but a
// package directory is "not found".
import type { Request, Response } from 'express';
import type { AppContext } from '../../context.ts';
import { BootFiles, GenerationFailed } from '../../boot-files/files.ts';
import { PathRefused } from '../../boot-files/paths.ts';
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

export function fileRoutes(ctx: AppContext) {
  const router = strictRouter();
  const files = new BootFiles(ctx);
  const notFound = (res: Response, name: string) => res.status(404).type('text/plain').send(`not found: boot/${name}\n`);

  const serve = async (req: Request, res: Response) => {
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
    const name = segments.join('/');
    if (name.endsWith('/')) return notFound(res, name);
    let answer;
    try {
      answer = await files.open(name, 'http');
    } catch (error) {
      if (error instanceof PathRefused) {
        ctx.log.debug({ path: req.path, reason: error.reason }, 'boot file not served');
        return notFound(res, name);
      }
      if (error instanceof GenerationFailed) {
        ctx.log.error({ path: req.path, reason: error.message }, 'boot file could not be generated');
        res.status(500).type('text/plain').send('could not generate the file\n');
        return;
      }
      throw error;
    }
    if (answer.kind === 'generated') {
      res.set('Cache-Control', 'no-store').type('text/plain; charset=utf-8').send(answer.content);
      return;
    }
    await sendFileResponse(req, res, answer.path, ctx.services.bootFileCache).catch((error: Error) => {
      if (res.headersSent) return; // the client went away mid-transfer
      const status = error instanceof FileUnavailable ? error.status : 500;
      if (status >= 500) ctx.log.error({ err: error, path: req.path }, 'boot file failed');
      if (status === 404) notFound(res, name);
      else res.status(status).type('text/plain').send('cannot serve this file\n');
    });
  };
  router.get('/boot/*path', (req, res, next) => {
    serve(req, res).catch(next);
  });
  return router;
}
