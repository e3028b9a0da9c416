// Faults in the middle of a stage: the node's SSH server dies (a reboot), or the appliance process dies. Either
// way the stage runs again when both are back, and nothing is lost or done twice.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startOrchestrator } from '../../server/orchestrator/service.ts';
import {
  FAST,
  FakeNodeSshd,
  createHarness,
  freePort,
  haveSshd,
  installedNode,
  killTree,
  stageRootFor,
  waitFor,
  workDirOf,
  type Harness,
} from './helpers.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup() {
  const port = await freePort();
  const harness: Harness = createHarness('slow', port);
  cleanups.push(() => {
    harness.close();
    rmSync(harness.root, { recursive: true, force: true });
  });
  const publicKey = harness.ctx.services.sshIdentity().publicKey;
  const hosts = [
    { name: 'ctl', roles: ['controller' as const] },
    { name: 'cmp', roles: ['compute' as const] },
  ];
  const servers = hosts.map((host, i) => new FakeNodeSshd(join(harness.root, 'sshd', host.name), `127.0.0.${i + 2}`, port, publicKey));
  cleanups.push(() => servers.forEach((server) => server.stop()));
  await Promise.all(servers.map((server) => server.start()));
  const nodes = hosts.map((host, i) => installedNode(harness.ctx, i + 2, host.name, host.roles, servers[i]!.hostPublicKey));
  const work = workDirOf(harness.root, 'ctl');
  const attempts = () => (existsSync(join(work, 'hold-attempts')) ? readFileSync(join(work, 'hold-attempts'), 'utf8').split('\n').filter(Boolean).length : 0);
  const holdRuns = () => harness.ctx.store.stageRuns.list(nodes[0]!.id, nodes[0]!.generation).filter((r) => r.stage === 'hold');
  const release = () => writeFileSync(join(work, 'release'), 'go\n');
  return { harness, servers, nodes, attempts, holdRuns, release, ctx: harness.ctx };
}

function expectEachStageOnce(harness: Harness, nodeIds: number[]) {
  for (const id of nodeIds) {
    const node = harness.ctx.store.nodes.get(id)!;
    expect(node.state).toBe('ready');
    const succeeded = harness.ctx.store.stageRuns.list(id, node.generation).filter((r) => r.status === 'succeeded').map((r) => r.stage);
    expect(new Set(succeeded).size).toBe(succeeded.length);
  }
  expect(readFileSync(join(workDirOf(harness.root, 'ctl'), 'base'), 'utf8')).toBe('base\n');
  expect(readFileSync(join(workDirOf(harness.root, 'cmp'), 'base'), 'utf8')).toBe('base\n');
  expect(readFileSync(join(workDirOf(harness.root, 'cmp'), 'join'), 'utf8')).toBe('join\n');
}

describe.skipIf(!haveSshd)('orchestrator faults', () => {
  it('runs a stage again when the node SSH server dies mid-stage and comes back', async () => {
    const { harness, servers, nodes, attempts, holdRuns, release, ctx } = await setup();
    const orchestrator = await startOrchestrator(ctx, { ...FAST, stageRoot: stageRootFor(harness.root) });
    cleanups.push(() => orchestrator.close());

    await waitFor('the hold stage to run', () => attempts() === 1 && holdRuns().some((r) => r.status === 'running'));
    servers[0]!.kill();
    await waitFor('the run to be interrupted', () => holdRuns().some((r) => r.status === 'interrupted'));
    expect(ctx.store.nodes.get(nodes[0]!.id)!.state).toBe('bootstrapping');
    expect(attempts()).toBe(1);

    await servers[0]!.start();
    await waitFor('the stage to start again', () => attempts() === 2);
    release();
    await waitFor('both nodes ready', () => nodes.every((node) => ctx.store.nodes.get(node.id)!.state === 'ready'));

    expect(holdRuns().map((r) => `${r.attempt}:${r.status}`)).toEqual(['1:interrupted', '2:succeeded']);
    expect(holdRuns()[0]!.log).toContain('holding until released');
    expectEachStageOnce(harness, nodes.map((node) => node.id));
    expect(ctx.store.events.listForNode(nodes[0]!.id).some((e) => e.message.includes('stage hold interrupted on ctl'))).toBe(true);
  });

  it('finishes the cluster when the appliance process is killed mid-stage and started again', async () => {
    const { harness, nodes, attempts, holdRuns, release, ctx } = await setup();
    const children = new Set<ChildProcess>();
    cleanups.push(() => children.forEach((child) => child.pid && killTree(child.pid)));
    const startChild = () => {
      const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'child.ts'), JSON.stringify({ overrides: harness.overrides, root: harness.root })], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      children.add(child);
      return child;
    };

    const first = startChild();
    await waitFor('the hold stage to run under the first appliance', () => attempts() === 1 && holdRuns().some((r) => r.status === 'running'));
    first.kill('SIGKILL');
    await new Promise((resolve) => first.once('exit', resolve));
    children.delete(first);
    // The dead process left its run `running`; only the next start may decide it was interrupted.
    expect(holdRuns().map((r) => r.status)).toEqual(['running']);

    const second = startChild();
    await waitFor('the run to be marked interrupted and started again', () => attempts() === 2 && holdRuns().length === 2);
    expect(holdRuns()[0]!.status).toBe('interrupted');
    release();
    await waitFor('both nodes ready', () => nodes.every((node) => ctx.store.nodes.get(node.id)!.state === 'ready'));
    second.kill('SIGTERM');
    await new Promise((resolve) => second.once('exit', resolve));
    children.delete(second);

    expect(holdRuns().map((r) => `${r.attempt}:${r.status}`)).toEqual(['1:interrupted', '2:succeeded']);
    expectEachStageOnce(harness, nodes.map((node) => node.id));
    expect(ctx.store.events.listForNode(nodes[0]!.id).some((e) => e.message.includes('was running when the appliance stopped'))).toBe(true);
  });
});
