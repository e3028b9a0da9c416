// What a mode handler is given and what it gives back. Handlers decide; the service sends and counts.
import type { Logger } from '../log.ts';
import type { NodeBootPlan } from '../services/boot.ts';
import type { DhcpReply } from './codec.ts';
import type { LeaseBook } from './lease-book.ts';
import type { Destination } from './reply.ts';
import type { ClientRequest } from './request.ts';
import type { DhcpSettings } from './settings.ts';

export type DropReason = 'foreign' | 'policy' | 'otherServer' | 'poolFull' | 'unsupported' | 'malformed' | 'duplicate';

export type Outcome =
  | { kind: 'reply'; reply: DhcpReply; to: Destination; summary: string }
  | { kind: 'drop'; why: DropReason; reason: string }
  /** Handled, nothing to send (RELEASE, DECLINE). */
  | { kind: 'done'; summary: string };

export interface HandlerDeps {
  settings: DhcpSettings;
  leases: LeaseBook;
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
