// One datagram in, at most one datagram out: decode, read the request, let the mode's handler decide, encode.
// No sockets here, so the fuzz and table tests drive exactly what the service runs. Never throws.
import { decodeMessage, encodeReply } from './codec.ts';
import { handleAuthoritative } from './authoritative.ts';
import type { DropReason, HandlerDeps, Inbound, Outcome, ReplyRefusal } from './handler.ts';
import { groupMacProblem } from '../domain/mac.ts';
import { MessageType } from './options.ts';
import { handleProxyBootServer, handleProxyBroadcast } from './proxy.ts';
import type { Destination } from './reply.ts';
import { readRequest } from './request.ts';

export type Door = 'dhcp' | 'proxy-boot-server';

export interface DhcpCounters {
  received: number;
  malformed: number;
  /** The same datagram heard twice within a moment (two interfaces or relays on one segment). */
  duplicate: number;
  foreign: number;
  policy: number;
  otherServer: number;
  poolFull: number;
  unsupported: number;
  /** Refusals (no answer unless said): RFC 2131 4.3.2 silence for INIT-REBOOT from an unknown client. */
  refusedInitRebootUnknown: number;
  /** A renewal (ciaddr) of an address never bound to that client: silence. */
  refusedRenewUnknown: number;
  /** A REQUEST for an address this appliance did not offer (SELECTING): answered with a NAK. */
  refusedNoOffer: number;
  /** New pool offers over the cap (dhcp.newOffersPerSecond / dhcp.newOfferBurst). */
  refusedOfferRate: number;
  /** chaddr is a multicast, broadcast or all-zero MAC. */
  refusedGroupMac: number;
  /** A full pool gave the oldest unanswered offer to a new client (offers do not hold addresses against clients). */
  offersReclaimed: number;
  offers: number;
  acks: number;
  naks: number;
  /** RELEASE and DECLINE handled (no reply). */
  noReply: number;
  replyTooLarge: number;
  sendErrors: number;
  handlerErrors: number;
}

export const emptyCounters = (): DhcpCounters => ({
  received: 0,
  malformed: 0,
  duplicate: 0,
  foreign: 0,
  policy: 0,
  otherServer: 0,
  poolFull: 0,
  unsupported: 0,
  refusedInitRebootUnknown: 0,
  refusedRenewUnknown: 0,
  refusedNoOffer: 0,
  refusedOfferRate: 0,
  refusedGroupMac: 0,
  offersReclaimed: 0,
  offers: 0,
  acks: 0,
  naks: 0,
  noReply: 0,
  replyTooLarge: 0,
  sendErrors: 0,
  handlerErrors: 0,
});

export type EngineResult =
  | { kind: 'send'; bytes: Buffer; to: Destination; mac: string; summary: string; refusal?: ReplyRefusal; reclaimedOffer?: boolean }
  | { kind: 'drop'; why: DropReason; reason: string; mac?: string }
  | { kind: 'done'; summary: string; mac: string }
  | { kind: 'error'; error: unknown };

/** Copies of one datagram arrive within microseconds; a client's own retransmission comes a second or more later. */
const DUPLICATE_WINDOW_MS = 200;

export class DhcpEngine {
  readonly counters = emptyCounters();
  private recent = new Set<string>();
  private older = new Set<string>();
  private recentSince = 0;

  constructor(
    private readonly deps: HandlerDeps,
    private readonly now: () => number = Date.now,
  ) {}

  /** Two generations of keys, swapped every window: a key is remembered for one to two windows. */
  private seenBefore(key: string): boolean {
    const now = this.now();
    if (now - this.recentSince >= DUPLICATE_WINDOW_MS) {
      this.older = now - this.recentSince >= 2 * DUPLICATE_WINDOW_MS ? new Set() : this.recent;
      this.recent = new Set();
      this.recentSince = now;
    }
    if (this.recent.has(key) || this.older.has(key)) return true;
    this.recent.add(key);
    return false;
  }

  handle(datagram: Buffer, sourceAddress: string, sourcePort: number, door: Door = 'dhcp'): EngineResult {
    this.counters.received++;
    try {
      return this.count(this.process(datagram, sourceAddress, sourcePort, door));
    } catch (error) {
      this.counters.handlerErrors++;
      return { kind: 'error', error };
    }
  }

  private process(datagram: Buffer, sourceAddress: string, sourcePort: number, door: Door): EngineResult {
    const decoded = decodeMessage(datagram);
    if (!decoded.ok) return { kind: 'drop', why: 'malformed', reason: decoded.reason };
    const read = readRequest(decoded.message);
    if (!read.ok) return { kind: 'drop', why: 'malformed', reason: read.reason };
    const groupMac = groupMacProblem(read.request.mac);
    if (groupMac) return { kind: 'drop', why: 'refusedGroupMac', reason: groupMac, mac: read.request.mac };
    if (this.seenBefore(`${door} ${read.request.type} ${decoded.message.xid} ${read.request.mac}`)) {
      return { kind: 'drop', why: 'duplicate', reason: 'the same datagram arrived twice', mac: read.request.mac };
    }
    const inbound: Inbound = { request: read.request, sourceAddress, sourcePort };
    const outcome = this.decide(inbound, door);
    const mac = read.request.mac;
    if (outcome.kind === 'drop') return { ...outcome, mac };
    if (outcome.kind === 'done') return { ...outcome, mac };
    const bytes = encodeReply(outcome.reply, read.request.maxMessageSize);
    if (!bytes) {
      this.counters.replyTooLarge++;
      return { kind: 'drop', why: 'unsupported', reason: `reply larger than the client's ${read.request.maxMessageSize} bytes`, mac };
    }
    return { kind: 'send', bytes, to: outcome.to, mac, summary: outcome.summary, refusal: outcome.refusal, reclaimedOffer: outcome.reclaimedOffer };
  }

  private decide(inbound: Inbound, door: Door): Outcome {
    if (this.deps.settings.mode === 'authoritative') return handleAuthoritative(this.deps, inbound);
    return door === 'dhcp' ? handleProxyBroadcast(this.deps, inbound) : handleProxyBootServer(this.deps, inbound);
  }

  private count(result: EngineResult): EngineResult {
    const c = this.counters;
    if (result.kind === 'drop') c[result.why]++;
    else if (result.kind === 'done') c.noReply++;
    else if (result.kind === 'send') {
      const type = result.bytes[242];
      if (type === MessageType.OFFER) c.offers++;
      else if (type === MessageType.ACK) c.acks++;
      else if (type === MessageType.NAK) c.naks++;
      if (result.refusal) c[result.refusal]++;
      if (result.reclaimedOffer) c.offersReclaimed++;
    }
    return result;
  }
}
