// The shapes the whole appliance agrees on. Pure data, no behaviour.

export const NODE_STATES = [
  'discovered',
  'assigned',
  'installing',
  'installed',
  'bootstrapping',
  'ready',
  'failed',
] as const;
export type NodeState = (typeof NODE_STATES)[number];

export const ROLES = ['controller', 'compute', 'network', 'storage'] as const;
export type Role = (typeof ROLES)[number];

export type FailedPhase = 'install' | 'bootstrap';

/** Which first-stage loader family a node is booted through. `pxelinux` is the seed book's legacy path. */
export type BootLoaderChoice = 'ipxe' | 'pxelinux';

export interface NodeAddresses {
  /** Management address, also the node's DHCP reservation. */
  management?: string;
  /** VXLAN/GRE tunnel endpoint (Neutron `local_ip`). */
  tunnel?: string;
  /** Storage network address (Swift replication, iSCSI). */
  storage?: string;
}

export interface NodeInterfaces {
  management?: string;
  tunnel?: string;
  external?: string;
  storage?: string;
}

export interface BmcSettings {
  driver: 'ipmi' | 'redfish';
  address: string;
  username: string;
  /** Only in the store; never returned by the API. */
  password?: string;
  port?: number;
  /** Redfish: trust this SHA-256 certificate fingerprint instead of the CA chain. */
  certFingerprint?: string;
  systemPath?: string;
}

export interface NodeFacts {
  archCode?: number;
  firmware?: Firmware;
  vendorClass?: string;
  userClass?: string;
  guid?: string;
  lastBootAt?: string;
  lastBootVia?: string;
}

export interface NodeRecord {
  id: number;
  mac: string;
  hostname: string | null;
  roles: Role[];
  profile: string | null;
  state: NodeState;
  generation: number;
  installTokenHash: string | null;
  failedPhase: FailedPhase | null;
  failedReason: string | null;
  addresses: NodeAddresses;
  interfaces: NodeInterfaces;
  disks: string[];
  bmc: BmcSettings | null;
  facts: NodeFacts;
  bootloader: BootLoaderChoice;
  sshHostKey: string | null;
  /** UEFI boots through Debian's signed shim and GRUB instead of iPXE. */
  secureBoot: boolean;
  /** Last time anything was heard from the machine (ISO time), and through what. */
  lastContactAt: string | null;
  lastContactVia: string | null;
  createdAt: string;
  updatedAt: string;
  stateChangedAt: string;
}

export type Firmware =
  | 'bios'
  | 'uefi-ia32'
  | 'uefi-x64'
  | 'uefi-arm64'
  | 'uefi-http-x64'
  | 'uefi-http-arm64'
  | 'unknown';

/** What a booting client told us about itself, from DHCP options or the HTTP query. */
export interface ClientFacts {
  mac: string;
  /** DHCP option 93, the RFC 4578 client system architecture. */
  archCode?: number;
  /** DHCP option 60, e.g. `PXEClient:Arch:00007:UNDI:003016` or `HTTPClient:Arch:00016`. */
  vendorClass?: string;
  /** DHCP option 77, `iPXE` once iPXE runs. */
  userClass?: string;
  /** Relay agent address (giaddr) when the request was relayed. */
  relayAddress?: string;
}

export type InstallerKind = 'preseed' | 'kickstart' | 'autoinstall';

export interface OsProfile {
  name: string;
  family: 'debian' | 'ubuntu' | 'rhel';
  release: string;
  installer: InstallerKind;
  /** Kernel and initrd, relative to boot/ (served at /boot/<path>) or absolute http URLs. */
  kernel: string;
  initrd: string;
  /** Install tree or package mirror the installer uses. */
  mirrorUrl: string;
  /** Template path under templates/, e.g. `preseed/debian-12.cfg.hbs`. */
  template: string;
  /** Extra kernel arguments for this profile. */
  kernelArgs: string;
  legacy: boolean;
  description: string;
}
