// proxyDHCP mode (PXE 2.1): another server hands out addresses; we only tell network-boot clients what to boot.
// Port 67: a DISCOVER gets an offer without an address. Port 4011: a REQUEST gets the boot file in an ACK,
// sent straight back to the client.
import type { NodeBootPlan } from '../services/boot.ts';
import { drop, type HandlerDeps, type Inbound, type Outcome } from './handler.ts';
import { MessageType } from './options.ts';
import { addBootOptions, destinationOf, finishReply, startReply } from './reply.ts';
import type { ClientRequest } from './request.ts';
import { isBootClient, mayAnswer, scopeOf } from './scope.ts';

function proxyPlan(deps: HandlerDeps, request: ClientRequest): NodeBootPlan | Outcome {
  const plan = deps.planFor(request);
  if (!isBootClient(plan)) return drop('policy', 'proxyDHCP answers network-boot clients only');
  if (!mayAnswer(deps.settings.answer, plan)) return drop('policy', `answer policy ${deps.settings.answer}`);
  if (plan.firmware.kind === 'none') return drop('policy', `nothing to boot: ${plan.firmware.reason}`);
  return plan;
}

function bootReply(deps: HandlerDeps, request: ClientRequest, plan: NodeBootPlan, type: number) {
  const reply = startReply(request, type, 0, deps.settings);
  addBootOptions(reply, plan, request, deps.settings, true);
  return finishReply(reply, request);
}

/** A datagram to port 67 in proxy mode. */
export function handleProxyBroadcast(deps: HandlerDeps, inbound: Inbound): Outcome {
  const { request } = inbound;
  if (request.type !== MessageType.DISCOVER) return drop('unsupported', 'proxyDHCP on port 67 answers DISCOVER only');
  const scope = scopeOf(request, inbound.sourceAddress, deps.settings);
  if (!scope.ok) return drop('foreign', scope.reason);
  const plan = proxyPlan(deps, request);
  if ('kind' in plan) return plan;
  deps.recordBoot(request, plan);
  return { kind: 'reply', reply: bootReply(deps, request, plan, MessageType.OFFER), to: destinationOf(request, MessageType.OFFER), summary: 'proxy OFFER' };
}

/** A datagram to port 4011: answered to where it came from. */
export function handleProxyBootServer(deps: HandlerDeps, inbound: Inbound): Outcome {
  const { request } = inbound;
  if (request.type !== MessageType.REQUEST && request.type !== MessageType.INFORM) return drop('unsupported', 'port 4011 answers REQUEST and INFORM');
  const scope = scopeOf(request, inbound.sourceAddress, deps.settings);
  if (!scope.ok) return drop('foreign', scope.reason);
  const plan = proxyPlan(deps, request);
  if ('kind' in plan) return plan;
  return {
    kind: 'reply',
    reply: bootReply(deps, request, plan, MessageType.ACK),
    to: inbound.sourceAddress === '0.0.0.0' ? destinationOf(request, MessageType.ACK) : { address: inbound.sourceAddress, port: inbound.sourcePort },
    summary: 'proxy ACK (port 4011)',
  };
}
