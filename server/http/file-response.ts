// Answers a GET or HEAD with one file: Content-Length, one byte range (RFC 9110 section 14; several ranges get
// the whole file), ETag and Last-Modified with 304 for a fresh conditional request, If-Range. A file the boot
// file cache holds is sent as one write of a view of its buffer. A larger one is streamed through two
// reusable buffers of up to CHUNK_BYTES: one is read from disk while the socket takes the other, so a
// transfer costs two allocations whatever its size, and the event loop sees one read and one write per
// megabyte (express's sendFile reads 64 KiB at a time into a new buffer each; that was 4x slower than nginx on
// a 40 MB initrd). The caller has already judged the path; this module only opens it.
import { open, type FileHandle } from 'node:fs/promises';
import type { Request, Response } from 'express';
import parseRange from 'range-parser';
import type { BootFileCache, BootFileLookup } from '../services/boot-file-cache.ts';

export const CHUNK_BYTES = 1024 * 1024;

/** Thrown before anything was sent: the caller answers with its own error page. */
export class FileUnavailable extends Error {
  constructor(readonly status: 404 | 500, readonly code: string | undefined, message: string) {
    super(message);
  }
}

const NOT_FOUND_CODES = new Set(['ENOENT', 'EISDIR', 'ENOTDIR', 'ENAMETOOLONG', 'ELOOP']);

interface ByteRange {
  start: number;
  end: number;
}

export async function sendFileResponse(req: Request, res: Response, path: string, cache: BootFileCache): Promise<void> {
  let found: BootFileLookup;
  try {
    found = await cache.lookup(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new FileUnavailable(NOT_FOUND_CODES.has(code ?? '') ? 404 : 500, code, (error as Error).message);
  }
  const { info, content } = found;
  if (!info.isFile()) throw new FileUnavailable(404, 'EISDIR', 'not a regular file');
  const etag = `W/"${info.size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}"`;
  res.setHeader('Accept-Ranges', 'bytes');
  res.setHeader('Content-Type', 'application/octet-stream');
  res.setHeader('ETag', etag);
  res.setHeader('Last-Modified', info.mtime.toUTCString());
  if (notModified(req, etag, info.mtimeMs)) {
    res.status(304).end();
    return;
  }
  const range = requestedRange(req, info.size, etag, info.mtimeMs);
  if (range === 'unsatisfiable') {
    res.status(416).setHeader('Content-Range', `bytes */${info.size}`);
    res.end();
    return;
  }
  const { start, end } = range ?? { start: 0, end: info.size - 1 };
  if (range) res.status(206).setHeader('Content-Range', `bytes ${start}-${end}/${info.size}`);
  res.setHeader('Content-Length', String(end - start + 1));
  if (req.method === 'HEAD' || end < start) {
    res.end();
    return;
  }
  if (content) {
    // One write of a view of the cached file: the socket drains it without coming back to JavaScript.
    res.end(content.subarray(start, end + 1));
    return;
  }
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    res.destroy(error as Error); // the headers are set; the client sees a failed transfer
    return;
  }
  try {
    await streamBody(handle, res, start, end + 1);
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/** If-None-Match (weak comparison) wins over If-Modified-Since, as RFC 9110 13.2.2 orders them. */
function notModified(req: Request, etag: string, mtimeMs: number): boolean {
  const noneMatch = req.headers['if-none-match'];
  if (noneMatch !== undefined) {
    const tags = noneMatch.split(',').map((tag) => tag.trim().replace(/^W\//, ''));
    return tags.includes('*') || tags.includes(etag.replace(/^W\//, ''));
  }
  const since = Date.parse(req.headers['if-modified-since'] ?? '');
  return !Number.isNaN(since) && Math.floor(mtimeMs / 1000) * 1000 <= since;
}

/** The one range to send, null for the whole file, 'unsatisfiable' for a 416. */
function requestedRange(req: Request, size: number, etag: string, mtimeMs: number): ByteRange | null | 'unsatisfiable' {
  const header = req.headers.range;
  if (!header) return null;
  const ifRange = req.get('if-range');
  if (ifRange !== undefined) {
    const matches = ifRange.includes('"') ? ifRange.trim() === etag : Date.parse(ifRange) >= Math.floor(mtimeMs / 1000) * 1000;
    if (!matches) return null;
  }
  const ranges = parseRange(size, header, { combine: true });
  if (ranges === -1) return 'unsatisfiable';
  if (ranges === -2 || ranges.type !== 'bytes' || ranges.length !== 1) return null;
  return { start: ranges[0]!.start, end: ranges[0]!.end };
}

/**
 * Bytes [from, to) of the file onto the response. A read error after the headers went out destroys the
 * connection, so the client sees a short transfer instead of waiting; a client that leaves ends the loop.
 */
async function streamBody(handle: FileHandle, res: Response, from: number, to: number): Promise<void> {
  const chunkBytes = Math.min(CHUNK_BYTES, to - from);
  const buffers = [Buffer.allocUnsafe(chunkBytes), Buffer.allocUnsafe(chunkBytes)];
  let gone = false;
  let wakeWriter: (() => void) | null = null;
  const onClose = () => {
    gone = true;
    wakeWriter?.();
  };
  res.once('close', onClose);
  let reading: Promise<number> = Promise.resolve(0);
  // Resolves once the socket has taken the chunk (its buffer may be filled again) or the client has gone.
  const write = (chunk: Buffer) =>
    new Promise<void>((resolve) => {
      wakeWriter = resolve;
      res.write(chunk, () => resolve());
    });
  try {
    let position = from;
    let current = 0;
    reading = readFully(handle, buffers[0]!, Math.min(chunkBytes, to - position), position);
    let writing: Promise<void> = Promise.resolve();
    while (position < to && !gone) {
      const length = await reading;
      if (length === 0) throw new Error(`file shrank while it was sent (at byte ${position} of ${to})`);
      const buffer = buffers[current]!;
      position += length;
      await writing;
      if (gone) return;
      writing = write(length === buffer.length ? buffer : buffer.subarray(0, length));
      current ^= 1;
      // The other buffer's write has completed (awaited above), so it can take the next read.
      if (position < to) reading = readFully(handle, buffers[current]!, Math.min(chunkBytes, to - position), position);
    }
    await writing;
    if (!gone) res.end();
  } catch (error) {
    res.destroy(error as Error);
  } finally {
    res.off('close', onClose);
    // A read still in flight when the client left must not become an unhandled rejection.
    reading.catch(() => undefined);
  }
}

async function readFully(handle: FileHandle, buffer: Buffer, length: number, position: number): Promise<number> {
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await handle.read(buffer, filled, length - filled, position + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return filled;
}
