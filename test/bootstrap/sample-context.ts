// A render context shaped like the orchestrator's (server/orchestrator/context.ts StageContext), for rendering
// every stage template in the fast tests: a controller+network node, a compute node, a storage node.
import { clusterSettingsSchema, SECRET_NAMES, type ClusterSecrets } from '../../server/services/cluster.ts';
import type { StageContext } from '../../server/orchestrator/context.ts';

/** Recognisable, alphabet-valid secrets: a test can look for each in rendered text and in script files. */
export function sampleSecrets(): ClusterSecrets {
  const secrets = {} as ClusterSecrets;
  SECRET_NAMES.forEach((name, index) => {
    secrets[name] = `Smpl${name.replace(/[^A-Za-z0-9]/g, '')}X${String(index).padStart(2, '0')}q7`;
  });
  return secrets;
}

const hosts = [
  { hostname: 'ctl1', fqdn: 'ctl1.cluster.test', address: '10.231.89.10', roles: ['controller', 'network'] as const },
  { hostname: 'cmp1', fqdn: 'cmp1.cluster.test', address: '10.231.89.11', roles: ['compute'] as const },
  { hostname: 'sto1', fqdn: 'sto1.cluster.test', address: '10.231.89.12', roles: ['storage'] as const },
];

export type SampleRole = 'controller' | 'compute' | 'storage';

export function sampleContext(role: SampleRole, family: 'debian' | 'ubuntu' = 'debian', overrides: Partial<Record<'mechanism', 'openvswitch' | 'linuxbridge'>> = {}): StageContext {
  const index = role === 'controller' ? 0 : role === 'compute' ? 1 : 2;
  const host = hosts[index]!;
  const settings = clusterSettingsSchema.parse({
    domain: 'cluster.test',
    ntpServers: ['10.231.89.1'],
    packageProxy: 'http://10.231.89.1:3142',
    neutron: {
      mechanism: overrides.mechanism ?? 'openvswitch',
      providerPhysnet: 'provider',
      providerInterface: 'eth1',
      vniRanges: '1:1000',
      external: { cidr: '203.0.113.0/24', gateway: '203.0.113.1', poolStart: '203.0.113.100', poolEnd: '203.0.113.200' },
    },
    image: { name: 'cirros', url: 'http://10.231.89.1:8080/cirros.img' },
  });
  const roles = [...host.roles];
  return {
    node: {
      id: index + 1,
      hostname: host.hostname,
      fqdn: host.fqdn,
      mac: `52:54:00:89:00:1${index}`,
      roles,
      managementAddress: host.address,
      tunnelAddress: `10.231.90.${10 + index}`,
      storageAddress: `10.231.91.${10 + index}`,
      interfaces: { management: 'eth0', tunnel: 'eth2', external: role === 'controller' ? 'eth1' : null, storage: role === 'storage' ? 'eth3' : null },
      disks: role === 'storage' ? ['sdb', 'sdc', 'disk/by-id/wwn-0x5000c500a1b2c3d4'] : [],
    },
    cluster: {
      ...settings,
      controller: { hostname: 'ctl1', fqdn: 'ctl1.cluster.test', address: '10.231.89.10' },
      nodes: hosts.map((h) => ({ ...h, roles: [...h.roles] })),
      computeNodes: [{ ...hosts[1]!, roles: [...hosts[1]!.roles] }],
      storageNodes: [{ hostname: 'sto1', address: '10.231.89.12', storageAddress: '10.231.91.12', disks: ['sdb', 'sdc', 'disk/by-id/wwn-0x5000c500a1b2c3d4'] }],
    },
    secrets: sampleSecrets(),
    distro: family === 'debian' ? { family: 'debian', release: '12', codename: 'bookworm' } : { family: 'ubuntu', release: '24.04', codename: 'noble' },
    appliance: { url: 'http://10.231.89.1:8080', packageProxy: 'http://10.231.89.1:3142' },
    target: { hostname: host.hostname, address: host.address },
  };
}
