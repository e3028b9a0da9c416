// A node that stops answering in the middle of a stage: its SSH server (real OpenSSH on a loopback address) is
// frozen with SIGSTOP, so its connections stay open and nothing answers. The stage fails with a reason that
// says so, and SIGTERM still stops the whole appliance promptly. Needs root and /usr/sbin/sshd.
import { spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startOrchestrator } from '../../server/orchestrator/service.ts';
import { FAST, FakeNodeSshd, createHarness, freePort, haveSshd, installedNode, stageRootFor, waitFor, workDirOf } from '../orchestrator/helpers.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function stalledNodeSetup(extra: Record<string, unknown>) {
  const port = await freePort();
  const harness = createHarness('stall', port, extra);
  cleanups.push(() => {
    harness.close();
    rmSync(harness.root, { recursive: true, force: true });
  });
  const server = new FakeNodeSshd(join(harness.root, 'sshd', 'node'), '127.0.0.2', port, harness.ctx.services.sshIdentity().publicKey);
  cleanups.push(() => server.stop());
  await server.start();
  const node = installedNode(harness.ctx, 2, 'stall1', ['compute'], server.hostPublicKey);
  const running = join(workDirOf(harness.root, 'stall1'), 'wait-running');
  return { harness, server, node, running };
}

describe.skipIf(!haveSshd)('a node that stops answering mid-stage', () => {
  it('fails its stage with a reason that says the node stopped answering', async () => {
    const { harness, server, node, running } = await stalledNodeSetup({ 'orchestrator.sshStallSeconds': 3 });
    const orchestrator = await startOrchestrator(harness.ctx, { ...FAST, stageRoot: stageRootFor(harness.root) });
    cleanups.push(() => orchestrator.close());
    await waitFor('the stage to run', () => existsSync(running));
    server.freeze();
    const failed = await waitFor('the node to fail', () => {
      const current = harness.ctx.store.nodes.get(node.id)!;
      return current.state === 'failed' ? current : null;
    }, 90_000);
    expect(failed.failedReason).toMatch(/stage wait failed on stall1 after 1 attempt: the node stopped answering: 127\.0\.0\.2 stopped answering SSH/);
    const run = harness.ctx.store.stageRuns.list(node.id, node.generation).find((r) => r.stage === 'wait')!;
    expect(run.status).toBe('failed');
  }, 120_000);

  it('stops the whole appliance on SIGTERM while a node is frozen mid-stage', async () => {
    const { harness, server, running } = await stalledNodeSetup({ 'http.host': '127.0.0.1', 'http.port': 0, 'http.tls.enabled': false, 'log.level': 'info' });
    const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'stall-child.ts'), JSON.stringify({ overrides: harness.overrides, root: harness.root })], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    cleanups.push(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    await waitFor('the stage to run', () => existsSync(running), 60_000);
    server.freeze();
    // Let the appliance be in the middle of talking to the frozen node (the stage's command is open).
    await new Promise((resolve) => setTimeout(resolve, 1000));
    child.kill('SIGTERM');
    const code = await Promise.race([exited, new Promise<'still running'>((resolve) => setTimeout(() => resolve('still running'), 30_000))]);
    expect(code, output.slice(-2000)).toBe(0);
    expect(output).toMatch(/"msg":"stopped"/);
  }, 120_000);
});
