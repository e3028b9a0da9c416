// Random and mutated datagrams: the parser and the engine must never throw, and every one is either
// answered or dropped and counted. Seeded, so a failure is reproducible.
import { afterAll, describe, expect, it } from 'vitest';
import { decodeMessage } from '../../server/dhcp/codec.ts';
import { MessageType } from '../../server/dhcp/options.ts';
import { readRequest } from '../../server/dhcp/request.ts';
import { buildDhcpEngine } from '../../server/dhcp/service.ts';
import { memoryContext } from './helpers/app.ts';
import { clientPacket } from './helpers/packets.ts';

function prng(seed: number) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const seeds = [
  clientPacket({ type: MessageType.DISCOVER, mac: '52:54:00:40:00:01', vendorClass: 'PXEClient:Arch:00007:UNDI:003016', archCode: 7, uuid: '00112233-4455-6677-8899-aabbccddeeff' }),
  clientPacket({ type: MessageType.REQUEST, mac: '52:54:00:40:00:02', requestedAddress: '10.231.10.100', serverId: '10.231.10.1', userClass: 'iPXE' }),
  clientPacket({ type: MessageType.DISCOVER, mac: '52:54:00:40:00:03', giaddr: '10.231.11.1', relayCircuitId: 'port1', vendorClass: 'HTTPClient:Arch:00016' }),
  clientPacket({ type: MessageType.INFORM, mac: '52:54:00:40:00:04', ciaddr: '10.231.10.20' }),
];

function mutate(random: () => number, seed: Buffer): Buffer {
  const bytes = Buffer.from(seed);
  const kind = Math.floor(random() * 5);
  if (kind === 0) return bytes.subarray(0, Math.floor(random() * bytes.length));
  const edits = 1 + Math.floor(random() * 8);
  for (let i = 0; i < edits; i++) {
    // Options and the fields that steer decoding (op, htype, hlen, giaddr) are hit most often.
    const offset = random() < 0.7 ? 240 + Math.floor(random() * (bytes.length - 240)) : Math.floor(random() * 28);
    bytes[offset] = kind === 1 ? 255 : kind === 2 ? Math.floor(random() * 256) : [0, 1, 53, 255, 254][Math.floor(random() * 5)]!;
  }
  if (kind === 4) return Buffer.concat([bytes, Buffer.from(Array.from({ length: Math.floor(random() * 300) }, () => Math.floor(random() * 256)))]);
  return bytes;
}

function randomDatagram(random: () => number): Buffer {
  if (random() < 0.2) return Buffer.from(Array.from({ length: Math.floor(random() * 700) }, () => Math.floor(random() * 256)));
  return mutate(random, seeds[Math.floor(random() * seeds.length)]!);
}

describe('fuzz', () => {
  it('parses 100,000 random and mutated datagrams without an exception', () => {
    const random = prng(20261201);
    let accepted = 0;
    for (let i = 0; i < 100_000; i++) {
      const decoded = decodeMessage(randomDatagram(random));
      if (decoded.ok && readRequest(decoded.message).ok) accepted++;
    }
    // Some mutations still make valid requests, most do not: both paths were exercised.
    expect(accepted).toBeGreaterThan(1000);
    expect(accepted).toBeLessThan(90_000);
  });

  const ctx = memoryContext({ 'dhcp.answer': 'all', 'provisioning.pool': { start: '10.231.10.100', end: '10.231.10.200' } });
  const parts = buildDhcpEngine(ctx, ctx.log, { flushIntervalMs: 0 });
  afterAll(() => {
    parts.leases.close();
    parts.recorder.close();
    ctx.store.close();
  });

  it('runs 20,000 of them through the engine: each answered or dropped and counted, no handler error', () => {
    const random = prng(7);
    const sources = ['0.0.0.0', '10.231.10.20', '10.231.11.1', '192.0.2.1'];
    for (let i = 0; i < 20_000; i++) {
      const datagram = randomDatagram(random);
      // A fresh xid per datagram, or most would be dropped as duplicates before reaching the handlers.
      if (datagram.length >= 8 && i % 10 !== 0) datagram.writeUInt32BE(i, 4);
      const result = parts.engine.handle(datagram, sources[i % sources.length]!, 68, i % 7 === 0 ? 'proxy-boot-server' : 'dhcp');
      expect(result.kind).not.toBe('error');
    }
    const c = parts.engine.counters;
    expect(c.handlerErrors).toBe(0);
    const refused = c.refusedInitRebootUnknown + c.refusedRenewUnknown + c.refusedOfferRate + c.refusedGroupMac;
    const accounted = c.malformed + c.duplicate + c.foreign + c.policy + c.otherServer + c.poolFull + c.unsupported + refused + c.offers + c.acks + c.naks + c.noReply;
    expect(accounted).toBe(c.received);
    expect(c.malformed).toBeGreaterThan(0);
    expect(c.offers + c.acks + c.naks).toBeGreaterThan(1000);
  });
});
