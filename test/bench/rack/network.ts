// The rack benchmark's network, all in namespaces it creates and deletes.
//  - racks (default): RACKS racks, each a router namespace (a bridge for its machines, a DHCP relay, IP
//    forwarding) on the appliance's spine; the appliance serves the racks' subnets through their relays, as
//    DESIGN.md's "one appliance serves many racks" has it. Broadcasts stay within a rack.
//  - flat: every machine on one bridge with the appliance, one broadcast domain. There every broadcast DHCP
//    reply is flooded to all ports inside the sender's send() (veth delivers synchronously), which a switch
//    would do in hardware: about 2 ms of the appliance's CPU per reply at 500 ports.
// Each machine is a namespace with one veth NIC, eth0, with its own MAC and no IPv6 address (so hundreds of
// ports do not flood the network with router solicitations and duplicate-address probes).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

export type Topology = 'racks' | 'flat';

export interface RackNetwork {
  topology: Topology;
  applianceNs: string;
  serverAddress: string;
  machineNs(i: number): string;
  /** The provisioning section of racklift.yaml. */
  rackliftProvisioning: string;
  /** dnsmasq lines for the same address plan (the reference). */
  dnsmasqLines: string[];
  /** The interface the DHCP server listens on. */
  serverInterface: string;
  destroy(): void;
}

function ipBatch(commands: string[], ns?: string): void {
  const args = [...(ns ? ['-n', ns] : []), '-batch', '-'];
  const result = spawnSync('ip', args, { input: commands.join('\n') + '\n', encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`ip ${args.join(' ')}: ${result.stderr}`);
}

export const macOf = (i: number) => `52:54:00:a0:${((i >> 8) & 0xff).toString(16).padStart(2, '0')}:${(i & 0xff).toString(16).padStart(2, '0')}`;

export function buildNetwork(options: { tag: number; machines: number; racks: number; topology: Topology; work: string; children: Set<ChildProcess> }): RackNetwork {
  const { tag, machines, topology } = options;
  const racks = topology === 'flat' ? 1 : options.racks;
  const perRack = Math.ceil(machines / racks);
  const applianceNs = `rl-rack-a-${tag}`;
  const rackNs = (k: number) => `rl-rack-${tag}-r${k}`;
  const machineNs = (i: number) => `rl-rack-${tag}-${i}`;
  const serverAddress = topology === 'flat' ? '10.232.0.1' : '10.232.0.1';
  const namespaces = [applianceNs, ...(topology === 'racks' ? Array.from({ length: racks }, (_, k) => rackNs(k)) : []), ...Array.from({ length: machines }, (_, i) => machineNs(i))];
  const relays: ChildProcess[] = [];
  const destroy = () => {
    for (const relay of relays) relay.kill('SIGKILL');
    spawnSync('ip', ['-force', '-batch', '-'], { input: namespaces.map((ns) => `netns del ${ns}`).join('\n') + '\n', stdio: ['pipe', 'ignore', 'ignore'] });
  };
  ipBatch(namespaces.map((ns) => `netns add ${ns}`));
  /** Machines i of [from, to) get a veth each on `bridge` in namespace `ns`. */
  const attachMachines = (ns: string, bridge: string, from: number, to: number) => {
    const indexes = Array.from({ length: to - from }, (_, j) => from + j);
    ipBatch(
      [
        ...indexes.map((i) => `link add rkp${i} type veth peer name eth0 netns ${machineNs(i)} address ${macOf(i)}`),
        ...indexes.map((i) => `link set rkp${i} addrgenmode none master ${bridge} up`),
      ],
      ns,
    );
  };
  const bridge = (name: string, address: string) => ['link set lo up', `link add ${name} type bridge stp_state 0 forward_delay 0`, `link set ${name} addrgenmode none`, `addr add ${address} dev ${name}`, `link set ${name} up`];

  let rackliftProvisioning: string;
  let dnsmasqLines: string[];
  let serverInterface: string;
  if (topology === 'flat') {
    serverInterface = 'rkbr0';
    ipBatch(bridge('rkbr0', `${serverAddress}/16`), applianceNs);
    attachMachines(applianceNs, 'rkbr0', 0, machines);
    rackliftProvisioning = `provisioning:
  interface: rkbr0
  address: ${serverAddress}
  subnet: 10.232.0.0/16
  pool: { start: 10.232.1.0, end: 10.232.4.255 }
`;
    dnsmasqLines = ['interface=rkbr0', 'dhcp-range=10.232.1.0,10.232.4.255,255.255.0.0,1h'];
  } else {
    serverInterface = 'spine';
    ipBatch(
      [
        ...bridge('spine', `${serverAddress}/24`),
        ...Array.from({ length: racks }, (_, k) => `link add up${k} type veth peer name up0 netns ${rackNs(k)}`),
        ...Array.from({ length: racks }, (_, k) => `link set up${k} addrgenmode none master spine up`),
        ...Array.from({ length: racks }, (_, k) => `route add 10.233.${k}.0/24 via 10.232.0.${10 + k}`),
      ],
      applianceNs,
    );
    for (let k = 0; k < racks; k++) {
      ipBatch([...bridge('rbr', `10.233.${k}.1/24`), 'link set up0 addrgenmode none', `addr add 10.232.0.${10 + k}/24 dev up0`, 'link set up0 up'], rackNs(k));
      attachMachines(rackNs(k), 'rbr', k * perRack, Math.min(machines, (k + 1) * perRack));
      spawnSync('ip', ['netns', 'exec', rackNs(k), 'sysctl', '-qw', 'net.ipv4.ip_forward=1']);
      // The rack's DHCP relay (dnsmasq in relay mode only: no DNS, no DHCP server of its own).
      const relay = spawn(
        'ip',
        ['netns', 'exec', rackNs(k), 'dnsmasq', '--no-daemon', '--conf-file=/dev/null', '--port=0', '--user=root', `--dhcp-relay=10.233.${k}.1,${serverAddress}`, '--interface=rbr', '--interface=up0', `--pid-file=${join(options.work, `relay-${k}.pid`)}`, `--log-facility=${join(options.work, `relay-${k}.log`)}`],
        { stdio: 'ignore' },
      );
      relays.push(relay);
      options.children.add(relay);
    }
    const subnets = Array.from({ length: racks }, (_, k) => `    - { subnet: 10.233.${k}.0/24, gateway: 10.233.${k}.1, pool: { start: 10.233.${k}.10, end: 10.233.${k}.250 } }`);
    rackliftProvisioning = `provisioning:
  interface: spine
  address: ${serverAddress}
  subnet: 10.232.0.0/24
  pool: { start: 10.232.0.100, end: 10.232.0.200 }
  relayedSubnets:
${subnets.join('\n')}
`;
    dnsmasqLines = [
      'interface=spine',
      ...Array.from({ length: racks }, (_, k) => [`dhcp-range=set:rack${k},10.233.${k}.10,10.233.${k}.250,255.255.255.0,1h`, `dhcp-option=tag:rack${k},option:router,10.233.${k}.1`]).flat(),
    ];
  }
  for (let i = 0; i < machines; i++) ipBatch(['link set lo up', 'link set eth0 addrgenmode none up'], machineNs(i));
  return { topology, applianceNs, serverAddress, machineNs, rackliftProvisioning, dnsmasqLines, serverInterface, destroy };
}

/** Between storms: the machines forget their addresses, routes and neighbours, as after a power cycle. */
export function resetMachines(network: RackNetwork, machines: number): void {
  for (let i = 0; i < machines; i++) ipBatch(['addr flush dev eth0', 'neigh flush dev eth0'], network.machineNs(i));
}
