// TFTP packet codec (RFC 1350, option extension RFC 2347). Decoding never throws: a packet that is not
// well formed comes back as null and the caller counts and drops it.

export const OP = { RRQ: 1, WRQ: 2, DATA: 3, ACK: 4, ERROR: 5, OACK: 6 } as const;

export const ERROR_CODE = {
  notDefined: 0,
  fileNotFound: 1,
  accessViolation: 2,
  diskFull: 3,
  illegalOperation: 4,
  unknownTransferId: 5,
  fileExists: 6,
  noSuchUser: 7,
  optionRefused: 8,
} as const;

export type TransferMode = 'octet' | 'netascii' | 'mail';

/** Options in the order the client sent them; names lower-cased, the first of a repeated name wins. */
export type RequestOptions = Map<string, string>;

export interface RequestPacket {
  op: 'RRQ' | 'WRQ';
  filename: string;
  mode: TransferMode;
  options: RequestOptions;
}
export interface DataPacket {
  op: 'DATA';
  block: number;
  data: Buffer;
}
export interface AckPacket {
  op: 'ACK';
  block: number;
}
export interface ErrorPacket {
  op: 'ERROR';
  code: number;
  message: string;
}
export interface OackPacket {
  op: 'OACK';
  options: RequestOptions;
}
export type Packet = RequestPacket | DataPacket | AckPacket | ErrorPacket | OackPacket;

const MODES: readonly string[] = ['octet', 'netascii', 'mail'];
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** NUL-terminated strings from `offset` to the end; null if the last one is not terminated or not UTF-8. */
function readStrings(buf: Buffer, offset: number): string[] | null {
  const strings: string[] = [];
  let start = offset;
  while (start < buf.length) {
    const end = buf.indexOf(0, start);
    if (end === -1) return null;
    try {
      strings.push(utf8.decode(buf.subarray(start, end)));
    } catch {
      return null;
    }
    start = end + 1;
  }
  return strings;
}

function optionsFrom(strings: string[]): RequestOptions {
  const options: RequestOptions = new Map();
  // A dangling name without a value is ignored rather than failing the whole request.
  for (let i = 0; i + 1 < strings.length; i += 2) {
    const name = strings[i]!.toLowerCase();
    if (name !== '' && !options.has(name)) options.set(name, strings[i + 1]!);
  }
  return options;
}

export function decodePacket(buf: Buffer): Packet | null {
  if (buf.length < 4) return null;
  const opcode = buf.readUInt16BE(0);
  switch (opcode) {
    case OP.RRQ:
    case OP.WRQ: {
      const strings = readStrings(buf, 2);
      if (!strings || strings.length < 2 || strings[0] === '') return null;
      const mode = strings[1]!.toLowerCase();
      if (!MODES.includes(mode)) return null;
      return {
        op: opcode === OP.RRQ ? 'RRQ' : 'WRQ',
        filename: strings[0]!,
        mode: mode as TransferMode,
        options: optionsFrom(strings.slice(2)),
      };
    }
    case OP.DATA:
      return { op: 'DATA', block: buf.readUInt16BE(2), data: buf.subarray(4) };
    case OP.ACK:
      return buf.length === 4 ? { op: 'ACK', block: buf.readUInt16BE(2) } : null;
    case OP.ERROR: {
      // Many clients omit the trailing NUL or send junk after it; the code alone is what matters.
      const end = buf.indexOf(0, 4);
      const message = buf.toString('utf8', 4, end === -1 ? buf.length : end);
      return { op: 'ERROR', code: buf.readUInt16BE(2), message };
    }
    case OP.OACK: {
      const strings = readStrings(buf, 2);
      if (!strings || strings.length % 2 !== 0) return null;
      return { op: 'OACK', options: optionsFrom(strings) };
    }
    default:
      return null;
  }
}

function cstrings(values: string[]): Buffer[] {
  return values.flatMap((value) => [Buffer.from(value, 'utf8'), Buffer.alloc(1)]);
}

function withOpcode(opcode: number, parts: Buffer[]): Buffer {
  const head = Buffer.alloc(2);
  head.writeUInt16BE(opcode, 0);
  return Buffer.concat([head, ...parts]);
}

export function encodeRequest(op: 'RRQ' | 'WRQ', filename: string, mode: string, options: Iterable<[string, string]> = []): Buffer {
  const strings = [filename, mode];
  for (const [name, value] of options) strings.push(name, value);
  return withOpcode(op === 'RRQ' ? OP.RRQ : OP.WRQ, cstrings(strings));
}

export function encodeAck(block: number): Buffer {
  const buf = Buffer.alloc(4);
  buf.writeUInt16BE(OP.ACK, 0);
  buf.writeUInt16BE(block & 0xffff, 2);
  return buf;
}

export function encodeData(block: number, data: Uint8Array): Buffer {
  const buf = Buffer.allocUnsafe(4 + data.length);
  buf.writeUInt16BE(OP.DATA, 0);
  buf.writeUInt16BE(block & 0xffff, 2);
  buf.set(data, 4);
  return buf;
}

export function encodeError(code: number, message: string): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt16BE(OP.ERROR, 0);
  head.writeUInt16BE(code, 2);
  return Buffer.concat([head, ...cstrings([message])]);
}

export function encodeOack(options: Iterable<[string, string]>): Buffer {
  const strings: string[] = [];
  for (const [name, value] of options) strings.push(name, value);
  return withOpcode(OP.OACK, cstrings(strings));
}

/** DATA headers for every 16-bit block number, shared and never written after creation: the transfer
 * sends [header, payload slice] so a block goes out without copying its payload. */
let dataHeaders: Buffer | null = null;
export function dataHeader(block: number): Buffer {
  if (!dataHeaders) {
    dataHeaders = Buffer.alloc(4 * 65536);
    for (let n = 0; n < 65536; n++) {
      dataHeaders.writeUInt16BE(OP.DATA, n * 4);
      dataHeaders.writeUInt16BE(n, n * 4 + 2);
    }
  }
  const n = block & 0xffff;
  return dataHeaders.subarray(n * 4, n * 4 + 4);
}
