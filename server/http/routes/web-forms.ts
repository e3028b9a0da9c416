// Form fields of the node page as NodeSettings, and a node as the form's values.
import type { Role } from '../../domain/types.ts';
import type { NodeSettings } from '../../services/nodes.ts';
import type { StoredNode } from '../../store/nodes.ts';

export type FormBody = Record<string, unknown>;

export interface NodeFormValues {
  hostname: string;
  managementAddress: string;
  tunnelAddress: string;
  storageAddress: string;
  roles: string[];
  profile: string;
  disks: string;
  ifManagement: string;
  ifTunnel: string;
  ifExternal: string;
  ifStorage: string;
  bootloader: string;
  secureBoot: boolean;
}

export function text(body: FormBody, name: string): string {
  const value = body[name];
  return typeof value === 'string' ? value.trim() : Array.isArray(value) && typeof value[0] === 'string' ? value[0].trim() : '';
}

export function list(body: FormBody, name: string): string[] {
  const value = body[name];
  return (Array.isArray(value) ? value : value === undefined ? [] : [value]).filter((v): v is string => typeof v === 'string');
}

export function formValuesOf(node: StoredNode): NodeFormValues {
  return {
    hostname: node.hostname ?? '',
    managementAddress: node.addresses.management ?? '',
    tunnelAddress: node.addresses.tunnel ?? '',
    storageAddress: node.addresses.storage ?? '',
    roles: node.roles,
    profile: node.profile ?? '',
    disks: node.disks.join(' '),
    ifManagement: node.interfaces.management ?? '',
    ifTunnel: node.interfaces.tunnel ?? '',
    ifExternal: node.interfaces.external ?? '',
    ifStorage: node.interfaces.storage ?? '',
    bootloader: node.bootloader,
    secureBoot: node.secureBoot,
  };
}

export function formValuesFrom(body: FormBody): NodeFormValues {
  return {
    hostname: text(body, 'hostname'),
    managementAddress: text(body, 'managementAddress'),
    tunnelAddress: text(body, 'tunnelAddress'),
    storageAddress: text(body, 'storageAddress'),
    roles: list(body, 'roles'),
    profile: text(body, 'profile'),
    disks: text(body, 'disks'),
    ifManagement: text(body, 'ifManagement'),
    ifTunnel: text(body, 'ifTunnel'),
    ifExternal: text(body, 'ifExternal'),
    ifStorage: text(body, 'ifStorage'),
    bootloader: text(body, 'bootloader'),
    // An unticked checkbox sends nothing: the node form always has this one, so absent means off.
    secureBoot: text(body, 'secureBoot') !== '',
  };
}

/**
 * Only what the operator changed, so the event names the changed fields. Empty text fields leave a value
 * unchanged, except addresses: emptying one clears the reservation.
 */
export function settingsFromForm(values: NodeFormValues, node: StoredNode): NodeSettings {
  const settings: NodeSettings = {};
  const sameList = (a: string[], b: string[]) => a.length === b.length && a.every((v, i) => v === b[i]);
  if (!sameList([...values.roles].sort(), [...node.roles].sort())) settings.roles = values.roles as Role[];
  if (values.hostname && values.hostname !== node.hostname) settings.hostname = values.hostname;
  if (values.profile && values.profile !== node.profile) settings.profile = values.profile;
  const address = (value: string, current: string | undefined) => (value === (current ?? '') ? undefined : value || null);
  const management = address(values.managementAddress, node.addresses.management);
  if (management !== undefined) settings.managementAddress = management;
  const tunnel = address(values.tunnelAddress, node.addresses.tunnel);
  if (tunnel !== undefined) settings.tunnelAddress = tunnel;
  const storage = address(values.storageAddress, node.addresses.storage);
  if (storage !== undefined) settings.storageAddress = storage;
  const disks = values.disks.split(/[\s,]+/).filter(Boolean);
  if (!sameList(disks, node.disks)) settings.disks = disks;
  const interfaces: Record<string, string> = {};
  const wanted = { management: values.ifManagement, tunnel: values.ifTunnel, external: values.ifExternal, storage: values.ifStorage };
  for (const [name, value] of Object.entries(wanted)) {
    if (value && value !== node.interfaces[name as keyof typeof node.interfaces]) interfaces[name] = value;
  }
  if (Object.keys(interfaces).length > 0) settings.interfaces = interfaces;
  if ((values.bootloader === 'ipxe' || values.bootloader === 'pxelinux') && values.bootloader !== node.bootloader) settings.bootloader = values.bootloader;
  if (values.secureBoot !== node.secureBoot) settings.secureBoot = values.secureBoot;
  return settings;
}
