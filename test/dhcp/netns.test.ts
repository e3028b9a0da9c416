// Real sockets and real clients: the appliance (`racklift serve`) in one namespace, busybox udhcpc, dhclient
// and crafted datagrams (PXE ROM, iPXE, relay) in another, joined by veth. Needs root; skips otherwise.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../server/config.ts';
import { MessageType, Option } from '../../server/dhcp/options.ts';
import { createServices } from '../../server/services/index.ts';
import { databasePath, openStore } from '../../server/store/index.ts';
import { createLab, hasBinary, netnsUsable, startAppliance, writeApplianceConfig, type Lab, type NsProcess } from './helpers/lab.ts';
import { hexText } from './helpers/packets.ts';
import { Probe } from './helpers/probe-client.ts';

const usable = netnsUsable();
if (!usable) console.warn('test/dhcp/netns.test.ts: SKIPPED - needs root and network namespaces (ip netns add)');
const UDHCPC = '/usr/bin/busybox';
const DHCLIENT = '/usr/sbin/dhclient';
if (usable && !hasBinary(UDHCPC)) console.warn('test/dhcp/netns.test.ts: udhcpc SKIPPED - busybox is not installed');
if (usable && !hasBinary(DHCLIENT)) console.warn('test/dhcp/netns.test.ts: dhclient SKIPPED - isc-dhcp-client is not installed');

const KNOWN = '52:54:00:10:00:01';
const RESERVED = '10.231.10.20';
const SERVER = '10.231.10.1';
const PXE_BIOS = { vendorClass: 'PXEClient:Arch:00000:UNDI:002001', archCode: 0 };

describe.skipIf(!usable)('DHCP with real clients in network namespaces', () => {
  let lab: Lab;
  let appliance: NsProcess;
  let probe: Probe;
  let configPath: string;
  let xid = 0x5a000000;
  const nextXid = () => ++xid;

  beforeAll(async () => {
    lab = createLab('a');
    configPath = writeApplianceConfig(lab, {});
    const config = loadConfig({ file: configPath, env: {} });
    const store = openStore(databasePath(config.dataDir));
    createServices(config, store).nodes.add(KNOWN, { hostname: 'node1', managementAddress: RESERVED }, 'test');
    store.close();
    appliance = await startAppliance(lab, configPath);
    probe = await Probe.start(lab);
  });

  afterAll(async () => {
    await probe?.stop();
    await appliance?.stop();
    lab?.destroy();
  });

  it('pins broadcast replies to the provisioning interface with a host route', () => {
    expect(appliance.output()).toMatch(/added host route 255\.255\.255\.255\/32 dev rldhcp-s/);
    expect(execFileSync('ip', ['-n', lab.server, 'route', 'show', 'exact', '255.255.255.255/32'], { encoding: 'utf8' })).toMatch(/dev rldhcp-s/);
  });

  it.skipIf(!hasBinary(UDHCPC))('busybox udhcpc gets the reserved address and the node hostname', () => {
    const out = join(lab.workDir, 'udhcpc.out');
    const script = join(lab.workDir, 'udhcpc.sh');
    writeFileSync(script, `#!/bin/sh\necho "$1 ip=$ip hostname=$hostname router=$router" >> ${out}\n`);
    chmodSync(script, 0o755);
    const result = spawnSync('ip', ['netns', 'exec', lab.client, UDHCPC, 'udhcpc', '-i', lab.clientIf, '-f', '-q', '-n', '-t', '5', '-T', '2', '-s', script], { encoding: 'utf8', timeout: 30_000 });
    expect(result.status, result.stderr).toBe(0);
    expect(readFileSync(out, 'utf8')).toMatch(new RegExp(`bound ip=${RESERVED.replace(/\./g, '\\.')} hostname=node1`));
  });

  it.skipIf(!hasBinary(DHCLIENT))('dhclient gets the reserved address (own script, lease and pid files)', () => {
    const out = join(lab.workDir, 'dhclient.out');
    const script = join(lab.workDir, 'dhclient.sh');
    const conf = join(lab.workDir, 'dhclient.conf');
    const pidFile = join(lab.workDir, 'dhclient.pid');
    writeFileSync(script, `#!/bin/sh\necho "$reason ip=$new_ip_address hostname=$new_host_name" >> ${out}\n`);
    chmodSync(script, 0o755);
    writeFileSync(conf, 'request subnet-mask, routers, domain-name, domain-name-servers, host-name;\n');
    const args = ['-4', '-1', '-v', '-sf', script, '-lf', join(lab.workDir, 'dhclient.leases'), '-pf', pidFile, '-cf', conf, lab.clientIf];
    try {
      const result = spawnSync('ip', ['netns', 'exec', lab.client, DHCLIENT, ...args], { encoding: 'utf8', timeout: 40_000 });
      expect(result.status, result.stderr).toBe(0);
      expect(readFileSync(out, 'utf8')).toMatch(new RegExp(`BOUND ip=${RESERVED.replace(/\./g, '\\.')} hostname=node1`));
    } finally {
      // dhclient stays behind as a daemon once bound: end that one process, by its pid file.
      if (existsSync(pidFile)) {
        const pid = Number(readFileSync(pidFile, 'utf8').trim());
        if (pid > 0) {
          try {
            process.kill(pid, 'SIGTERM');
          } catch {
            // already gone
          }
        }
      }
    }
  });

  it('hands a client sending option 93 = 7 ipxe.efi over TFTP', async () => {
    const id = nextXid();
    probe.send({ type: MessageType.DISCOVER, mac: KNOWN, xid: id, vendorClass: 'PXEClient:Arch:00007:UNDI:003016', archCode: 7 });
    const { reply } = await probe.reply(id);
    expect(reply).toMatchObject({ type: MessageType.OFFER, yiaddr: RESERVED, siaddr: SERVER, file: 'ipxe.efi' });
    expect(hexText(reply.options[Option.BOOTFILE])).toBe('ipxe.efi');
  });

  it('hands a client with user class iPXE the HTTP URL of its boot script, and 175.176', async () => {
    const id = nextXid();
    probe.send({ type: MessageType.DISCOVER, mac: KNOWN, xid: id, ...PXE_BIOS, userClass: 'iPXE' });
    const { reply } = await probe.reply(id);
    expect(reply.file).toBe(`http://${SERVER}:8080/boot.ipxe?mac=${KNOWN}`);
    expect(reply.options[Option.IPXE_ENCAPSULATED]).toBe('b00101');
  });

  it('answers a relayed request at the relay (port 67) from the relayed subnet', async () => {
    const id = nextXid();
    probe.send({ type: MessageType.DISCOVER, mac: '52:54:00:11:00:01', xid: id, ...PXE_BIOS, giaddr: '10.231.11.1', relayCircuitId: 'rack2' }, { from: 67, to: SERVER });
    const seen = await probe.reply(id);
    expect(seen.port).toBe(67);
    expect(seen.from).toBe(SERVER);
    expect(seen.reply.giaddr).toBe('10.231.11.1');
    expect(seen.reply.yiaddr).toMatch(/^10\.231\.11\.1\d\d$/);
    expect(seen.reply.options[Option.RELAY_AGENT_INFO]).toBe('0105' + Buffer.from('rack2').toString('hex'));
  });

  it('answers a burst of 90 relayed DISCOVERs sent at once (a rack powering on), each with its own address', async () => {
    const first = 0x5b000000;
    for (let i = 0; i < 90; i++) {
      const mac = `52:54:00:14:00:${i.toString(16).padStart(2, '0')}`;
      probe.send({ type: MessageType.DISCOVER, mac, xid: first + i, ...PXE_BIOS, giaddr: '10.231.11.1' }, { from: 67, to: SERVER });
    }
    const offers = await Promise.all(Array.from({ length: 90 }, (_, i) => probe.reply(first + i, 30_000)));
    expect(new Set(offers.map((seen) => seen.reply.yiaddr)).size).toBe(90);
  });

  it('refuses the 4th client of a pool of 3 and stays responsive; records each new PXE MAC once', async () => {
    const macs = ['52:54:00:12:00:01', '52:54:00:12:00:02', '52:54:00:12:00:03', '52:54:00:12:00:04'];
    const acked: string[] = [];
    for (const mac of macs.slice(0, 3)) {
      const d = nextXid();
      probe.send({ type: MessageType.DISCOVER, mac, xid: d, ...PXE_BIOS });
      const offer = (await probe.reply(d, 10_000, MessageType.OFFER)).reply;
      const r = nextXid();
      probe.send({ type: MessageType.REQUEST, mac, xid: r, ...PXE_BIOS, requestedAddress: offer.yiaddr, serverId: SERVER });
      acked.push((await probe.reply(r, 10_000, MessageType.ACK)).reply.yiaddr);
    }
    expect(acked.sort()).toEqual(['10.231.10.100', '10.231.10.101', '10.231.10.102']);
    const refused = nextXid();
    probe.send({ type: MessageType.DISCOVER, mac: macs[3]!, xid: refused, ...PXE_BIOS });
    // Datagrams are handled in order: once the next one is answered, the refused one had its turn.
    const control = nextXid();
    probe.send({ type: MessageType.DISCOVER, mac: KNOWN, xid: control, ...PXE_BIOS });
    expect((await probe.reply(control)).reply.yiaddr).toBe(RESERVED);
    expect(probe.seen().filter((seen) => seen.reply.xid === refused)).toEqual([]);
    await appliance.waitFor(/DHCP refused: no free address in the pool/, 5000);

    const db = new Database(databasePath(join(lab.workDir, 'data')), { readonly: true });
    try {
      const waitUntil = Date.now() + 10_000;
      let rows: { mac: string; n: number }[] = [];
      while (Date.now() < waitUntil) {
        rows = db.prepare(`SELECT mac, COUNT(*) AS n FROM events WHERE kind = 'transition' AND mac IN (?, ?, ?) GROUP BY mac`).all(...macs.slice(0, 3)) as typeof rows;
        if (rows.length === 3) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(rows.map((row) => row.n)).toEqual([1, 1, 1]);
      const leases = db.prepare(`SELECT address, state FROM leases WHERE state = 'bound' ORDER BY address`).all();
      expect(leases).toEqual(expect.arrayContaining([{ address: '10.231.10.100', state: 'bound' }]));
    } finally {
      db.close();
    }
  });

  it('never ACKs a REQUEST that names another server', async () => {
    const d = nextXid();
    probe.send({ type: MessageType.DISCOVER, mac: KNOWN, xid: d, ...PXE_BIOS });
    const offer = (await probe.reply(d)).reply;
    const foreign = nextXid();
    probe.send({ type: MessageType.REQUEST, mac: KNOWN, xid: foreign, ...PXE_BIOS, requestedAddress: offer.yiaddr, serverId: '10.231.10.2' });
    const control = nextXid();
    probe.send({ type: MessageType.DISCOVER, mac: KNOWN, xid: control, ...PXE_BIOS });
    await probe.reply(control);
    expect(probe.seen().filter((seen) => seen.reply.xid === foreign)).toEqual([]);
  });

  it('shuts down cleanly with its counters logged and no handler error', async () => {
    await appliance.stop();
    const stopped = appliance.output().split('\n').find((line) => line.includes('"DHCP stopped"'));
    expect(stopped).toBeDefined();
    const counters = JSON.parse(stopped!).counters;
    expect(counters).toMatchObject({ handlerErrors: 0, otherServer: 1 });
    expect(counters.poolFull).toBeGreaterThanOrEqual(1);
  });
});

describe.skipIf(!usable)('proxyDHCP in network namespaces', () => {
  let lab: Lab;
  let appliance: NsProcess;
  let probe: Probe;

  beforeAll(async () => {
    lab = createLab('p');
    appliance = await startAppliance(lab, writeApplianceConfig(lab, { dhcp: { mode: 'proxy' } }));
    probe = await Probe.start(lab);
  });

  afterAll(async () => {
    await probe?.stop();
    await appliance?.stop();
    lab?.destroy();
  });

  it('offers the boot file without an address on port 67 and answers the port-4011 request', async () => {
    const mac = '52:54:00:13:00:01';
    probe.send({ type: MessageType.DISCOVER, mac, xid: 0x77000001, vendorClass: 'PXEClient:Arch:00007:UNDI:003016', archCode: 7 });
    const offer = (await probe.reply(0x77000001)).reply;
    expect(offer).toMatchObject({ type: MessageType.OFFER, yiaddr: '0.0.0.0', file: 'ipxe.efi' });
    expect(hexText(offer.options[Option.VENDOR_CLASS])).toBe('PXEClient');
    probe.send({ type: MessageType.REQUEST, mac, xid: 0x77000002, ciaddr: '10.231.10.9', ...PXE_BIOS, userClass: 'iPXE' }, { to: SERVER, port: 4011 });
    const ack = await probe.reply(0x77000002);
    expect(ack.port).toBe(68);
    expect(ack.reply).toMatchObject({ type: MessageType.ACK, file: `http://${SERVER}:8080/boot.ipxe?mac=${mac}` });
  });
});

describe.skipIf(!usable)('without the broadcast host route', () => {
  let lab: Lab;
  let appliance: NsProcess;
  let probe: Probe;

  beforeAll(async () => {
    lab = createLab('r');
    // The client side also holds the reserved address, so a unicast reply to it is heard.
    execFileSync('ip', ['-n', lab.client, 'addr', 'add', `${RESERVED}/24`, 'dev', lab.clientIf]);
    const configPath = writeApplianceConfig(lab, { dhcp: { manageBroadcastRoute: false } });
    const config = loadConfig({ file: configPath, env: {} });
    const store = openStore(databasePath(config.dataDir));
    createServices(config, store).nodes.add(KNOWN, { hostname: 'node1', managementAddress: RESERVED }, 'test');
    store.close();
    appliance = await startAppliance(lab, configPath);
    probe = await Probe.start(lab);
  });

  afterAll(async () => {
    await probe?.stop();
    await appliance?.stop();
    lab?.destroy();
  });

  it('cannot broadcast from a namespace interface (ENETUNREACH): counted and logged, still answers unicast', async () => {
    probe.send({ type: MessageType.DISCOVER, mac: KNOWN, xid: 0x66000001, ...PXE_BIOS });
    await appliance.waitFor(/DHCP reply could not be sent: send ENETUNREACH 255\.255\.255\.255/, 10_000);
    // A renewal is unicast to ciaddr, which the subnet route reaches.
    probe.send({ type: MessageType.REQUEST, mac: KNOWN, xid: 0x66000002, ciaddr: RESERVED }, { to: SERVER });
    const ack = await probe.reply(0x66000002);
    expect(ack.reply).toMatchObject({ type: MessageType.ACK, yiaddr: RESERVED });
    await appliance.stop();
    const stopped = appliance.output().split('\n').find((line) => line.includes('"DHCP stopped"'));
    expect(JSON.parse(stopped!).counters.sendErrors).toBeGreaterThanOrEqual(1);
  });
});
