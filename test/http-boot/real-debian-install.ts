// A real Debian 12 install driven by the appliance, for a person to run (not part of `npm test`: it downloads
// the base system from the profile's mirror and takes 20-60 minutes under TCG):
//   npx tsx test/http-boot/real-debian-install.ts
// qemu with user-mode networking (no root, no bridge): the guest's iPXE ROM fetches /boot.ipxe from the
// appliance on 127.0.0.1 (10.0.2.2 inside), boots the installer with a static address from the reservation,
// fetches its Preseed, installs, reports done with its SSH host key, reboots into local boot, and the appliance
// key logs in as root while the host key is checked against the one reported.
import { spawn, spawnSync } from 'node:child_process';
import { createReadStream, createWriteStream, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { startHttp } from '../../server/http/server.ts';
import { importProfile } from '../../server/render/os-import.ts';
import { makeFixture } from '../render/fixture.ts';

const MAC = '52:54:00:04:99:01';
const LIMIT_MS = Number(process.env.RACKLIFT_REAL_INSTALL_MINUTES ?? 90) * 60_000;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

const log = (message: string) => process.stdout.write(`[${new Date().toISOString().slice(11, 19)}] ${message}\n`);

const port = await freePort();
const sshPort = await freePort();
const fixture = makeFixture(
  {
    'http.port': port,
    'http.publicUrl': `http://10.0.2.2:${port}`,
    'provisioning.address': '10.0.2.2',
    'provisioning.subnet': '10.0.2.0/24',
    'provisioning.gateway': '10.0.2.2',
    'provisioning.dns': ['10.0.2.3'],
    'provisioning.ntp': [],
    'provisioning.pool': { start: '10.0.2.100', end: '10.0.2.150' },
    'provisioning.domain': 'lab.example',
  },
  { bootFiles: false },
);
const ctx = fixture.ctx;
// A real key pair for the login check (the fixture's stand-in key is not a valid key).
rmSync(join(ctx.config.dataDir, 'ssh'), { recursive: true, force: true });
log(`appliance key: ${ctx.services.sshIdentity().publicKey}`);
importProfile(ctx.store.profiles.get('debian-12')!, ctx.config.bootDir, null);
const http = await startHttp(ctx);
ctx.store.events.subscribe((event) => log(`event ${event.kind}${event.toState ? ` -> ${event.toState}` : ''}: ${event.message}`));
ctx.services.nodes.add(MAC, { hostname: 'rl-real-1', profile: 'debian-12', roles: ['compute'], managementAddress: '10.0.2.20' }, 'real-install');
// User-mode networking NATs the guest: its callbacks reach the appliance from 127.0.0.1, so that is the
// address the appliance must accept them from (on a real network it is the node's lease or reservation).
ctx.store.leases.upsert({ address: '127.0.0.1', mac: MAC, subnet: 'slirp', state: 'bound', expiresAt: Date.now() + LIMIT_MS + 3_600_000, clientHostname: null, updatedAt: Date.now() });
log(`appliance on 127.0.0.1:${http.port}; work dir ${fixture.dir}`);

// A sparse raw disk (qemu-img is in qemu-utils, which this machine need not have).
const disk = join(fixture.dir, 'disk.raw');
spawnSync('truncate', ['-s', '8G', disk], { stdio: 'inherit' });
const consoleLog = join(fixture.dir, 'console.log');
// The serial console on a socket: everything is appended to console.log, and keys written to the FIFO
// <dir>/keys reach the installer (to look at its log window when it stops: printf '\0014' > keys).
const serialSocket = join(fixture.dir, 'serial.sock');
const keys = join(fixture.dir, 'keys');
spawnSync('mkfifo', [keys]);
const qemu = spawn('qemu-system-x86_64', [
  '-accel', 'tcg', '-m', '1024', '-smp', '1', '-display', 'none', '-serial', `unix:${serialSocket},server=on,wait=off`, '-monitor', 'none',
  '-boot', 'order=nc',
  '-drive', `file=${disk},if=virtio,format=raw`,
  '-netdev', `user,id=n0,bootfile=http://10.0.2.2:${http.port}/boot.ipxe?mac=${MAC},hostfwd=tcp:127.0.0.1:${sshPort}-:22`,
  '-device', `virtio-net-pci,netdev=n0,mac=${MAC}`,
  // The guest's traffic, for when the installer stops at a download: RACKLIFT_REAL_INSTALL_PCAP=1.
  ...(process.env.RACKLIFT_REAL_INSTALL_PCAP ? ['-object', `filter-dump,id=dump0,netdev=n0,file=${join(fixture.dir, 'guest.pcap')}`] : []),
], { stdio: ['ignore', 'ignore', 'inherit'] });
log(`qemu pid ${qemu.pid}, console in ${consoleLog}, keys to ${keys}`);
const consoleFile = createWriteStream(consoleLog);
const attach = (): void => {
  const serial = connect(serialSocket);
  serial.on('error', () => setTimeout(attach, 200));
  serial.on('connect', () => {
    serial.pipe(consoleFile);
    const feed = (): void => {
      createReadStream(keys).on('data', (chunk) => serial.write(chunk)).on('end', feed);
    };
    feed();
  });
};
setTimeout(attach, 300);

const started = Date.now();
let outcome = 'timed out';
const stop = async (code: number) => {
  qemu.kill('SIGTERM');
  await http.close();
  log(`${outcome} after ${Math.round((Date.now() - started) / 1000)} s`);
  // Release the FIFO reader blocked in open() (the thread pool would hold up process exit).
  try {
    writeFileSync(keys, '');
  } catch {
    /* no reader */
  }
  if (!process.argv.includes('--keep')) fixture.cleanup();
  process.exit(code);
};
process.on('SIGINT', () => void stop(130));

while (Date.now() - started < LIMIT_MS) {
  await new Promise((resolve) => setTimeout(resolve, 15_000));
  const node = ctx.services.nodes.findByMac(MAC)!;
  if (node.state === 'failed') {
    outcome = `install failed: ${node.failedReason}`;
    await stop(1);
  }
  const text = existsSync(consoleLog) ? readFileSync(consoleLog, 'latin1') : '';
  if (node.state === 'installed' && /login:/.test(text.slice(text.lastIndexOf('Debian GNU/Linux')))) {
    const knownHosts = join(fixture.dir, 'known_hosts');
    writeFileSync(knownHosts, `[127.0.0.1]:${sshPort} ${node.sshHostKey}\n`);
    const ssh = spawnSync('ssh', ['-i', ctx.services.sshIdentity().privateKeyPath, '-p', String(sshPort), '-o', `UserKnownHostsFile=${knownHosts}`, '-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=20', 'root@127.0.0.1', 'hostname; cat /etc/debian_version'], { encoding: 'utf8', timeout: 60_000 });
    log(`ssh exit ${ssh.status}: ${ssh.stdout.trim()} ${ssh.stderr.trim()}`);
    outcome = ssh.status === 0 ? 'installed, rebooted into its disk, SSH with the pinned host key works' : 'installed, but SSH did not work';
    await stop(ssh.status === 0 ? 0 : 1);
  }
  if (qemu.exitCode !== null) {
    outcome = `qemu exited ${qemu.exitCode}`;
    await stop(1);
  }
}
await stop(1);
