// What a mode handler is given and what it gives back. Handlers decide; the service sends and counts.
import type { Logger } from '../log.ts';
import type { NodeBootPlan } from '../services/boot.ts';
import type { DhcpReply } from './codec.ts';
import type { LeaseBook } from './lease-book.ts';
import type { OfferLimiter } from './offer-limit.ts';
import type { Destination } from './reply.ts';
import type { ClientRequest } from './request.ts';
import type { DhcpSettings } from './settings.ts';

/**
 * Why a datagram got no answer. The `refused*` reasons are the appliance declining on purpose (RFC 2131 4.3.2
 * silence, the offer cap, group MACs); the DHCP stats count each under the same name.
 */
export type DropReason =
  | 'foreign'
  | 'policy'
  | 'otherServer'
  | 'poolFull'
  | 'unsupported'
  | 'malformed'
  | 'duplicate'
  /** INIT-REBOOT (option 50, no server id) from a client the appliance has no record of: silence. */
  | 'refusedInitRebootUnknown'
  /** RENEWING/REBINDING (ciaddr) of an address the appliance never bound to that client: silence. */
  | 'refusedRenewUnknown'
  /** A new pool offer over dhcp.newOffersPerSecond (a flood of made-up MACs cannot drain the pool). */
  | 'refusedOfferRate'
  /** chaddr is a multicast or broadcast MAC (or all zero): no network card has it. */
  | 'refusedGroupMac';

/** Replies that are refusals too (a NAK), counted by name beside the NAK counter. */
export type ReplyRefusal = 'refusedNoOffer';

export type Outcome =
  | { kind: 'reply'; reply: DhcpReply; to: Destination; summary: string; refusal?: ReplyRefusal; reclaimedOffer?: boolean }
  | { kind: 'drop'; why: DropReason; reason: string }
  /** Handled, nothing to send (RELEASE, DECLINE). */
  | { kind: 'done'; summary: string };

export interface HandlerDeps {
  settings: DhcpSettings;
  leases: LeaseBook;
  /** The cap on new pool offers per subnet and second. */
  offerLimit: OfferLimiter;
  planFor(request: ClientRequest): NodeBootPlan;
  /** Records a network-boot client (discover or boot facts), batched off the packet path. */
  recordBoot(request: ClientRequest, plan: NodeBootPlan): void;
  log: Logger;
}

export interface Inbound {
  request: ClientRequest;
  sourceAddress: string;
  sourcePort: number;
}

export const drop = (why: DropReason, reason: string): Outcome => ({ kind: 'drop', why, reason });
