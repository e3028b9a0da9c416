// Who listens on a port, from /proc/net/{udp,udp6,tcp,tcp6} and the socket inodes under /proc/<pid>/fd: the
// doctor's "free or ours". Linux only; reads this network namespace's view.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

export interface Listener {
  protocol: 'udp' | 'tcp';
  port: number;
  address: string;
  inode: number;
  pid: number | null;
  command: string | null;
}

const TCP_LISTEN = '0A';

function hexAddress(hex: string): string {
  if (hex.length === 8) return [3, 2, 1, 0].map((i) => parseInt(hex.slice(i * 2, i * 2 + 2), 16)).join('.');
  return hex === '0'.repeat(32) ? '::' : `[ipv6 ${hex}]`;
}

function socketsOf(protocol: 'udp' | 'tcp'): Omit<Listener, 'pid' | 'command'>[] {
  const found: Omit<Listener, 'pid' | 'command'>[] = [];
  for (const file of [`/proc/net/${protocol}`, `/proc/net/${protocol}6`]) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length < 10) continue;
      const [addressHex, portHex] = fields[1]!.split(':');
      if (protocol === 'tcp' && fields[3] !== TCP_LISTEN) continue;
      found.push({ protocol, port: parseInt(portHex!, 16), address: hexAddress(addressHex!), inode: Number(fields[9]) });
    }
  }
  return found;
}

/** Socket inode -> [pid, command line], for the processes this user may look into. */
function socketOwners(): Map<number, [number, string]> {
  const owners = new Map<number, [number, string]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${entry}/fd`);
    } catch {
      continue;
    }
    let command: string | null = null;
    for (const fd of fds) {
      let target: string;
      try {
        target = readlinkSync(`/proc/${entry}/fd/${fd}`);
      } catch {
        continue;
      }
      const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
      if (!inode) continue;
      command ??= (() => {
        try {
          return readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
        } catch {
          return '?';
        }
      })();
      owners.set(Number(inode), [Number(entry), command]);
    }
  }
  return owners;
}

/** The sockets listening on `port` (TCP) or bound to it (UDP), with their processes where visible. */
export function listenersOn(protocol: 'udp' | 'tcp', port: number): Listener[] {
  const sockets = socketsOf(protocol).filter((socket) => socket.port === port);
  if (sockets.length === 0) return [];
  const owners = socketOwners();
  return sockets.map((socket) => {
    const owner = owners.get(socket.inode);
    return { ...socket, pid: owner?.[0] ?? null, command: owner?.[1] ?? null };
  });
}
