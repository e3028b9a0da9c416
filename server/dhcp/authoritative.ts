// Authoritative mode (RFC 2131 4.3): this appliance owns the provisioning subnet and the relayed ones, hands
// out reservations (a node's management address) and pool addresses, and NAKs addresses that are not right.
import type { ServedSubnet } from '../domain/address-plan.ts';
import { formatCidr, formatIpv4, inSubnet, isIpv4, parseIpv4 } from '../domain/ipv4.ts';
import type { NodeBootPlan } from '../services/boot.ts';
import { drop, type HandlerDeps, type Inbound, type Outcome } from './handler.ts';
import { MessageType } from './options.ts';
import { addBootOptions, addLeaseTimes, addMessage, addNetworkOptions, destinationOf, finishReply, startReply } from './reply.ts';
import type { ClientRequest } from './request.ts';
import { mayAnswer, scopeOf } from './scope.ts';

export function handleAuthoritative(deps: HandlerDeps, inbound: Inbound): Outcome {
  const { request } = inbound;
  const scope = scopeOf(request, inbound.sourceAddress, deps.settings);
  if (!scope.ok) return drop('foreign', scope.reason);
  const subnet = scope.subnet;
  switch (request.type) {
    case MessageType.DISCOVER:
      return discover(deps, request, subnet);
    case MessageType.REQUEST:
      return requestAddress(deps, request, subnet);
    case MessageType.INFORM:
      return inform(deps, request, subnet);
    case MessageType.RELEASE:
      return release(deps, request);
    case MessageType.DECLINE:
      return decline(deps, request, subnet);
    default:
      return drop('unsupported', `message type ${request.type}`);
  }
}

function reservationIn(plan: NodeBootPlan, subnet: ServedSubnet): number | null {
  const text = plan.node?.addresses.management;
  if (!text || !isIpv4(text)) return null;
  const address = parseIpv4(text);
  return inSubnet(address, subnet.subnet) ? address : null;
}

/** The address this client already has here: its reservation, or the pool address its MAC holds or held. */
function addressOnRecord(deps: HandlerDeps, request: ClientRequest, plan: NodeBootPlan, subnet: ServedSubnet): number | null {
  const reserved = reservationIn(plan, subnet);
  if (reserved !== null) return reserved;
  const previous = deps.leases.forMac(subnet, request.mac);
  return previous && deps.leases.inPool(subnet, previous.address) && deps.leases.availableFor(previous.address, request.mac) ? previous.address : null;
}

/** A new pool address: the one the client asks for if free, any free one, or the oldest unanswered offer. */
function newAddress(deps: HandlerDeps, request: ClientRequest, subnet: ServedSubnet): { address: number; reclaimed: boolean } | null {
  const { leases } = deps;
  const asked = request.requestedAddress;
  if (asked !== null && leases.inPool(subnet, asked) && leases.availableFor(asked, request.mac)) return { address: asked, reclaimed: false };
  const free = leases.allocate(subnet);
  if (free !== null) return { address: free, reclaimed: false };
  // The pool is full; an offer nobody answered does not hold its address against a client that asks now.
  const taken = leases.reclaimOldestOffer(subnet, request.mac);
  return taken === null ? null : { address: taken, reclaimed: true };
}

/** Why this client may not have `address` in `subnet`, or null when it may. */
function addressProblem(deps: HandlerDeps, request: ClientRequest, plan: NodeBootPlan, subnet: ServedSubnet, address: number): string | null {
  if (!inSubnet(address, subnet.subnet)) return `${formatIpv4(address)} is not on this network`;
  const reserved = reservationIn(plan, subnet);
  if (reserved !== null) return address === reserved ? null : `this machine's address is ${formatIpv4(reserved)}`;
  if (!deps.leases.inPool(subnet, address)) return `${formatIpv4(address)} is not in the pool`;
  if (!deps.leases.availableFor(address, request.mac)) return `${formatIpv4(address)} is leased to another client or was declined`;
  return null;
}

/**
 * What this appliance knows of the client in this subnet: its reservation, else the address of its lease (a
 * binding or an offer it made, current or past), else null. No binding is ever made without one.
 * `offered`: an offer (or a binding) that still stands, which a SELECTING client may take.
 */
function recordOf(deps: HandlerDeps, request: ClientRequest, plan: NodeBootPlan, subnet: ServedSubnet): { address: number; offered: boolean } | null {
  const reserved = reservationIn(plan, subnet);
  if (reserved !== null) return { address: reserved, offered: true };
  const lease = deps.leases.forMac(subnet, request.mac);
  if (!lease || lease.state === 'declined') return null;
  return { address: lease.address, offered: (lease.state === 'offered' || lease.state === 'bound') && deps.leases.holds(lease) };
}

/** A client we already gave this address keeps being answered (renewals), whatever the policy says now. */
function holdsLease(deps: HandlerDeps, request: ClientRequest, subnet: ServedSubnet, address: number): boolean {
  const lease = deps.leases.forMac(subnet, request.mac);
  return !!lease && lease.address === address && lease.state === 'bound' && deps.leases.holds(lease);
}

function hostnameOf(plan: NodeBootPlan): string | null {
  return plan.node?.hostname ?? null;
}

function offerOrAck(deps: HandlerDeps, request: ClientRequest, plan: NodeBootPlan, subnet: ServedSubnet, type: number, address: number): Outcome {
  const reply = startReply(request, type, address, deps.settings);
  addLeaseTimes(reply, deps.settings.leaseSeconds);
  addNetworkOptions(reply, subnet, deps.settings, hostnameOf(plan));
  addBootOptions(reply, plan, request, deps.settings, false);
  const name = type === MessageType.OFFER ? 'OFFER' : 'ACK';
  return { kind: 'reply', reply: finishReply(reply, request), to: destinationOf(request, type), summary: `${name} ${formatIpv4(address)}` };
}

function nak(deps: HandlerDeps, request: ClientRequest, reason: string): Outcome {
  const reply = startReply(request, MessageType.NAK, 0, deps.settings);
  addMessage(reply, reason);
  return { kind: 'reply', reply: finishReply(reply, request), to: destinationOf(request, MessageType.NAK), summary: `NAK: ${reason}` };
}

function discover(deps: HandlerDeps, request: ClientRequest, subnet: ServedSubnet): Outcome {
  const plan = deps.planFor(request);
  if (!mayAnswer(deps.settings.answer, plan)) return drop('policy', `answer policy ${deps.settings.answer}`);
  let address = addressOnRecord(deps, request, plan, subnet);
  let reclaimed = false;
  if (address === null) {
    // A new pool offer: under the cap, which is checked before any address is taken.
    if (!deps.offerLimit.take(formatCidr(subnet.subnet))) {
      return drop('refusedOfferRate', `more than ${deps.settings.newOfferBurst} new offers at once (then ${deps.settings.newOffersPerSecond}/s) in ${formatCidr(subnet.subnet)}`);
    }
    const fresh = newAddress(deps, request, subnet);
    if (fresh === null) return drop('poolFull', `no free address in the pool of ${formatIpv4(subnet.subnet.network)}/${subnet.subnet.prefix}`);
    ({ address, reclaimed } = fresh);
  }
  deps.leases.offer(subnet, request.mac, address, deps.settings.offerHoldMs, request.clientHostname);
  const outcome = offerOrAck(deps, request, plan, subnet, MessageType.OFFER, address);
  return reclaimed && outcome.kind === 'reply' ? { ...outcome, reclaimedOffer: true } : outcome;
}

/**
 * RFC 2131 4.3.2 by client state. SELECTING (our server id): only the address we offered (or reserved), else
 * NAK. INIT-REBOOT (option 50, no server id): the address on record, NAK for another one or a wrong network,
 * silence when there is no record. RENEWING/REBINDING (ciaddr): only a binding we made, else silence.
 */
function requestAddress(deps: HandlerDeps, request: ClientRequest, subnet: ServedSubnet): Outcome {
  const { serverId } = request;
  if (serverId !== null && serverId !== deps.settings.serverAddress) {
    // SELECTING another server's offer: ours is withdrawn, and we stay silent.
    deps.leases.withdrawOffer(subnet, request.mac);
    return drop('otherServer', `client chose server ${formatIpv4(serverId)}`);
  }
  const renewing = request.message.ciaddr !== 0;
  const address = renewing ? request.message.ciaddr : request.requestedAddress;
  if (address === null) return drop('malformed', 'REQUEST without a requested address or ciaddr');
  const plan = deps.planFor(request);
  if (!mayAnswer(deps.settings.answer, plan) && !holdsLease(deps, request, subnet, address)) return drop('policy', `answer policy ${deps.settings.answer}`);
  const record = recordOf(deps, request, plan, subnet);
  if (serverId !== null) {
    if (!record || !record.offered || record.address !== address) {
      return { ...nak(deps, request, `no offer of ${formatIpv4(address)} was made to this client`), refusal: 'refusedNoOffer' } as Outcome;
    }
  } else if (renewing) {
    if (!record || record.address !== address) return drop('refusedRenewUnknown', `renewal of ${formatIpv4(address)}, which this appliance never bound to this client`);
  } else {
    if (!inSubnet(address, subnet.subnet)) return nak(deps, request, `${formatIpv4(address)} is not on this network`);
    if (!record) return drop('refusedInitRebootUnknown', `INIT-REBOOT for ${formatIpv4(address)} from a client with no lease or reservation here (RFC 2131 4.3.2: stay silent)`);
    if (record.address !== address) return nak(deps, request, `this client's address is ${formatIpv4(record.address)}`);
  }
  const problem = addressProblem(deps, request, plan, subnet, address);
  if (problem) return nak(deps, request, problem);
  deps.leases.bind(subnet, request.mac, address, deps.settings.leaseSeconds * 1000, request.clientHostname);
  deps.recordBoot(request, plan);
  return offerOrAck(deps, request, plan, subnet, MessageType.ACK, address);
}

function inform(deps: HandlerDeps, request: ClientRequest, subnet: ServedSubnet): Outcome {
  const plan = deps.planFor(request);
  if (!mayAnswer(deps.settings.answer, plan)) return drop('policy', `answer policy ${deps.settings.answer}`);
  const reply = startReply(request, MessageType.ACK, 0, deps.settings);
  addNetworkOptions(reply, subnet, deps.settings, hostnameOf(plan));
  addBootOptions(reply, plan, request, deps.settings, false);
  deps.recordBoot(request, plan);
  return { kind: 'reply', reply: finishReply(reply, request), to: destinationOf(request, MessageType.ACK), summary: 'ACK (INFORM)' };
}

function release(deps: HandlerDeps, request: ClientRequest): Outcome {
  if (request.serverId !== null && request.serverId !== deps.settings.serverAddress) return drop('otherServer', 'RELEASE for another server');
  const address = request.message.ciaddr;
  return deps.leases.release(address, request.mac)
    ? { kind: 'done', summary: `released ${formatIpv4(address)}` }
    : { kind: 'done', summary: `RELEASE of ${formatIpv4(address)}, which this MAC does not hold` };
}

function decline(deps: HandlerDeps, request: ClientRequest, subnet: ServedSubnet): Outcome {
  if (request.serverId !== null && request.serverId !== deps.settings.serverAddress) return drop('otherServer', 'DECLINE for another server');
  const address = request.requestedAddress;
  if (address === null) return drop('malformed', 'DECLINE without a requested address');
  const lease = deps.leases.at(address);
  if (!lease || lease.mac !== request.mac) return { kind: 'done', summary: `DECLINE of ${formatIpv4(address)}, which this MAC does not hold` };
  deps.leases.decline(subnet, address, request.mac, deps.settings.declineQuarantineMs);
  deps.log.warn({ mac: request.mac, address: formatIpv4(address) }, 'DHCP client declined its address: another host answers ARP for it');
  return { kind: 'done', summary: `declined ${formatIpv4(address)}` };
}
