// `racklift node ...`: the same NodeService operations the REST API and the web form use.
import type { Command } from 'commander';
import type { StoredNode } from '../store/nodes.ts';
import type { EventRecord } from '../store/events.ts';
import type { NodeSettings } from '../services/nodes.ts';
import type { NodeState, Role } from '../domain/types.ts';
import { describeContact } from '../domain/liveness.ts';
import { withLocalAppliance } from './local.ts';
import { printJson, printTable } from './output.ts';
import { RemoteError, RemoteNodes, remoteTarget, type RemoteOptions } from './remote.ts';
import { reimageWithPowerCommand } from './power.ts';

/** What the API and CLI show of a node: never the BMC password or the install token hash. */
export function publicNode(node: StoredNode): Record<string, unknown> {
  const { installTokenHash: _hash, bmc, ...rest } = node;
  return { ...rest, bmc: bmc ? { ...bmc, password: bmc.password ? '(set)' : undefined } : null };
}

interface SettingsOptions {
  hostname?: string;
  roles?: string;
  profile?: string;
  address?: string;
  tunnelAddress?: string;
  storageAddress?: string;
  disks?: string;
  bootloader?: 'ipxe' | 'pxelinux';
  secureBoot?: boolean;
  ifManagement?: string;
  ifTunnel?: string;
  ifExternal?: string;
}

function settingsFrom(options: SettingsOptions): NodeSettings {
  const settings: NodeSettings = {};
  if (options.hostname !== undefined) settings.hostname = options.hostname;
  if (options.roles !== undefined) settings.roles = options.roles.split(',').map((r) => r.trim()).filter(Boolean) as Role[];
  if (options.profile !== undefined) settings.profile = options.profile;
  if (options.address !== undefined) settings.managementAddress = options.address;
  if (options.tunnelAddress !== undefined) settings.tunnelAddress = options.tunnelAddress;
  if (options.storageAddress !== undefined) settings.storageAddress = options.storageAddress;
  if (options.disks !== undefined) settings.disks = options.disks.split(',').map((d) => d.trim()).filter(Boolean);
  if (options.bootloader !== undefined) settings.bootloader = options.bootloader;
  if (options.secureBoot !== undefined) settings.secureBoot = options.secureBoot;
  const interfaces: Record<string, string> = {};
  if (options.ifManagement) interfaces.management = options.ifManagement;
  if (options.ifTunnel) interfaces.tunnel = options.ifTunnel;
  if (options.ifExternal) interfaces.external = options.ifExternal;
  if (Object.keys(interfaces).length > 0) settings.interfaces = interfaces;
  return settings;
}

function withSettingsOptions(command: Command): Command {
  return command
    .option('--hostname <name>', 'host name (RFC 1123)')
    .option('--roles <list>', 'comma-separated roles: controller,compute,network,storage')
    .option('--profile <name>', 'OS profile (racklift os list)')
    .option('--address <ip>', 'management address, also the DHCP reservation')
    .option('--tunnel-address <ip>', 'tunnel (VXLAN) address')
    .option('--storage-address <ip>', 'storage network address')
    .option('--disks <list>', 'comma-separated data disks for storage roles, e.g. sdb,sdc')
    .option('--bootloader <kind>', 'ipxe (default) or pxelinux (legacy BIOS path)')
    .option('--secure-boot', 'UEFI boots Debian\'s signed shim and GRUB (Secure Boot) instead of iPXE')
    .option('--no-secure-boot', 'UEFI boots iPXE (the default)')
    .option('--if-management <name>', 'management interface name')
    .option('--if-tunnel <name>', 'tunnel interface name')
    .option('--if-external <name>', 'external (provider) interface name');
}

export function printNode(node: StoredNode, json: boolean): void {
  if (json) return printJson(publicNode(node));
  printTable(['id', 'mac', 'hostname', 'state', 'roles', 'profile', 'address', 'generation', 'contact'], [
    [node.id, node.mac, node.hostname, node.state, node.roles.join(','), node.profile, node.addresses.management, node.generation, describeContact(node, Date.now())],
  ]);
  if (node.failedReason) process.stdout.write(`failed (${node.failedPhase}): ${node.failedReason}\n`);
}

export function registerNodeCommands(program: Command, configOption: () => string | undefined): void {
  const node = program.command('node').description('add, list, assign and re-image nodes');
  /** With --url (or RACKLIFT_URL) the commands go to a running appliance's REST API instead of the local store. */
  const remote = () => {
    const target = remoteTarget(program.opts<RemoteOptions>());
    return target ? new RemoteNodes(target) : null;
  };
  const printList = (nodes: StoredNode[], json: boolean) => {
    if (json) return printJson(nodes.map(publicNode));
    const now = Date.now();
    printTable(
      ['id', 'mac', 'hostname', 'state', 'roles', 'profile', 'address', 'contact'],
      nodes.map((n) => [n.id, n.mac, n.hostname, n.state, n.roles.join(','), n.profile, n.addresses.management, describeContact(n, now)]),
    );
  };
  const printShow = (found: StoredNode, events: EventRecord[], json: boolean) => {
    if (json) return printJson({ ...publicNode(found), events });
    printNode(found, false);
    printTable(['time', 'kind', 'from', 'to', 'message', 'by'], events.map((e) => [e.at, e.kind, e.fromState, e.toState, e.message, e.actor]));
  };
  const printForgotten = (gone: StoredNode) => {
    process.stdout.write(`forgot node ${gone.id} (${gone.mac})\n`);
  };

  withSettingsOptions(node.command('add <mac>').description('register a machine by MAC; with --profile it is assigned at once'))
    .option('--json', 'print JSON')
    .action(async (mac: string, options: SettingsOptions & { json?: boolean }) =>
      remote()
        ? printNode(await remote()!.add(mac, settingsFrom(options)), !!options.json)
        : withLocalAppliance(configOption(), ({ services }) => printNode(services.nodes.add(mac, settingsFrom(options), 'cli'), !!options.json)),
    );

  node
    .command('list')
    .description('list nodes')
    .option('--state <state>', 'only nodes in this state')
    .option('--role <role>', 'only nodes with this role')
    .option('--json', 'print JSON')
    .action(async (options: { state?: NodeState; role?: Role; json?: boolean }) =>
      remote()
        ? printList(await remote()!.list({ state: options.state, role: options.role }), !!options.json)
        : withLocalAppliance(configOption(), ({ services }) => printList(services.nodes.list({ state: options.state, role: options.role }), !!options.json)),
    );

  node
    .command('show <node>')
    .description('show one node (id, MAC or hostname) and its recent events')
    .option('--json', 'print JSON')
    .action(async (ref: string, options: { json?: boolean }) => {
      const api = remote();
      if (api) {
        const { node: found, events } = await api.show(ref, 20);
        return printShow(found, events, !!options.json);
      }
      withLocalAppliance(configOption(), ({ services, store }) => {
        const found = services.nodes.find(ref);
        printShow(found, store.events.listForNode(found.id, 20), !!options.json);
      });
    });

  withSettingsOptions(node.command('update <node>').description('change settings without a state change'))
    .option('--json', 'print JSON')
    .action(async (ref: string, options: SettingsOptions & { json?: boolean }) =>
      remote()
        ? printNode(await remote()!.update(ref, settingsFrom(options)), !!options.json)
        : withLocalAppliance(configOption(), ({ services }) => printNode(services.nodes.update(ref, settingsFrom(options), 'cli'), !!options.json)),
    );

  withSettingsOptions(node.command('assign <node>').description('give a discovered node its role, profile and address (-> assigned)'))
    .option('--json', 'print JSON')
    .action(async (ref: string, options: SettingsOptions & { json?: boolean }) =>
      remote()
        ? printNode(await remote()!.assign(ref, settingsFrom(options)), !!options.json)
        : withLocalAppliance(configOption(), ({ services }) => printNode(services.nodes.assign(ref, settingsFrom(options), 'cli'), !!options.json)),
    );

  node
    .command('reimage <node>')
    .description('re-install from scratch: new install generation and token (-> assigned)')
    .option('--power', 'then, through its BMC, set the next boot to the network (once) and power-cycle it')
    .option('--json', 'print JSON')
    .action(async (ref: string, options: { json?: boolean; power?: boolean }) => {
      const api = remote();
      if (api && options.power) throw new RemoteError('reimage --power is not available through --url yet; run it on the appliance');
      if (api) return printNode(await api.reimage(ref), !!options.json);
      return options.power
        ? reimageWithPowerCommand(configOption(), ref, !!options.json)
        : withLocalAppliance(configOption(), ({ services }) => printNode(services.nodes.reimage(ref, 'cli'), !!options.json));
    });

  node
    .command('retry <node>')
    .description('retry a failed bootstrap from the failed stage')
    .option('--json', 'print JSON')
    .action(async (ref: string, options: { json?: boolean }) =>
      remote()
        ? printNode(await remote()!.retry(ref), !!options.json)
        : withLocalAppliance(configOption(), ({ services }) => printNode(services.nodes.retry(ref, 'cli'), !!options.json)),
    );

  node
    .command('forget <node>')
    .description('remove the node (its events are kept)')
    .action(async (ref: string) => {
      const api = remote();
      if (api) return printForgotten(await api.forget(ref));
      withLocalAppliance(configOption(), ({ services }) => printForgotten(services.nodes.forget(ref, 'cli')));
    });
}
