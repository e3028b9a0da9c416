// RFC 2131/2132 wire format: one decoder that never throws (it returns the reason a datagram is malformed)
// and one encoder. Repeated options are concatenated (RFC 3396); option overload (52) is not followed.
import { BOOTREPLY, HEADER_LENGTH, MAGIC_COOKIE, Option } from './options.ts';

export interface DhcpMessage {
  op: number;
  htype: number;
  hlen: number;
  hops: number;
  xid: number;
  secs: number;
  flags: number;
  /** Addresses as uint32. */
  ciaddr: number;
  yiaddr: number;
  siaddr: number;
  giaddr: number;
  /** 16 bytes; the hardware address is the first `hlen`. */
  chaddr: Buffer;
  sname: string;
  file: string;
  options: Map<number, Buffer>;
}

/** Larger than any DHCP client sends, even over jumbo frames. */
export const MAX_DATAGRAM = 9216;

export type DecodeResult = { ok: true; message: DhcpMessage } | { ok: false; reason: string };

/** Reads a NUL-terminated ASCII field. */
function fieldText(buffer: Buffer, start: number, length: number): string {
  let end = start;
  const limit = start + length;
  while (end < limit && buffer[end] !== 0) end++;
  return buffer.toString('latin1', start, end);
}

export function decodeMessage(buffer: Buffer): DecodeResult {
  if (buffer.length < HEADER_LENGTH) return { ok: false, reason: `truncated: ${buffer.length} bytes` };
  if (buffer.length > MAX_DATAGRAM) return { ok: false, reason: `oversized: ${buffer.length} bytes` };
  if (buffer.readUInt32BE(236) !== MAGIC_COOKIE) return { ok: false, reason: 'bad magic cookie' };
  const hlen = buffer[2]!;
  if (hlen > 16) return { ok: false, reason: `hardware address length ${hlen}` };
  const options = new Map<number, Buffer>();
  let repeated: Map<number, Buffer[]> | undefined;
  let offset = HEADER_LENGTH;
  while (offset < buffer.length) {
    const code = buffer[offset]!;
    if (code === Option.PAD) {
      offset++;
      continue;
    }
    if (code === Option.END) break;
    if (offset + 1 >= buffer.length) return { ok: false, reason: `option ${code} has no length` };
    const length = buffer[offset + 1]!;
    const start = offset + 2;
    if (start + length > buffer.length) return { ok: false, reason: `option ${code} overruns the datagram` };
    const value = buffer.subarray(start, start + length);
    const previous = options.get(code);
    if (!previous) options.set(code, value);
    else {
      repeated ??= new Map<number, Buffer[]>();
      const parts = repeated.get(code);
      if (parts) parts.push(value);
      else repeated.set(code, [previous, value]);
    }
    offset = start + length;
  }
  // Joined once at the end: joining per repeat would be quadratic in a hostile datagram.
  if (repeated) for (const [code, parts] of repeated) options.set(code, Buffer.concat(parts));
  // A missing END is tolerated when the options fill the datagram exactly (some ROMs omit it).
  return {
    ok: true,
    message: {
      op: buffer[0]!,
      htype: buffer[1]!,
      hlen,
      hops: buffer[3]!,
      xid: buffer.readUInt32BE(4),
      secs: buffer.readUInt16BE(8),
      flags: buffer.readUInt16BE(10),
      ciaddr: buffer.readUInt32BE(12),
      yiaddr: buffer.readUInt32BE(16),
      siaddr: buffer.readUInt32BE(20),
      giaddr: buffer.readUInt32BE(24),
      chaddr: buffer.subarray(28, 44),
      sname: fieldText(buffer, 44, 64),
      file: fieldText(buffer, 108, 128),
      options,
    },
  };
}

/** What a reply carries; options are written in insertion order (put 53 first). */
export interface DhcpReply {
  /** BOOTREPLY unless set (test clients encode requests with the same function). */
  op?: number;
  xid: number;
  flags: number;
  ciaddr: number;
  yiaddr: number;
  siaddr: number;
  giaddr: number;
  htype: number;
  hlen: number;
  chaddr: Buffer;
  sname?: string;
  file?: string;
  options: [code: number, value: Buffer][];
}

/** BOOTP's minimum message size; some PXE ROMs drop shorter replies. */
const MIN_REPLY = 300;

/**
 * Encodes a reply. Options longer than 255 bytes are split (RFC 3396). Returns null when the reply would not
 * fit `maxSize` (the client's option 57, at least 576), which the caller counts.
 */
export function encodeReply(reply: DhcpReply, maxSize = 1500): Buffer | null {
  let optionsLength = 1;
  for (const [, value] of reply.options) optionsLength += value.length + 2 * Math.max(1, Math.ceil(value.length / 255));
  const total = Math.max(MIN_REPLY, HEADER_LENGTH + optionsLength);
  if (total > maxSize) return null;
  const buffer = Buffer.alloc(total);
  buffer[0] = reply.op ?? BOOTREPLY;
  buffer[1] = reply.htype;
  buffer[2] = reply.hlen;
  buffer.writeUInt32BE(reply.xid >>> 0, 4);
  buffer.writeUInt16BE(reply.flags & 0xffff, 10);
  buffer.writeUInt32BE(reply.ciaddr >>> 0, 12);
  buffer.writeUInt32BE(reply.yiaddr >>> 0, 16);
  buffer.writeUInt32BE(reply.siaddr >>> 0, 20);
  buffer.writeUInt32BE(reply.giaddr >>> 0, 24);
  reply.chaddr.copy(buffer, 28, 0, 16);
  if (reply.sname) buffer.write(reply.sname.slice(0, 63), 44, 'latin1');
  if (reply.file) buffer.write(reply.file.slice(0, 127), 108, 'latin1');
  buffer.writeUInt32BE(MAGIC_COOKIE, 236);
  let offset = HEADER_LENGTH;
  for (const [code, value] of reply.options) {
    let start = 0;
    do {
      const chunk = Math.min(255, value.length - start);
      buffer[offset++] = code;
      buffer[offset++] = chunk;
      value.copy(buffer, offset, start, start + chunk);
      offset += chunk;
      start += chunk;
    } while (start < value.length);
  }
  buffer[offset] = Option.END;
  return buffer;
}

// Small builders for option values.
export const u8 = (value: number): Buffer => Buffer.of(value & 255);
export function u16(value: number): Buffer {
  const buffer = Buffer.alloc(2);
  buffer.writeUInt16BE(value & 0xffff);
  return buffer;
}
export function u32(value: number): Buffer {
  const buffer = Buffer.alloc(4);
  buffer.writeUInt32BE(value >>> 0);
  return buffer;
}
export function addresses(values: number[]): Buffer {
  const buffer = Buffer.alloc(4 * values.length);
  values.forEach((value, index) => buffer.writeUInt32BE(value >>> 0, 4 * index));
  return buffer;
}
export const text = (value: string): Buffer => Buffer.from(value, 'latin1');

/** Encapsulated sub-options (option 43, 82, 175): code, length, value. */
export function encapsulate(subOptions: [code: number, value: Buffer][]): Buffer {
  return Buffer.concat(subOptions.flatMap(([code, value]) => [Buffer.of(code, value.length), value]));
}

/** Parses encapsulated sub-options; null when they overrun. */
export function decapsulate(value: Buffer): Map<number, Buffer> | null {
  const result = new Map<number, Buffer>();
  let offset = 0;
  while (offset < value.length) {
    const code = value[offset]!;
    if (code === 0) {
      offset++;
      continue;
    }
    if (code === 255) break;
    if (offset + 1 >= value.length) return null;
    const length = value[offset + 1]!;
    if (offset + 2 + length > value.length) return null;
    result.set(code, value.subarray(offset + 2, offset + 2 + length));
    offset += 2 + length;
  }
  return result;
}
