// Drives the real orchestrator (server/orchestrator) against lab machines: a store in a temporary data
// directory, nodes added the way an operator adds them, moved to `installed` with the host key the installer
// would have reported, then left to the engine, which connects over SSH and runs the manifest's stages.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../server/config.ts';
import type { AppContext } from '../../server/context.ts';
import { createLogger } from '../../server/log.ts';
import { startOrchestrator, type Orchestrator } from '../../server/orchestrator/service.ts';
import { createServices } from '../../server/services/index.ts';
import { openStore } from '../../server/store/index.ts';
import type { StoredNode } from '../../server/store/nodes.ts';
import { SUBNET_PREFIX, type LabMachine } from './lab.ts';

export interface LabAppliance {
  ctx: AppContext;
  orchestrator: Orchestrator;
  close(): Promise<void>;
}

export async function startLabAppliance(dataDir: string, bootstrapDir: string, cluster: Record<string, unknown>, onLine: (line: string) => void): Promise<LabAppliance> {
  mkdirSync(dataDir, { recursive: true });
  const config = loadConfig({
    env: {},
    overrides: {
      dataDir,
      bootstrapDir,
      'provisioning.address': `${SUBNET_PREFIX}.1`,
      'provisioning.subnet': `${SUBNET_PREFIX}.0/24`,
      'provisioning.gateway': `${SUBNET_PREFIX}.1`,
      'provisioning.pool': { start: `${SUBNET_PREFIX}.100`, end: `${SUBNET_PREFIX}.199` },
      'dhcp.enabled': false,
      'orchestrator.concurrency': 2,
    },
  });
  const store = openStore(join(dataDir, 'racklift.db'));
  const services = createServices(config, store);
  const ctx: AppContext = { config, store, services, log: createLogger('warn') };
  services.cluster.update(cluster, 'lab');
  store.events.subscribe((event) => {
    if (event.nodeId !== null) onLine(`[event] ${event.kind}${event.toState ? ` -> ${event.toState}` : ''}: ${event.message ?? ''}`);
  });
  const orchestrator = await startOrchestrator(ctx, { pollMs: 2000, backoffInitialMs: 1000, backoffMaxMs: 5000 });
  orchestrator.onOutput((output) => {
    for (const line of output.text.split('\n')) if (line.trim()) onLine(`[${output.hostname} ${output.stage}${output.stream === 'stdout' ? '' : ` ${output.stream}`}] ${line}`);
  });
  return {
    ctx,
    orchestrator,
    close: async () => {
      await orchestrator.close();
      store.close();
    },
  };
}

/** Adds a lab machine as a node with roles and moves it to `installed`, pinning its real host key. */
export function enrol(appliance: LabAppliance, machine: LabMachine, mac: string, roles: string[], extra: Record<string, unknown> = {}): StoredNode {
  const { services, store } = appliance.ctx;
  let node = services.nodes.add(mac, { hostname: machine.name, profile: 'debian-12', roles: roles as never, managementAddress: machine.address, interfaces: { management: 'eth0' }, ...extra }, 'lab');
  node = store.nodes.update(node.id, { sshHostKey: machine.hostKey });
  node = services.nodes.apply(node, { kind: 'install-started' }, 'installer');
  node = services.nodes.apply(node, { kind: 'install-done' }, 'installer');
  appliance.orchestrator.kick();
  return node;
}

/** Resolves when the node is ready, rejects when it failed (with the reason) or the time is up. */
export async function waitForNode(current: () => LabAppliance, id: number, seconds: number, onFailed?: (node: StoredNode) => Promise<boolean>): Promise<StoredNode> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    let appliance = current();
    const node = appliance.ctx.store.nodes.get(id)!;
    if (node.state === 'ready') return node;
    if (node.state === 'failed') {
      if (onFailed && (await onFailed(node))) {
        appliance = current();
        appliance.ctx.services.nodes.retry(id, 'lab');
        appliance.orchestrator.kick();
      } else {
        throw new Error(`${node.hostname} failed: ${node.failedReason ?? "no reason recorded"}`);
      }
    }
    if (Date.now() > deadline) throw new Error(`${node.hostname} still ${node.state} after ${seconds} s`);
    await new Promise((r) => setTimeout(r, 2000));
  }
}
