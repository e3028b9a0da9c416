// The real proof, as a program: `tsx test/bootstrap-real/run.ts [--interactive] [--keep] [--controller-only]`.
// Boots a Debian 12 controller container, lets the real orchestrator run the common and controller stages over
// SSH, checks token issue / service list / image list inside it, then does the same for a compute container
// (compute service list). --interactive: when a node fails, wait for the file named in the output, reload the
// stage scripts and retry (for developing the scripts). Prints a timing summary; exit status 0 = proven.
import { cpSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { readFileSync } from 'node:fs';
import { Lab, SUBNET_PREFIX, missingPrerequisites } from './lab.ts';
import { enrol, startLabAppliance, waitForNode, type LabAppliance } from './appliance.ts';

const args = new Set(process.argv.slice(2));
const REPO_BOOTSTRAP = new URL('../../bootstrap/', import.meta.url).pathname;

/** The manifest's stages whose scripts exist and whose same-node requirements are kept (while scripts are written). */
export function syncBootstrap(into: string): string[] {
  rmSync(into, { recursive: true, force: true });
  cpSync(REPO_BOOTSTRAP, into, { recursive: true });
  const manifest = parse(readFileSync(join(into, 'manifest.yaml'), 'utf8')) as { stages: { id: string; script: string; role: string; requires?: string[]; consumes?: string[] }[] };
  const kept = new Map<string, string>();
  for (const stage of manifest.stages) {
    if (!existsSync(join(into, stage.script))) continue;
    const needs = [...(stage.requires ?? []), ...(stage.consumes ?? [])].map((r) => (r.includes(':') ? r.split(':')[1]! : r));
    if (needs.every((id) => kept.has(id))) kept.set(stage.id, stage.role);
  }
  manifest.stages = manifest.stages.filter((stage) => kept.has(stage.id));
  writeFileSync(join(into, 'manifest.yaml'), stringify(manifest));
  return [...kept.keys()];
}

/** Lines by which a stage says it changed something; a second run must print none of them. */
const CHANGE = /racklift: (wrote|updated|restarted|installing|installed|created|uploaded|rebalanced|preseeded|removed|disabled|volume group|XFS made)/;
let rerunChanges: string[] | null = null;

function log(line: string): void {
  if (rerunChanges && CHANGE.test(line)) rerunChanges.push(line);
  process.stdout.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);
}

/** A new install generation of a node that is still installed: every stage runs again from the first. */
function runAgain(appliance: LabAppliance, id: number, hostKey: string): void {
  const { services, store } = appliance.ctx;
  let again = services.nodes.reimage(id, 'lab');
  again = store.nodes.update(again.id, { sshHostKey: hostKey });
  again = services.nodes.apply(again, { kind: 'install-started' }, 'installer');
  services.nodes.apply(again, { kind: 'install-done' }, 'installer');
  appliance.orchestrator.kick();
}

async function main(): Promise<number> {
  const missing = missingPrerequisites();
  if (missing.length) {
    log(`SKIP: the real bootstrap proof needs ${missing.join(', ')}`);
    return 0;
  }
  const started = Date.now();
  const lab = new Lab();
  const timings: string[] = [];
  const mark = (what: string, since: number) => timings.push(`${what}: ${((Date.now() - since) / 1000).toFixed(0)} s`);
  let appliance: LabAppliance | null = null;
  let imageServer: ReturnType<typeof createServer> | null = null;
  const cleanup = async () => {
    imageServer?.close();
    await appliance?.close();
    await lab.teardown(args.has('--keep'));
  };
  process.once('SIGINT', () => void cleanup().then(() => process.exit(130)));
  process.once('SIGTERM', () => void cleanup().then(() => process.exit(143)));
  try {
    let t = Date.now();
    lab.setup();
    mark('rootfs (cached after the first run) and lab network', t);

    // A small raw disk served on the bridge address stands in for the cluster image (the lab reaches only Debian's mirror).
    const imagePath = join(lab.workDir, 'lab-image.raw');
    writeFileSync(imagePath, Buffer.alloc(4 * 1024 * 1024));
    imageServer = createServer((req, res) => {
      if (req.url !== '/lab-image.raw') return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(readFileSync(imagePath));
    });
    await new Promise<void>((r) => imageServer!.listen(8088, `${SUBNET_PREFIX}.1`, r));

    const bootstrapDir = join(lab.workDir, 'bootstrap');
    const stages = syncBootstrap(bootstrapDir);
    log(`stages in this run: ${stages.join(' ')}`);
    const cluster = {
      domain: 'lab.test',
      neutron: { mechanism: 'linuxbridge', providerPhysnet: 'provider', providerInterface: 'eth1', vniRanges: '1:1000', external: null },
      image: { name: 'lab-image', url: `http://${SUBNET_PREFIX}.1:8088/lab-image.raw` },
    };
    const dataDir = join(lab.workDir, 'appliance');
    appliance = await startLabAppliance(dataDir, bootstrapDir, cluster, log);
    const key = appliance.ctx.services.sshIdentity().publicKey;

    t = Date.now();
    const ctl = await lab.boot('ctl1', 10, key);
    mark('controller container boot to sshd', t);
    t = Date.now();
    const ctlNode = enrol(appliance, ctl, '52:54:00:88:00:10', ['controller']);
    const retryFile = join(lab.workDir, 'retry');
    const onFailed = args.has('--interactive')
      ? async (node: { hostname: string | null; failedReason: string | null }) => {
          log(`FAILED ${node.hostname}: ${node.failedReason}`);
          log(`fix the script, then: touch ${retryFile}`);
          while (!existsSync(retryFile)) await new Promise((r) => setTimeout(r, 2000));
          rmSync(retryFile);
          await appliance!.orchestrator.close();
          log(`stages now: ${syncBootstrap(bootstrapDir).join(' ')}`);
          appliance = await restart(appliance!, dataDir, bootstrapDir, cluster);
          return true;
        }
      : undefined;
    await waitForNode(() => appliance!, ctlNode.id, 3 * 3600, onFailed);
    // While the scripts are being written: once more stages exist, run the whole node again (a new install
    // generation), which also runs every earlier stage a second time - the idempotency check.
    while (args.has('--interactive') && stages.length < (parse(readFileSync(join(REPO_BOOTSTRAP, 'manifest.yaml'), 'utf8')) as { stages: unknown[] }).stages.length) {
      log(`controller ready on ${stages.length} stages; add scripts, then: touch ${retryFile} (or touch ${retryFile}.done to go on)`);
      while (!existsSync(retryFile) && !existsSync(`${retryFile}.done`)) await new Promise((r) => setTimeout(r, 2000));
      if (existsSync(`${retryFile}.done`)) break;
      rmSync(retryFile);
      await appliance!.orchestrator.close();
      stages.splice(0, stages.length, ...syncBootstrap(bootstrapDir));
      log(`stages now: ${stages.join(' ')}`);
      appliance = await restart(appliance!, dataDir, bootstrapDir, cluster);
      runAgain(appliance, ctlNode.id, ctl.hostKey);
      await waitForNode(() => appliance!, ctlNode.id, 3 * 3600, onFailed);
    }
    mark('controller: common + controller stages (orchestrator over SSH)', t);
    if (!args.has('--no-rerun')) {
      // Idempotency: the same stages once more on the bootstrapped controller must change nothing.
      t = Date.now();
      rerunChanges = [];
      runAgain(appliance, ctlNode.id, ctl.hostKey);
      await waitForNode(() => appliance!, ctlNode.id, 3600, onFailed);
      mark('controller: second run of every stage (idempotency)', t);
      const changes = rerunChanges;
      rerunChanges = null;
      log(`second run: ${changes.length} changes${changes.length ? `:\n  ${changes.join('\n  ')}` : ''}`);
      if (changes.length) throw new Error(`the second run changed things: ${changes.join('; ')}`);
    }
    for (const check of ['openstack token issue -f value -c expires', 'openstack service list -f value -c Type', 'openstack image list -f value -c Name']) {
      log(`ctl1$ ${check}\n${lab.exec(ctl, check).trim()}`);
    }
    if (!args.has('--controller-only')) {
      t = Date.now();
      const cmp = await lab.boot('cmp1', 11, key);
      const cmpNode = enrol(appliance, cmp, '52:54:00:88:00:11', ['compute']);
      await waitForNode(() => appliance!, cmpNode.id, 2 * 3600, onFailed);
      mark('compute: common + compute stages incl. cell discovery on the controller', t);
      log(`ctl1$ openstack compute service list\n${lab.exec(ctl, 'openstack compute service list').trim()}`);
      log(`ctl1$ openstack network agent list\n${lab.exec(ctl, 'openstack network agent list').trim()}`);
    }
    mark('total', started);
    log(`PROVEN\n  ${timings.join('\n  ')}`);
    return 0;
  } catch (error) {
    log(`FAILED: ${(error as Error).message}`);
    log(`timings so far:\n  ${timings.join('\n  ')}`);
    return 1;
  } finally {
    await cleanup();
  }
}

async function restart(old: LabAppliance, dataDir: string, bootstrapDir: string, cluster: Record<string, unknown>): Promise<LabAppliance> {
  old.ctx.store.close();
  return startLabAppliance(dataDir, bootstrapDir, cluster, log);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  mkdirSync('/var/cache/racklift-test', { recursive: true });
  process.exit(await main());
}
