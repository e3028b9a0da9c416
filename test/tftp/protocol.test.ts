// The server against a scripted client: option negotiation, aborts, duplicates, losses, refusals, junk.
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeError, encodeRequest, ERROR_CODE, type DataPacket } from '../../server/tftp/packet.ts';
import { startHarness, waitFor, type Harness } from './harness.ts';
import { RawClient } from './raw-client.ts';

let h: Harness;
const content = Buffer.alloc(512 * 10 + 100, 7);
for (let i = 0; i < content.length; i++) content[i] = (i * 31) & 0xff;

beforeAll(async () => {
  h = await startHarness({ timeoutSeconds: 0.5, retries: 3, minTimeoutMs: 250 });
  await writeFile(join(h.root, 'file.bin'), content);
  await writeFile(join(h.root, 'exact.bin'), Buffer.alloc(1024, 1));
  await writeFile(join(h.root, 'empty.bin'), Buffer.alloc(0));
  await writeFile(join(h.root, 'text.txt'), 'one\ntwo\r\n');
  await mkdir(join(h.root, 'sub'));
  await writeFile(join(h.root, 'sub', 'inner.txt'), 'inner');
  await symlink('sub/inner.txt', join(h.root, 'link-inside'));
  await symlink('/etc/hostname', join(h.root, 'link-outside'));
  await symlink('..', join(h.root, 'sub', 'up'));
});
afterAll(async () => {
  await h?.close();
});

async function fetchAll(client: RawClient, filename: string, options: [string, string][] = [], mode = 'octet'): Promise<{ data: Buffer; oack: Map<string, string> | null }> {
  client.request(h.service.port, filename, options, mode);
  const chunks: Buffer[] = [];
  let oack: Map<string, string> | null = null;
  let blksize = 512;
  let windowsize = 1;
  let expected = 1;
  for (;;) {
    const got = await client.next();
    if (!got) throw new Error('server went silent');
    const { packet, from } = got;
    if (packet.op === 'ERROR') throw new Error(`error ${packet.code}: ${packet.message}`);
    if (packet.op === 'OACK') {
      oack = packet.options;
      blksize = Number(oack.get('blksize') ?? 512);
      windowsize = Number(oack.get('windowsize') ?? 1);
      client.ack(from, 0);
      continue;
    }
    if (packet.op !== 'DATA') throw new Error(`unexpected ${packet.op}`);
    if (packet.block !== (expected & 0xffff)) continue;
    chunks.push(packet.data);
    const last = packet.data.length < blksize;
    if (last || expected % windowsize === 0) client.ack(from, packet.block);
    expected++;
    if (last) return { data: Buffer.concat(chunks), oack };
  }
}

async function expectError(filename: string, code: number, mode = 'octet'): Promise<void> {
  const client = await RawClient.open();
  try {
    client.request(h.service.port, filename, [], mode);
    const got = await client.next();
    expect(got?.packet).toMatchObject({ op: 'ERROR', code });
  } finally {
    client.close();
  }
}

describe('read requests', () => {
  it('serves a file in lockstep without options (no OACK)', async () => {
    const client = await RawClient.open();
    const { data, oack } = await fetchAll(client, 'file.bin');
    client.close();
    expect(oack).toBeNull();
    expect(data.equals(content)).toBe(true);
  });

  it('ends an exact multiple of blksize with an empty block', async () => {
    const client = await RawClient.open();
    const { data } = await fetchAll(client, 'exact.bin');
    client.close();
    expect(data.length).toBe(1024);
  });

  it('answers tsize, blksize and windowsize in the OACK', async () => {
    const client = await RawClient.open();
    const { data, oack } = await fetchAll(client, 'file.bin', [['tsize', '0'], ['blksize', '1024'], ['windowsize', '4']]);
    client.close();
    expect(Object.fromEntries(oack!)).toEqual({ tsize: String(content.length), blksize: '1024', windowsize: '4' });
    expect(data.equals(content)).toBe(true);
  });

  it('serves an empty file as one empty block', async () => {
    const client = await RawClient.open();
    const { data, oack } = await fetchAll(client, 'empty.bin', [['tsize', '0']]);
    client.close();
    expect(oack!.get('tsize')).toBe('0');
    expect(data.length).toBe(0);
  });

  it('converts netascii', async () => {
    const client = await RawClient.open();
    const { data, oack } = await fetchAll(client, 'text.txt', [['tsize', '0']], 'netascii');
    client.close();
    expect(data.toString('latin1')).toBe('one\r\ntwo\r\u0000\r\n');
    expect(oack!.get('tsize')).toBe(String(data.length));
  });

  it('follows a symlink that stays inside the root', async () => {
    const client = await RawClient.open();
    const { data } = await fetchAll(client, 'link-inside');
    client.close();
    expect(data.toString()).toBe('inner');
  });
});

describe('refusals', () => {
  it.each(['../etc/passwd', 'sub/../../etc/passwd', '/etc/passwd', '\\etc\\passwd', 'sub\\inner.txt', 'link-outside', 'sub/up/sub/up/etc', 'sub', 'missing', 'pxelinux.cfg/C0A8', 'pxelinux.cfg/564d1234-aaaa-bbbb-cccc-1234567890ab'])(
    '%j is "file not found"',
    async (name) => {
      await expectError(name, ERROR_CODE.fileNotFound);
    },
  );

  it('refuses a name with an embedded NUL (the rest becomes the mode, which is invalid, so it is dropped)', async () => {
    const before = h.service.counters.malformed;
    const client = await RawClient.open();
    client.send(h.service.port, Buffer.concat([Buffer.from([0, 1]), Buffer.from('a\u0000b\u0000octet\u0000')]));
    expect(await client.next(300)).toBeNull();
    client.close();
    expect(h.service.counters.malformed).toBe(before + 1);
  });

  it('refuses write requests with an access violation', async () => {
    const before = h.service.counters.writesRefused;
    const client = await RawClient.open();
    client.send(h.service.port, encodeRequest('WRQ', 'new.bin', 'octet'));
    const got = await client.next();
    client.close();
    expect(got?.packet).toMatchObject({ op: 'ERROR', code: ERROR_CODE.accessViolation });
    expect(h.service.counters.writesRefused).toBe(before + 1);
  });

  it('refuses mail mode', async () => {
    await expectError('file.bin', ERROR_CODE.illegalOperation, 'mail');
  });

  it('counts and drops junk on the request port, and keeps serving', async () => {
    const before = h.service.counters.malformed;
    const client = await RawClient.open();
    for (const junk of [Buffer.alloc(0), Buffer.from([0]), Buffer.from('GET / HTTP/1.0\r\n'), Buffer.from([0, 4, 0, 1]), Buffer.from([0, 9, 1, 2, 3])]) {
      client.send(h.service.port, junk);
    }
    await waitFor(() => h.service.counters.malformed >= before + 4, 'junk to be counted');
    const { data } = await fetchAll(client, 'file.bin');
    client.close();
    expect(data.equals(content)).toBe(true);
  });
});

describe('aborts, losses and duplicates', () => {
  it('a client that reads tsize then sends ERROR ends its transfer quietly; the next client is served', async () => {
    const aborted = h.service.counters.transfersAborted;
    const uefi = await RawClient.open();
    uefi.request(h.service.port, 'file.bin', [['tsize', '0'], ['blksize', '1468']]);
    const oack = await uefi.next();
    expect(oack?.packet).toMatchObject({ op: 'OACK' });
    uefi.send(oack!.from, encodeError(ERROR_CODE.optionRefused, 'tsize only'));
    await waitFor(() => h.service.counters.transfersAborted === aborted + 1, 'the abort to be counted');
    expect(await uefi.next(500)).toBeNull(); // nothing more on the aborted transfer
    // The firmware asks again, from the same port, this time for the file.
    const { data } = await fetchAll(uefi, 'file.bin', [['blksize', '1468']]);
    uefi.close();
    expect(data.equals(content)).toBe(true);
    const other = await RawClient.open();
    expect((await fetchAll(other, 'file.bin')).data.equals(content)).toBe(true);
    other.close();
  });

  it('a duplicate ACK does not resend the window', async () => {
    const client = await RawClient.open();
    client.request(h.service.port, 'file.bin', [['windowsize', '4']]);
    const oack = await client.next();
    client.ack(oack!.from, 0);
    const first: number[] = [];
    for (let i = 0; i < 4; i++) first.push(((await client.next())!.packet as DataPacket).block);
    expect(first).toEqual([1, 2, 3, 4]);
    const timeouts = h.service.counters.timeouts;
    client.ack(oack!.from, 4);
    client.ack(oack!.from, 4);
    client.ack(oack!.from, 4);
    const second = (await client.drain(100)).map((got) => (got.packet as DataPacket).block);
    // One window for the three ACKs; anything more must come from a timer expiry, not from the duplicates.
    expect(second.slice(0, 4)).toEqual([5, 6, 7, 8]);
    expect(second.length).toBeLessThanOrEqual(4 * (1 + h.service.counters.timeouts - timeouts));
    client.send(oack!.from, encodeError(0, 'enough'));
    client.close();
  });

  it('recovers a lost ACK: the window is resent after the timeout', async () => {
    const client = await RawClient.open();
    client.request(h.service.port, 'file.bin', [['windowsize', '2']]);
    const oack = await client.next();
    client.ack(oack!.from, 0);
    const blocks: number[] = [];
    for (let i = 0; i < 4; i++) blocks.push(((await client.next())!.packet as DataPacket).block);
    // The client "lost" nothing but its ACK never arrived: the server sends blocks 1 and 2 again.
    expect(blocks).toEqual([1, 2, 1, 2]);
    client.send(oack!.from, encodeError(0, 'enough'));
    client.close();
  });

  it('recovers lost DATA blocks: a short ACK slides the window, the timeout resends from it', async () => {
    const client = await RawClient.open();
    client.request(h.service.port, 'file.bin', [['windowsize', '4']]);
    const oack = await client.next();
    client.ack(oack!.from, 0);
    for (let i = 0; i < 4; i++) await client.next();
    client.ack(oack!.from, 2); // blocks 3 and 4 "lost"
    const after = [];
    for (let i = 0; i < 6; i++) after.push(((await client.next())!.packet as DataPacket).block);
    expect(after).toEqual([5, 6, 3, 4, 5, 6]);
    client.ack(oack!.from, 6);
    expect(((await client.next())!.packet as DataPacket).block).toBe(7);
    client.send(oack!.from, encodeError(0, 'enough'));
    client.close();
  });

  it('cleans up a transfer the client abandoned', async () => {
    const abandoned = h.service.counters.transfersAbandoned;
    const client = await RawClient.open();
    client.request(h.service.port, 'file.bin');
    await client.next();
    await waitFor(() => h.service.counters.transfersAbandoned >= abandoned + 1, 'the abandoned transfer to be cleaned up');
    await waitFor(() => h.service.activeTransfers() === 0, 'no active transfer');
    client.close();
  });

  it('ignores a repeated request while the first answer is still pending', async () => {
    const duplicates = h.service.counters.duplicateRequests;
    const client = await RawClient.open();
    const request = encodeRequest('RRQ', 'file.bin', 'octet', [['tsize', '0']]);
    client.send(h.service.port, request);
    client.send(h.service.port, request);
    const oack = await client.next();
    expect(oack?.packet.op).toBe('OACK');
    await waitFor(() => h.service.counters.duplicateRequests === duplicates + 1, 'the duplicate to be counted');
    client.send(oack!.from, encodeError(0, 'done'));
    client.close();
  });

  it('drops junk on a transfer port and carries on', async () => {
    const client = await RawClient.open();
    client.request(h.service.port, 'file.bin');
    const first = await client.next();
    const before = h.service.counters.malformed;
    client.send(first!.from, Buffer.from([0, 4]));
    client.send(first!.from, encodeRequest('RRQ', 'x', 'octet'));
    await waitFor(() => h.service.counters.malformed === before + 2, 'junk to be counted');
    client.ack(first!.from, 1);
    expect((await client.next())?.packet).toMatchObject({ op: 'DATA', block: 2 });
    client.send(first!.from, encodeError(0, 'bye'));
    client.close();
  });
});
