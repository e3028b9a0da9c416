// DHCP attacked from a private namespace, with real clients: the appliance (`racklift serve`) in one namespace,
// crafted floods (test/dhcp/helpers/probe.ts), busybox udhcpc and curl in the other. The primary pool holds three
// addresses, so a handful of forged datagrams is enough to show whether the pool can be drained. Needs root.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../server/config.ts';
import { MessageType } from '../../server/dhcp/options.ts';
import { createServices } from '../../server/services/index.ts';
import { databasePath, openStore } from '../../server/store/index.ts';
import { createLab, hasBinary, netnsUsable, startAppliance, writeApplianceConfig, type Lab, type NsProcess } from '../dhcp/helpers/lab.ts';
import { Probe } from '../dhcp/helpers/probe-client.ts';

const usable = netnsUsable() && hasBinary('/usr/bin/busybox') && hasBinary('/usr/bin/curl');
if (!usable) console.warn('test/security/dhcp-netns.test.ts: SKIPPED - needs root, network namespaces, busybox and curl');

const SERVER = '10.231.10.1';
const KNOWN = '52:54:00:10:00:01';
const RESERVED = '10.231.10.20';
const PXE_BIOS = { vendorClass: 'PXEClient:Arch:00000:UNDI:002001', archCode: 0 };
const POOL = ['10.231.10.100', '10.231.10.101', '10.231.10.102'];
const madeUp = (i: number) => `52:54:00:66:${((i >> 8) & 0xff).toString(16).padStart(2, '0')}:${(i & 0xff).toString(16).padStart(2, '0')}`;

describe.skipIf(!usable)('DHCP under attack, in network namespaces', () => {
  let lab: Lab;
  let appliance: NsProcess;
  let probe: Probe;
  let relayedToken = '';
  let xid = 0x6a000000;
  let lastUdhcpc = '';
  const nextXid = () => ++xid;

  beforeAll(async () => {
    lab = createLab('x');
    const configPath = writeApplianceConfig(lab, { dhcp: { answer: 'all' } });
    const config = loadConfig({ file: configPath, env: {} });
    const store = openStore(databasePath(config.dataDir));
    const services = createServices(config, store);
    services.nodes.add(KNOWN, { hostname: 'known1', managementAddress: RESERVED }, 'test');
    const relayed = services.nodes.add('52:54:00:11:00:77', { hostname: 'relayed1', profile: 'debian-12' }, 'test');
    relayedToken = services.nodes.installTokenOf(relayed)!;
    store.close();
    appliance = await startAppliance(lab, configPath);
    probe = await Probe.start(lab);
  }, 120_000);

  afterAll(async () => {
    await probe?.stop();
    await appliance?.stop();
    lab?.destroy();
  });

  /** The appliance handles datagrams in order: once a reservation's DISCOVER is answered, everything before it was handled. */
  const settle = async () => {
    const control = nextXid();
    probe.send({ type: MessageType.DISCOVER, mac: KNOWN, xid: control, ...PXE_BIOS });
    expect((await probe.reply(control, 30_000)).reply.yiaddr).toBe(RESERVED);
  };

  /** busybox udhcpc with the client interface set to `mac`: the address it was bound, or null. */
  const udhcpc = (mac: string, label: string): string | null => {
    execFileSync('ip', ['-n', lab.client, 'link', 'set', lab.clientIf, 'address', mac]);
    const out = join(lab.workDir, `${label}.out`);
    const script = join(lab.workDir, `${label}.sh`);
    writeFileSync(script, `#!/bin/sh\n[ "$1" = bound ] && echo "$ip" >> ${out}\nexit 0\n`);
    chmodSync(script, 0o755);
    writeFileSync(out, '');
    const run = spawnSync('ip', ['netns', 'exec', lab.client, '/usr/bin/busybox', 'udhcpc', '-i', lab.clientIf, '-f', '-q', '-n', '-t', '6', '-T', '2', '-s', script], { encoding: 'utf8', timeout: 40_000 });
    lastUdhcpc = `${run.stdout}${run.stderr}`;
    return readFileSync(out, 'utf8').trim().split('\n').filter(Boolean)[0] ?? null;
  };

  it('binds nothing for 100 INIT-REBOOT REQUESTs from made-up MACs (silence), and a real client still gets an address', async () => {
    const first = nextXid();
    for (let i = 0; i < 100; i++) {
      probe.send({ type: MessageType.REQUEST, mac: madeUp(i), xid: first + i, ...PXE_BIOS, requestedAddress: POOL[i % POOL.length]! });
    }
    xid = first + 100;
    await settle();
    const answered = probe.seen().filter((seen) => seen.reply.xid >= first && seen.reply.xid < first + 100);
    expect(answered.map((seen) => `${seen.reply.type} ${seen.reply.yiaddr}`)).toEqual([]);
    const bound = udhcpc('52:54:00:77:00:01', 'after-init-reboot-flood');
    expect(POOL).toContain(bound);
  }, 120_000);

  it('caps a flood of 1,000 DISCOVERs from made-up MACs, and a new real client still gets an address', async () => {
    const first = nextXid();
    for (let i = 0; i < 1000; i++) probe.send({ type: MessageType.DISCOVER, mac: madeUp(0x1000 + i), xid: first + i, ...PXE_BIOS });
    xid = first + 1000;
    await settle();
    const offers = probe.seen().filter((seen) => seen.reply.xid >= first && seen.reply.xid < first + 1000);
    // Every offer of the flood came from the three pool addresses, and far from all thousand were answered.
    expect(offers.length).toBeGreaterThan(0);
    expect(offers.length).toBeLessThan(1000);
    expect(new Set(offers.map((seen) => seen.reply.yiaddr)).size).toBeLessThanOrEqual(3);
    const bound = udhcpc('52:54:00:77:00:02', 'after-discover-flood');
    expect(POOL, `${lastUdhcpc}\n${appliance.output().split('\n').filter((l) => l.includes('77:00:02')).join('\n').slice(-3000)}`).toContain(bound);
  }, 120_000);

  it('accepts an installer callback from the address leased through a relay, and refuses it from another one', async () => {
    const mac = '52:54:00:11:00:77';
    const d = nextXid();
    probe.send({ type: MessageType.DISCOVER, mac, xid: d, ...PXE_BIOS, giaddr: '10.231.11.1' }, { from: 67, to: SERVER });
    const offer = (await probe.reply(d, 10_000, MessageType.OFFER)).reply;
    const r = nextXid();
    probe.send({ type: MessageType.REQUEST, mac, xid: r, ...PXE_BIOS, giaddr: '10.231.11.1', requestedAddress: offer.yiaddr, serverId: SERVER }, { from: 67, to: SERVER });
    const leased = (await probe.reply(r, 10_000, MessageType.ACK)).reply.yiaddr;
    expect(leased).toMatch(/^10\.231\.11\.1\d\d$/);
    execFileSync('ip', ['-n', lab.client, 'addr', 'add', `${leased}/32`, 'dev', lab.clientIf]);
    const curl = (from: string) =>
      spawnSync('ip', ['netns', 'exec', lab.client, 'curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', '--interface', from, '-X', 'POST', '--data-binary', '', `http://${SERVER}:8080/install/${relayedToken}/started`], { encoding: 'utf8', timeout: 20_000 }).stdout;
    expect(curl('10.231.10.9')).toBe('403');
    expect(curl(leased)).toBe('200');
  }, 60_000);

  it('answers no DISCOVER from a broadcast or multicast chaddr', async () => {
    const first = nextXid();
    probe.send({ type: MessageType.DISCOVER, mac: 'ff:ff:ff:ff:ff:ff', xid: first, ...PXE_BIOS });
    probe.send({ type: MessageType.DISCOVER, mac: '01:00:5e:00:00:01', xid: first + 1, ...PXE_BIOS });
    xid = first + 1;
    await settle();
    expect(probe.seen().filter((seen) => seen.reply.xid === first || seen.reply.xid === first + 1)).toEqual([]);
  }, 60_000);

  it('counts every refusal under its own name in the DHCP stats', async () => {
    await appliance.stop();
    const stopped = appliance.output().split('\n').find((line) => line.includes('"DHCP stopped"'));
    expect(stopped, appliance.output().slice(-2000)).toBeDefined();
    const counters = JSON.parse(stopped!).counters;
    expect(counters.handlerErrors).toBe(0);
    expect(counters.refusedInitRebootUnknown).toBeGreaterThanOrEqual(100);
    expect(counters.refusedOfferRate).toBeGreaterThan(0);
    expect(counters.offersReclaimed).toBeGreaterThan(0);
    expect(counters.refusedGroupMac).toBe(2);
  }, 30_000);
});
