// Authoritative mode (RFC 2131 4.3): this appliance owns the provisioning subnet and the relayed ones, hands
// out reservations (a node's management address) and pool addresses, and NAKs addresses that are not right.
import type { ServedSubnet } from '../domain/address-plan.ts';
import { formatIpv4, inSubnet, isIpv4, parseIpv4 } from '../domain/ipv4.ts';
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

/** The address to offer: the reservation, the MAC's previous lease, the one it asks for, or a free one. */
function chooseAddress(deps: HandlerDeps, request: ClientRequest, plan: NodeBootPlan, subnet: ServedSubnet): number | null {
  const reserved = reservationIn(plan, subnet);
  if (reserved !== null) return reserved;
  const { leases } = deps;
  const previous = leases.forMac(subnet, request.mac);
  if (previous && leases.inPool(subnet, previous.address) && leases.availableFor(previous.address, request.mac)) {
    return previous.address;
  }
  const asked = request.requestedAddress;
  if (asked !== null && leases.inPool(subnet, asked) && leases.availableFor(asked, request.mac)) return asked;
  return leases.allocate(subnet);
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
  const address = chooseAddress(deps, request, plan, subnet);
  if (address === null) return drop('poolFull', `no free address in the pool of ${formatIpv4(subnet.subnet.network)}/${subnet.subnet.prefix}`);
  deps.leases.offer(subnet, request.mac, address, deps.settings.offerHoldMs, request.clientHostname);
  return offerOrAck(deps, request, plan, subnet, MessageType.OFFER, address);
}

function requestAddress(deps: HandlerDeps, request: ClientRequest, subnet: ServedSubnet): Outcome {
  const { serverId } = request;
  if (serverId !== null && serverId !== deps.settings.serverAddress) {
    // SELECTING another server's offer: ours is withdrawn, and we stay silent.
    deps.leases.withdrawOffer(subnet, request.mac);
    return drop('otherServer', `client chose server ${formatIpv4(serverId)}`);
  }
  const address = request.requestedAddress ?? (request.message.ciaddr !== 0 ? request.message.ciaddr : null);
  if (address === null) return drop('malformed', 'REQUEST without a requested address or ciaddr');
  const plan = deps.planFor(request);
  if (!mayAnswer(deps.settings.answer, plan) && !holdsLease(deps, request, subnet, address)) return drop('policy', `answer policy ${deps.settings.answer}`);
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
