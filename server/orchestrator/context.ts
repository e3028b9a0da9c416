// The render context of docs/stage-manifest.md, built from the store for one node (and the node it runs on).
import type { AppContext } from '../context.ts';
import type { Role } from '../domain/types.ts';
import type { ClusterSecrets, ClusterSettings } from '../services/cluster.ts';
import type { StoredNode } from '../store/nodes.ts';

export interface ContextNode {
  id: number;
  hostname: string;
  fqdn: string;
  mac: string;
  roles: Role[];
  managementAddress: string;
  tunnelAddress: string;
  storageAddress: string;
  interfaces: { management: string | null; tunnel: string | null; external: string | null; storage: string | null };
  disks: string[];
}

export interface ClusterHost {
  hostname: string;
  fqdn: string;
  address: string;
  roles: Role[];
}

export interface StageContext {
  node: ContextNode;
  cluster: ClusterSettings & {
    controller: { hostname: string; fqdn: string; address: string } | null;
    nodes: ClusterHost[];
    computeNodes: ClusterHost[];
    storageNodes: { hostname: string; address: string; storageAddress: string; disks: string[] }[];
  };
  secrets: ClusterSecrets;
  distro: { family: string; release: string; codename: string };
  appliance: { url: string; packageProxy: string | null };
  target: { hostname: string; address: string };
}

const CODENAMES: Record<string, string> = {
  'debian:11': 'bullseye',
  'debian:12': 'bookworm',
  'debian:13': 'trixie',
  'ubuntu:14.04': 'trusty',
  'ubuntu:22.04': 'jammy',
  'ubuntu:24.04': 'noble',
};

const fqdnOf = (hostname: string, domain: string) => (hostname.includes('.') ? hostname : `${hostname}.${domain}`);

export function contextNode(node: StoredNode, domain: string): ContextNode {
  const hostname = node.hostname ?? `node-${node.id}`;
  const management = node.addresses.management ?? '';
  return {
    id: node.id,
    hostname,
    fqdn: fqdnOf(hostname, domain),
    mac: node.mac,
    roles: node.roles,
    managementAddress: management,
    tunnelAddress: node.addresses.tunnel ?? management,
    storageAddress: node.addresses.storage ?? management,
    interfaces: {
      management: node.interfaces.management ?? null,
      tunnel: node.interfaces.tunnel ?? null,
      external: node.interfaces.external ?? null,
      storage: node.interfaces.storage ?? null,
    },
    disks: node.disks,
  };
}

/** The controller is the first node (by id) holding the role; null when there is none. */
export function controllerOf(nodes: readonly StoredNode[]): StoredNode | null {
  return nodes.find((node) => node.roles.includes('controller')) ?? null;
}

export function buildStageContext(ctx: AppContext, node: StoredNode, target: StoredNode = node): StageContext {
  const settings = ctx.services.cluster.settings();
  const all = ctx.store.nodes.list().filter((other) => other.roles.length > 0);
  const hosts = all.map((other) => contextNode(other, settings.domain));
  const host = (n: ContextNode): ClusterHost => ({ hostname: n.hostname, fqdn: n.fqdn, address: n.managementAddress, roles: n.roles });
  const controller = controllerOf(all);
  const controllerNode = controller ? contextNode(controller, settings.domain) : null;
  const profile = node.profile ? ctx.store.profiles.get(node.profile) : null;
  const family = profile?.family ?? 'debian';
  const release = profile?.release ?? '12';
  const targetNode = contextNode(target, settings.domain);
  return {
    node: contextNode(node, settings.domain),
    cluster: {
      ...settings,
      controller: controllerNode
        ? { hostname: controllerNode.hostname, fqdn: controllerNode.fqdn, address: settings.controllerAddress ?? controllerNode.managementAddress }
        : null,
      nodes: hosts.map(host),
      computeNodes: hosts.filter((n) => n.roles.includes('compute')).map(host),
      storageNodes: hosts
        .filter((n) => n.roles.includes('storage'))
        .map((n) => ({ hostname: n.hostname, address: n.managementAddress, storageAddress: n.storageAddress, disks: n.disks })),
    },
    secrets: ctx.services.cluster.secrets(),
    distro: { family, release, codename: CODENAMES[`${family}:${release}`] ?? '' },
    appliance: { url: ctx.config.publicUrl, packageProxy: settings.packageProxy ?? ctx.config.http.packageProxy },
    target: { hostname: targetNode.hostname, address: targetNode.managementAddress },
  };
}
