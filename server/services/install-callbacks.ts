// The one check every installer and agent callback passes (GET /install/<token>/<file>, POST .../started|done|
// failed, and any route added below /install/<token>/ later): the token must be the node's token of its current
// install generation, and the request must come from an address the appliance leased or reserved for the node's
// MAC (relayed subnets included). Anyone who learns a MAC can read its token from /boot.ipxe; only the machine at
// the node's address can use it. `done` is one claim per generation: a repeat from the same machine with the same
// host key is answered again, anything else after it is a second machine claiming the node, and fails it.
// Every verdict is an event that names the source address.
import { installTokenValid } from '../domain/lifecycle.ts';
import type { Store } from '../store/index.ts';
import type { StoredNode } from '../store/nodes.ts';
import { claimedNodeId, InstallTokens } from './install-tokens.ts';
import type { NodeService } from './nodes.ts';

export const CALLBACK_ACTOR = 'installer';

export type CallbackVerdict =
  /** `live`: the install is under way; `over`: this generation's done was claimed already. */
  | { ok: true; node: StoredNode; phase: 'live' | 'over' }
  | { ok: false; status: 403 | 404; message: string };

export interface CallbackRequest {
  token: string;
  /** What is asked, for the event: `GET preseed`, `POST done`. */
  what: string;
  /** The peer address of the request (IPv4; an IPv4-mapped IPv6 address is read as IPv4). */
  source: string;
}

/** Addresses the DHCP service has bound for a MAC and not yet written to the store; set when DHCP runs here. */
export type LiveLeaseLookup = (mac: string) => string[];

export function plainAddress(address: string | undefined): string {
  if (!address) return 'unknown';
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

export class InstallCallbacks {
  private liveLeases: LiveLeaseLookup | null = null;

  constructor(
    private readonly store: Store,
    private readonly tokens: InstallTokens,
    private readonly nodes: NodeService,
    private readonly now: () => number = Date.now,
  ) {}

  useLiveLeases(lookup: LiveLeaseLookup | null): void {
    this.liveLeases = lookup;
  }

  /** Where the node may call from: its reservation and the addresses the appliance has leased to its MAC. */
  allowedSources(node: StoredNode): string[] {
    const addresses = new Set<string>();
    if (node.addresses.management) addresses.add(node.addresses.management);
    const now = this.now();
    for (const lease of this.store.leases.forMac(node.mac)) {
      if (lease.state === 'bound' && lease.expiresAt > now) addresses.add(lease.address);
    }
    for (const address of this.liveLeases?.(node.mac) ?? []) addresses.add(address);
    return [...addresses];
  }

  /**
   * The verdict on a callback; a refusal is an event saying why and what to do. `afterDone: 'claim'` lets a
   * request with this generation's token through once done was claimed (POST callbacks: see lateClaim);
   * `refuse` answers it 404 (installer files are not served once the install is over).
   */
  authorize(request: CallbackRequest, afterDone: 'claim' | 'refuse'): CallbackVerdict {
    const source = plainAddress(request.source);
    const claimedId = claimedNodeId(request.token);
    const node = claimedId === null ? null : this.store.nodes.get(claimedId);
    const current = node !== null && this.tokens.matches(request.token, node.id, node.generation);
    if (!node || !current) {
      return this.refuse(404, node, request, source, node ? this.whyNotCurrent(node, request.token) : 'unknown token');
    }
    const live = installTokenValid(node.state) && node.installTokenHash === InstallTokens.hash(request.token);
    const over = !live && afterDone === 'claim' && node.installDoneFrom !== null;
    if (!live && !over) {
      return this.refuse(404, node, request, source, `the install of generation ${node.generation} is over (node is ${node.state}); re-image the node to install again`);
    }
    const allowed = this.allowedSources(node);
    if (!allowed.includes(source)) {
      const known = allowed.length > 0 ? `${node.mac} was leased or reserved ${allowed.join(', ')}` : `the appliance has leased and reserved no address for ${node.mac} (give the node a management address, or let racklift's DHCP lease it one)`;
      return this.refuse(403, node, request, source, `the request came from ${source}, but ${known}`);
    }
    return { ok: true, node, phase: live ? 'live' : 'over' };
  }

  /**
   * A callback after this generation's done: the same done again (same address, same host key) is answered as
   * before; anything else means two machines claim one node, and the node fails so an operator looks at it.
   */
  lateClaim(node: StoredNode, what: string, source: string, hostKey: string | null): { repeated: boolean } {
    const from = plainAddress(source);
    if (what === 'POST done' && hostKey !== null && from === node.installDoneFrom && hostKey === node.sshHostKey) {
      this.event(node, 'callback', `done of install generation ${node.generation} repeated from ${from} with the same host key: answered again, nothing changed`, from);
      return { repeated: true };
    }
    const second = what === 'POST done' && hostKey !== null ? `a second done with host key ${keyLabel(hostKey)}` : what;
    const reason =
      `two machines claimed ${node.hostname ?? node.mac} (install generation ${node.generation}): done came from ${node.installDoneFrom} ` +
      `with host key ${keyLabel(node.sshHostKey ?? '')}, then ${second} from ${from}. Re-image the node, and look for a machine answering with its address`;
    this.event(node, 'claim-conflict', reason, from);
    const fresh = this.store.nodes.get(node.id);
    if (fresh && fresh.generation === node.generation && fresh.state !== 'failed') {
      this.nodes.apply(fresh, { kind: 'claim-conflict', reason }, CALLBACK_ACTOR, undefined, from);
    }
    return { repeated: false };
  }

  private whyNotCurrent(node: StoredNode, token: string): string {
    const old = this.tokens.generationOf(token, node.id, node.generation);
    if (old !== null) {
      return `token of install generation ${old}, the node is at generation ${node.generation}: an old installer is still running; power-cycle the machine so it boots the new one`;
    }
    return 'the token does not belong to this node (forged or from another appliance)';
  }

  private refuse(status: 403 | 404, node: StoredNode | null, request: CallbackRequest, source: string, why: string): CallbackVerdict {
    this.store.events.append({
      nodeId: node?.id ?? null,
      mac: node?.mac ?? null,
      kind: 'token-refused',
      message: `${request.what} from ${source} refused: ${why}`,
      actor: CALLBACK_ACTOR,
      source,
    });
    return { ok: false, status, message: status === 403 ? 'this install token may not be used from this address\n' : 'unknown or expired install token\n' };
  }

  private event(node: StoredNode, kind: string, message: string, source: string): void {
    this.store.events.append({ nodeId: node.id, mac: node.mac, kind, message, actor: CALLBACK_ACTOR, source });
  }
}

/** `ssh-ed25519 SHA256:...`-like short form of a host key line, for events. */
function keyLabel(line: string): string {
  const [type, blob] = line.trim().split(/\s+/);
  return type && blob ? `${type} ...${blob.slice(-12)}` : '(none)';
}
