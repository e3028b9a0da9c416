// Option negotiation: RFC 2347 (OACK), 2348 blksize, 2349 timeout and tsize, 7440 windowsize.
// A value the server cannot honour is lowered to what it can do; a value that makes no sense is left out of
// the OACK, which per RFC 2347 means the default applies. A client that mangles options still gets the file.
import type { RequestOptions } from './packet.ts';

export interface NegotiationLimits {
  /** The configured cap and the interface MTU, whichever is lower. */
  maxBlksize: number;
  maxWindowsize: number;
  /** windowsize x blksize stays under this (a burst must fit the receiver's socket buffer). */
  maxWindowBytes: number;
}

export interface Negotiated {
  blksize: number;
  windowsize: number;
  /** Seconds the client asked for (RFC 2349), or null for the server's adaptive timeout. */
  timeoutSeconds: number | null;
  /** Options to acknowledge, in the client's order; empty means no OACK (start with DATA 1). */
  accepted: [string, string][];
}

const DEFAULT_BLKSIZE = 512;
const MIN_BLKSIZE = 8;
const MAX_BLKSIZE = 65464;

function integer(value: string): number | null {
  return /^\d{1,10}$/.test(value.trim()) ? Number(value.trim()) : null;
}

export function negotiate(options: RequestOptions, fileSize: number | null, limits: NegotiationLimits): Negotiated {
  const result: Negotiated = { blksize: DEFAULT_BLKSIZE, windowsize: 1, timeoutSeconds: null, accepted: [] };
  let windowIndex = -1;
  let requestedWindow = 1;
  for (const [name, raw] of options) {
    const value = integer(raw);
    if (value === null) continue;
    switch (name) {
      case 'blksize':
        if (value >= MIN_BLKSIZE) {
          result.blksize = Math.min(value, limits.maxBlksize, MAX_BLKSIZE);
          result.accepted.push([name, String(result.blksize)]);
        }
        break;
      case 'windowsize':
        if (value >= 1) {
          requestedWindow = value;
          windowIndex = result.accepted.push([name, '']) - 1;
        }
        break;
      case 'timeout':
        if (value >= 1 && value <= 255) {
          result.timeoutSeconds = value;
          result.accepted.push([name, String(value)]);
        }
        break;
      case 'tsize':
        // The size is only known for reads; a client sends 0 and expects the real size back.
        if (fileSize !== null) result.accepted.push([name, String(fileSize)]);
        break;
      default:
        break;
    }
  }
  if (windowIndex !== -1) {
    // Decided after blksize, whatever the order the options came in.
    const byBytes = Math.max(1, Math.floor(limits.maxWindowBytes / result.blksize));
    result.windowsize = Math.min(requestedWindow, limits.maxWindowsize, 64, byBytes);
    result.accepted[windowIndex]![1] = String(result.windowsize);
  }
  return result;
}
