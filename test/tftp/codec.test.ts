import { describe, expect, it } from 'vitest';
import { NetasciiEncoder, netasciiLength, toNetascii } from '../../server/tftp/netascii.ts';
import { negotiate } from '../../server/tftp/options.ts';
import { decodePacket, encodeAck, encodeData, encodeError, encodeOack, encodeRequest, dataHeader } from '../../server/tftp/packet.ts';
import { cleanRequestPath, PathRefused } from '../../server/boot-files/paths.ts';

const hex = (text: string) => Buffer.from(text.replace(/\s+/g, ''), 'hex');

describe('decodePacket', () => {
  const cases: [string, Buffer, unknown][] = [
    ['RRQ octet', hex('0001 666f6f00 6f6374657400'), { op: 'RRQ', filename: 'foo', mode: 'octet', options: new Map() }],
    ['RRQ mode is case-insensitive', hex('0001 6100 4f6354657400'), { op: 'RRQ', filename: 'a', mode: 'octet', options: new Map() }],
    [
      'RRQ with options, names lower-cased, first repeat wins',
      encodeRequest('RRQ', 'pxelinux.0', 'octet', [['BLKSIZE', '1468'], ['tsize', '0'], ['blksize', '512']]),
      { op: 'RRQ', filename: 'pxelinux.0', mode: 'octet', options: new Map([['blksize', '1468'], ['tsize', '0']]) },
    ],
    ['RRQ with a dangling option name keeps the rest', hex('0001 6100 6f6374657400 7473697a6500 3000 626c6b73697a6500'), { op: 'RRQ', filename: 'a', mode: 'octet', options: new Map([['tsize', '0']]) }],
    ['WRQ netascii', encodeRequest('WRQ', 'x', 'netascii'), { op: 'WRQ', filename: 'x', mode: 'netascii', options: new Map() }],
    ['DATA', hex('0003 0102 aabbcc'), { op: 'DATA', block: 0x0102, data: hex('aabbcc') }],
    ['DATA empty (last block of an exact multiple)', hex('0003 ffff'), { op: 'DATA', block: 65535, data: Buffer.alloc(0) }],
    ['ACK', hex('0004 0000'), { op: 'ACK', block: 0 }],
    ['ACK 65535', hex('0004 ffff'), { op: 'ACK', block: 65535 }],
    ['ERROR with message', encodeError(1, 'file not found'), { op: 'ERROR', code: 1, message: 'file not found' }],
    ['ERROR without trailing NUL', hex('0005 0008 6e6f'), { op: 'ERROR', code: 8, message: 'no' }],
    ['ERROR with no message at all', hex('0005 0000'), { op: 'ERROR', code: 0, message: '' }],
    ['OACK', encodeOack([['tsize', '42']]), { op: 'OACK', options: new Map([['tsize', '42']]) }],
  ];
  it.each(cases)('%s', (_name, buf, expected) => {
    expect(decodePacket(buf)).toEqual(expected);
  });

  const malformed: [string, Buffer][] = [
    ['empty', Buffer.alloc(0)],
    ['too short', hex('0001 00')],
    ['unknown opcode', hex('0009 0000')],
    ['opcode zero', hex('0000 6100 6f6374657400')],
    ['RRQ without mode', hex('0001 666f6f00')],
    ['RRQ filename not terminated', hex('0001 666f6f')],
    ['RRQ mode not terminated', hex('0001 6100 6f63746574')],
    ['RRQ empty filename', hex('0001 00 6f6374657400')],
    ['RRQ unknown mode', encodeRequest('RRQ', 'a', 'binary')],
    ['RRQ invalid UTF-8 name', hex('0001 ff fe 00 6f6374657400')],
    ['ACK with trailing bytes', hex('0004 0001 00')],
    ['OACK with odd strings', hex('0006 7473697a6500')],
    ['random junk', hex('dead beef cafe')],
  ];
  it.each(malformed)('drops %s', (_name, buf) => {
    expect(decodePacket(buf)).toBeNull();
  });

  it('round-trips encoders', () => {
    expect(decodePacket(encodeAck(70000))).toEqual({ op: 'ACK', block: 70000 & 0xffff });
    expect(decodePacket(encodeData(65536, hex('01')))).toEqual({ op: 'DATA', block: 0, data: hex('01') });
  });

  it('shares DATA headers per 16-bit block, rolling over to 0', () => {
    expect(dataHeader(1)).toEqual(hex('0003 0001'));
    expect(dataHeader(65535)).toEqual(hex('0003 ffff'));
    expect(dataHeader(65536)).toEqual(hex('0003 0000'));
    expect(dataHeader(65537)).toEqual(hex('0003 0001'));
  });
});

describe('negotiate', () => {
  const limits = { maxBlksize: 1468, maxWindowsize: 64, maxWindowBytes: 65536 };
  const cases: [string, [string, string][], number | null, { blksize: number; windowsize: number; timeoutSeconds: number | null; accepted: [string, string][] }][] = [
    ['no options: no OACK, RFC 1350 defaults', [], 100, { blksize: 512, windowsize: 1, timeoutSeconds: null, accepted: [] }],
    ['tsize answered with the size', [['tsize', '0']], 1234, { blksize: 512, windowsize: 1, timeoutSeconds: null, accepted: [['tsize', '1234']] }],
    ['blksize lowered to the cap', [['blksize', '65464']], 1, { blksize: 1468, windowsize: 1, timeoutSeconds: null, accepted: [['blksize', '1468']] }],
    ['blksize below 8 ignored', [['blksize', '4']], 1, { blksize: 512, windowsize: 1, timeoutSeconds: null, accepted: [] }],
    ['non-numeric values ignored', [['blksize', 'big'], ['tsize', '-1'], ['windowsize', '']], 9, { blksize: 512, windowsize: 1, timeoutSeconds: null, accepted: [] }],
    ['windowsize capped at 64', [['windowsize', '500']], 1, { blksize: 512, windowsize: 64, timeoutSeconds: null, accepted: [['windowsize', '64']] }],
    ['windowsize limited by window bytes, whatever the option order', [['windowsize', '16'], ['blksize', '8192']], 1, { blksize: 1468, windowsize: 16, timeoutSeconds: null, accepted: [['windowsize', '16'], ['blksize', '1468']] }],
    ['timeout 1..255 accepted', [['timeout', '3']], 1, { blksize: 512, windowsize: 1, timeoutSeconds: 3, accepted: [['timeout', '3']] }],
    ['timeout 0 ignored', [['timeout', '0']], 1, { blksize: 512, windowsize: 1, timeoutSeconds: null, accepted: [] }],
    ['unknown options ignored', [['multicast', ''], ['utimeout', '5000']], 1, { blksize: 512, windowsize: 1, timeoutSeconds: null, accepted: [] }],
  ];
  it.each(cases)('%s', (_name, options, size, expected) => {
    expect(negotiate(new Map(options), size, limits)).toEqual(expected);
  });

  it('lowers the window so windowsize x blksize fits maxWindowBytes', () => {
    const result = negotiate(new Map([['blksize', '8192'], ['windowsize', '16']]), 1, { ...limits, maxBlksize: 65464 });
    expect(result).toMatchObject({ blksize: 8192, windowsize: 8 });
  });
});

describe('cleanRequestPath', () => {
  it.each([
    ['pxelinux.0', 'pxelinux.0'],
    ['pxelinux.cfg/default', 'pxelinux.cfg/default'],
    ['./a//b/./c', 'a/b/c'],
    // GRUB asks for every file from the root (`/grub/grub.cfg`); the root is the boot dir, as with tftpd-hpa -s.
    ['/grub/grub.cfg', 'grub/grub.cfg'],
    ['/etc/passwd', 'etc/passwd'],
  ])('accepts %s', (requested, cleaned) => {
    expect(cleanRequestPath(requested)).toBe(cleaned);
  });
  it.each(['../etc/passwd', 'a/../../b', 'a/..', '/../etc/passwd', '/', '\\etc\\passwd', 'a\\..\\b', 'C:/x', 'a\u0000b', 'a\nb', '', '.', './', 'x'.repeat(2000)])(
    'refuses %j',
    (requested) => {
      expect(() => cleanRequestPath(requested)).toThrow(PathRefused);
    },
  );
});

describe('netascii', () => {
  it.each([
    ['plain', 'abc', 'abc'],
    ['LF becomes CR LF', 'a\nb\n', 'a\r\nb\r\n'],
    ['bare CR becomes CR NUL', 'a\rb', 'a\r\u0000b'],
    ['CR LF in the file becomes CR NUL CR LF', 'a\r\n', 'a\r\u0000\r\n'],
  ])('%s', (_name, input, output) => {
    expect(toNetascii(Buffer.from(input, 'latin1')).toString('latin1')).toBe(output);
    expect(netasciiLength(Buffer.from(input, 'latin1'))).toBe(output.length);
  });

  it('carries a pair split across output buffers', () => {
    const encoder = new NetasciiEncoder();
    encoder.push(Buffer.from('ab\ncd\n'));
    const parts: string[] = [];
    for (let i = 0; i < 10 && (encoder.pending > 0 || encoder.hasCarry); i++) {
      const out = Buffer.alloc(3);
      parts.push(out.subarray(0, encoder.pull(out)).toString('latin1'));
    }
    expect(parts).toEqual(['ab\r', '\ncd', '\r\n']);
  });
});
