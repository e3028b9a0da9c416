// Checks an operator sees before bootstrap starts: the shape of the cloud described by the nodes' roles.
import type { NodeRecord } from './types.ts';

export interface ClusterCheck {
  level: 'error' | 'warning';
  message: string;
}

type CheckedNode = Pick<NodeRecord, 'hostname' | 'mac' | 'roles' | 'addresses' | 'disks'>;

export function clusterChecks(nodes: CheckedNode[]): ClusterCheck[] {
  const checks: ClusterCheck[] = [];
  const name = (node: CheckedNode) => node.hostname ?? node.mac;
  const withRole = (role: string) => nodes.filter((node) => node.roles.includes(role as never));
  const controllers = withRole('controller');
  if (controllers.length === 0) checks.push({ level: 'error', message: 'no node has the controller role: every other role needs one' });
  if (controllers.length > 1) {
    checks.push({ level: 'error', message: `${controllers.length} controllers (${controllers.map(name).join(', ')}): one controller is supported; give the others another role` });
  }
  if (withRole('network').length === 0 && controllers.length > 0) {
    checks.push({ level: 'warning', message: 'no network node: give the controller the network role too (controller+network) so routers and DHCP for instances run somewhere' });
  }
  if (withRole('compute').length === 0) checks.push({ level: 'warning', message: 'no compute node: instances cannot be started' });
  for (const node of nodes) {
    if (node.roles.length > 0 && !node.addresses.management) {
      checks.push({ level: 'error', message: `${name(node)} has roles but no management address: reserve one so the cluster can reach it` });
    }
    if (node.roles.includes('storage') && node.disks.length === 0) {
      checks.push({ level: 'error', message: `${name(node)} is a storage node without data disks: set its disks (e.g. sdb)` });
    }
  }
  return checks;
}
