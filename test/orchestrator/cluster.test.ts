// The orchestrator against real OpenSSH servers: three fake nodes on 127.0.0.2-4, one sshd each.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startOrchestrator, type Orchestrator } from '../../server/orchestrator/service.ts';
import type { StageOutput } from '../../server/orchestrator/live.ts';
import { LOG_LIMIT } from '../../server/store/stage-runs.ts';
import {
  FAST,
  FakeNodeSshd,
  createHarness,
  freePort,
  haveSshd,
  installedNode,
  stageRootFor,
  waitFor,
  workDirOf,
  type Harness,
} from './helpers.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(fixture: string, hosts: { name: string; roles: ('controller' | 'compute' | 'storage' | 'network')[] }[], overrides: Record<string, unknown> = {}) {
  const port = await freePort();
  const harness: Harness = createHarness(fixture, port, overrides);
  cleanups.push(() => {
    harness.close();
    rmSync(harness.root, { recursive: true, force: true });
  });
  const publicKey = harness.ctx.services.sshIdentity().publicKey;
  const servers = hosts.map((host, i) => new FakeNodeSshd(join(harness.root, 'sshd', host.name), `127.0.0.${i + 2}`, port, publicKey));
  cleanups.push(() => servers.forEach((server) => server.stop()));
  await Promise.all(servers.map((server) => server.start()));
  const nodes = hosts.map((host, i) => installedNode(harness.ctx, i + 2, host.name, host.roles, servers[i]!.hostPublicKey));
  return { harness, servers, nodes, ctx: harness.ctx };
}

async function start(harness: Harness): Promise<Orchestrator> {
  const orchestrator = await startOrchestrator(harness.ctx, { ...FAST, stageRoot: stageRootFor(harness.root) });
  cleanups.push(() => orchestrator.close());
  return orchestrator;
}

const stateOf = (harness: Harness, id: number) => harness.ctx.store.nodes.get(id)!.state;

describe.skipIf(!haveSshd)('orchestrator over SSH', () => {
  it('runs a three-node manifest in dependency order across the cluster', async () => {
    const { harness, nodes, ctx } = await setup('cluster', [
      { name: 'ctl', roles: ['controller'] },
      { name: 'cmp', roles: ['compute'] },
      { name: 'sto', roles: ['storage'] },
    ]);
    const [ctl, cmp, sto] = nodes as [typeof nodes[0], typeof nodes[0], typeof nodes[0]];
    const orchestrator = await start(harness);
    const output: StageOutput[] = [];
    orchestrator.onOutput((chunk) => output.push(chunk));

    await waitFor('every node ready', () => nodes.every((node) => stateOf(harness, node.id) === 'ready'));

    const runs = (id: number) => ctx.store.stageRuns.list(id, ctx.store.nodes.get(id)!.generation);
    const run = (id: number, stage: string) => runs(id).find((r) => r.stage === stage && r.status === 'succeeded')!;
    expect(runs(ctl.id).map((r) => `${r.stage}:${r.status}`)).toEqual(['base:succeeded', 'db:succeeded', 'api:succeeded']);
    expect(runs(cmp.id).map((r) => r.stage)).toEqual(['base', 'agent', 'discover']);
    expect(runs(sto.id).map((r) => r.stage)).toEqual(['base', 'disks']);
    // Cross-node order, from the recorded timestamps.
    expect(run(cmp.id, 'agent').startedAt! >= run(ctl.id, 'api').finishedAt!).toBe(true);
    expect(run(sto.id, 'disks').startedAt! >= run(ctl.id, 'db').finishedAt!).toBe(true);
    expect(run(ctl.id, 'db').startedAt! >= run(ctl.id, 'base').finishedAt!).toBe(true);
    // The three base stages ran in parallel on three nodes: each started before any other finished.
    const bases = nodes.map((node) => run(node.id, 'base'));
    expect(Math.max(...bases.map((r) => Date.parse(r.startedAt!)))).toBeLessThan(Math.min(...bases.map((r) => Date.parse(r.finishedAt!))));

    // Published on the controller, consumed on the compute node; only the published glob was kept.
    expect(ctx.store.stageRuns.outputsOf('api').map((o) => o.name)).toEqual(['ring/ctl.txt']);
    expect(readFileSync(join(workDirOf(harness.root, 'cmp'), 'got-ring'), 'utf8')).toBe('ring of ctl region RegionOne\n');
    // runsOn: controller ran on the controller with the compute node's context.
    expect(readFileSync(join(workDirOf(harness.root, 'ctl'), 'discovered'), 'utf8')).toBe('cmp\n');
    expect(existsSync(join(workDirOf(harness.root, 'cmp'), 'discovered'))).toBe(false);
    // The render context reached the script.
    expect(readFileSync(join(workDirOf(harness.root, 'sto'), 'hosts'), 'utf8')).toContain('127.0.0.2 ctl.cluster.local ctl');
    expect(run(ctl.id, 'base').log).toContain('distro debian bookworm');

    // Secrets are masked in the stored log, the live output and the events.
    const secret = ctx.services.cluster.secrets().mariadbRoot;
    const dbLog = run(ctl.id, 'db').log;
    expect(dbLog).toContain('setting the database password to ********');
    expect(dbLog).toContain("mysql root password='********'");
    expect(dbLog).not.toContain(secret);
    expect(output.some((chunk) => chunk.stage === 'db' && chunk.text.includes('********'))).toBe(true);
    expect(output.map((chunk) => chunk.text).join('')).not.toContain(secret);
    const events = ctx.store.events.listRecent(500);
    expect(events.map((e) => e.message).join('\n')).not.toContain(secret);

    // Events: one at start and one at finish of each stage, plus waiting notes; lifecycle transitions.
    const stageEvents = events.filter((e) => e.kind === 'stage' && e.nodeId === ctl.id);
    expect(stageEvents.filter((e) => /started/.test(e.message))).toHaveLength(3);
    expect(stageEvents.filter((e) => /verified/.test(e.message))).toHaveLength(3);
    expect(events.some((e) => e.nodeId === cmp.id && e.kind === 'stage' && e.message.includes('waiting for controller:api'))).toBe(true);
    const transitions = ctx.store.events.listForNode(cmp.id).filter((e) => e.kind === 'transition').map((e) => e.toState).reverse();
    expect(transitions.slice(-3)).toEqual(['installed', 'bootstrapping', 'ready']);

    // The remote stage directory is root-only.
    const mode = execFileSync('stat', ['-c', '%a', stageRootFor(harness.root)(ctl)], { encoding: 'utf8' }).trim();
    expect(mode).toBe('700');
  });

  it('fails a node on a failing stage with its log tail, and retry resumes from that stage', async () => {
    const { harness, nodes, ctx } = await setup('flaky', [{ name: 'solo', roles: ['controller'] }]);
    const node = nodes[0]!;
    await start(harness);
    const failed = await waitFor('the node to fail', () => {
      const current = ctx.store.nodes.get(node.id)!;
      return current.state === 'failed' ? current : null;
    });
    expect(failed.failedPhase).toBe('bootstrap');
    expect(failed.failedReason).toContain('stage flaky failed on solo after 1 attempt: script exited with status 3');
    expect(failed.failedReason).toContain('flaky: the gate file is missing');
    const runs = () => ctx.store.stageRuns.list(node.id, node.generation).map((r) => `${r.stage}#${r.attempt}:${r.status}`);
    // `wobbly` failed once and passed on its automatic retry (retries: 1).
    expect(runs()).toEqual(['base#1:succeeded', 'wobbly#1:failed', 'wobbly#2:succeeded', 'flaky#1:failed']);

    writeFileSync(join(workDirOf(harness.root, 'solo'), 'gate'), 'open\n');
    ctx.services.nodes.retry(node.id, 'test');
    await waitFor('the node to be ready after retry', () => stateOf(harness, node.id) === 'ready');
    // Verified stages were not run again; the failed one and the rest were.
    expect(runs()).toEqual(['base#1:succeeded', 'wobbly#1:failed', 'wobbly#2:succeeded', 'flaky#1:failed', 'flaky#2:succeeded', 'after#1:succeeded']);
    // The log keeps its tail (LOG_LIMIT characters): the end of a long output, not its start.
    const after = ctx.store.stageRuns.list(node.id, node.generation).find((r) => r.stage === 'after')!;
    expect(after.log.length).toBe(LOG_LIMIT);
    expect(after.log.endsWith('19999\n20000\n')).toBe(true);
    expect(after.log).not.toContain('after\n');
  });

  it('fails a stage that runs past its time limit', async () => {
    const { harness, nodes, ctx } = await setup('timeout', [{ name: 'slowpoke', roles: ['storage'] }]);
    await start(harness);
    const failed = await waitFor('the node to fail', () => {
      const current = ctx.store.nodes.get(nodes[0]!.id)!;
      return current.state === 'failed' ? current : null;
    });
    expect(failed.failedReason).toContain('stage sleepy failed on slowpoke after 1 attempt: script did not finish within 1 s');
    expect(failed.failedReason).toContain('sleeping past the limit');
  });

  it('says which role is missing when a stage waits for a role no node holds', async () => {
    const { harness, nodes, ctx } = await setup('cluster', [{ name: 'lonely', roles: ['compute'] }]);
    await start(harness);
    const blocked = await waitFor('the blocked event', () =>
      ctx.store.events.listForNode(nodes[0]!.id).find((e) => e.kind === 'stage' && e.message.includes('blocked')),
    );
    expect(blocked.message).toBe('stage agent is blocked: no node holds the role controller; assign one');
    expect(ctx.store.nodes.get(nodes[0]!.id)!.state).toBe('bootstrapping');
    expect(ctx.store.stageRuns.list(nodes[0]!.id, nodes[0]!.generation).map((r) => r.stage)).toEqual(['base']);
  });

  it('refuses a node whose SSH host key differs from the one recorded at install', async () => {
    const { harness, nodes, ctx, servers } = await setup('flaky', [{ name: 'imposter', roles: ['controller'] }]);
    const node = nodes[0]!;
    const otherKey = join(harness.root, 'other_key');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', otherKey]);
    ctx.store.nodes.update(node.id, { sshHostKey: readFileSync(`${otherKey}.pub`, 'utf8').trim() });
    await start(harness);
    const failed = await waitFor('the node to fail', () => {
      const current = ctx.store.nodes.get(node.id)!;
      return current.state === 'failed' ? current : null;
    });
    expect(failed.failedReason).toContain('does not match the one recorded at install');
    const refusal = ctx.store.events.listForNode(node.id).find((e) => e.kind === 'host-key-mismatch');
    expect(refusal?.message).toContain('SSH refused');
    expect(ctx.store.stageRuns.list(node.id, node.generation)).toHaveLength(0);
    expect(servers[0]!.hostPublicKey).not.toBe(readFileSync(`${otherKey}.pub`, 'utf8').trim());
  });

  it('with one worker, a node waiting on another node holds no worker', async () => {
    // The compute node comes first (lower id) and waits for controller:api; the one worker serves the controller.
    const { harness, nodes } = await setup('cluster', [
      { name: 'cmp', roles: ['compute'] },
      { name: 'ctl', roles: ['controller'] },
    ], { 'orchestrator.concurrency': 1 });
    await start(harness);
    await waitFor('both nodes ready', () => nodes.every((node) => stateOf(harness, node.id) === 'ready'));
    const all = nodes.flatMap((node) => harness.ctx.store.stageRuns.list(node.id, node.generation)).sort((a, b) => a.startedAt!.localeCompare(b.startedAt!));
    // One worker: no two runs overlapped.
    for (let i = 1; i < all.length; i += 1) expect(all[i]!.startedAt! >= all[i - 1]!.finishedAt!).toBe(true);
    expect(all.map((r) => r.stage)).toHaveLength(6);
  });

  it('fails an installed node whose SSH never answers within the limit', async () => {
    const harness = createHarness('cluster', await freePort());
    cleanups.push(() => {
      harness.close();
      rmSync(harness.root, { recursive: true, force: true });
    });
    const node = installedNode(harness.ctx, 9, 'ghost', ['controller'], 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDc7zTMmGp4GDw6YJ1HCJDIDjnDOXlGMjTyeOqo1rVAh');
    // Installed long ago (nothing listens on 127.0.0.9): the first refused attempt is past the 60 s limit.
    harness.ctx.store.db.prepare('UPDATE nodes SET state_changed_at = ? WHERE id = ?').run(new Date(Date.now() - 120_000).toISOString(), node.id);
    await start(harness);
    const failed = await waitFor('the node to fail', () => {
      const current = harness.ctx.store.nodes.get(node.id)!;
      return current.state === 'failed' ? current : null;
    });
    expect(failed.failedReason).toMatch(/^SSH did not answer within 60 s after the install \(1 attempts; last: SSH to 127\.0\.0\.9:\d+: connect ECONNREFUSED/);
  });
});
