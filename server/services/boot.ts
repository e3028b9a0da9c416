// Asks the one boot-plan function on behalf of DHCP, TFTP and HTTP, with the node from the store.
import { bootPlan, type BootPlan, type BootPlanSettings } from '../domain/boot-plan.ts';
import { normalizeMac } from '../domain/mac.ts';
import type { ClientFacts } from '../domain/types.ts';
import type { Store } from '../store/index.ts';
import type { StoredNode } from '../store/nodes.ts';

export interface NodeBootPlan extends BootPlan {
  node: StoredNode | null;
}

export class BootService {
  constructor(
    private readonly store: Store,
    readonly settings: BootPlanSettings,
  ) {}

  planFor(client: ClientFacts): NodeBootPlan {
    const mac = normalizeMac(client.mac);
    const node = this.store.nodes.getByMac(mac);
    return { ...bootPlan({ node, client: { ...client, mac }, settings: this.settings }), node };
  }
}
