// A small rack in varied states, so the pages (and their screenshots) show what an operator sees.
import type { AppContext } from '../../server/context.ts';
import type { LifecycleEvent } from '../../server/domain/lifecycle.ts';
import type { Role } from '../../server/domain/types.ts';

const STEPS: Record<string, LifecycleEvent[]> = {
  assigned: [],
  installing: [{ kind: 'install-started' }],
  installed: [{ kind: 'install-started' }, { kind: 'install-done' }],
  bootstrapping: [{ kind: 'install-started' }, { kind: 'install-done' }, { kind: 'ssh-answered' }],
  ready: [{ kind: 'install-started' }, { kind: 'install-done' }, { kind: 'ssh-answered' }, { kind: 'bootstrap-complete' }],
  failed: [{ kind: 'install-started' }, { kind: 'install-done' }, { kind: 'ssh-answered' }, { kind: 'fail', phase: 'bootstrap', reason: 'stage storage:cinder-volume exited 1: volume group cinder-volumes not found on sdb' }],
};

export function seedRack(ctx: AppContext): void {
  const nodes = ctx.services.nodes;
  const plan: [string, Role[], keyof typeof STEPS | 'discovered'][] = [
    ['ctl-02', ['controller', 'network'], 'ready'],
    ['cmp-01', ['compute'], 'ready'],
    ['cmp-02', ['compute'], 'ready'],
    ['cmp-03', ['compute'], 'bootstrapping'],
    ['cmp-04', ['compute'], 'installing'],
    ['cmp-05', ['compute'], 'installed'],
    ['cmp-06', ['compute'], 'assigned'],
    ['stor-01', ['storage'], 'failed'],
    ['stor-02', ['storage'], 'bootstrapping'],
    ['', [], 'discovered'],
    ['', [], 'discovered'],
  ];
  plan.forEach(([hostname, roles, state], i) => {
    const mac = `52:54:00:3c:10:${(i + 16).toString(16)}`;
    let node = nodes.discover(mac, { firmware: i % 3 === 0 ? 'bios' : 'uefi-x64' }, 'dhcp');
    if (state === 'discovered') return;
    const storage = roles.includes('storage');
    node = nodes.assign(node.id, { hostname, roles, profile: 'debian-12', managementAddress: `10.236.0.${20 + i}`, disks: storage ? ['sdb', 'sdc'] : [], interfaces: { management: 'eno1', tunnel: 'eno2' } }, 'alice');
    for (const step of STEPS[state]!) node = nodes.apply(node, step, step.kind === 'fail' ? 'orchestrator' : 'installer');
    ctx.store.nodes.update(node.id, { powerState: 'on', bmc: { driver: 'ipmi', address: `10.236.1.${20 + i}`, username: 'admin', password: 'not-used-here' } });
    if (state === 'bootstrapping' || state === 'ready' || state === 'failed') addStageRuns(ctx, node.id, node.generation, state);
  });
}

function addStageRuns(ctx: AppContext, nodeId: number, generation: number, state: string): void {
  const runs = ctx.store.stageRuns;
  const done = (stage: string, log: string) => {
    const run = runs.start(nodeId, generation, stage);
    runs.appendLogs([{ id: run.id, chunk: log }]);
    runs.complete(run.id, 'succeeded', 0);
  };
  done('common:hosts', '+ cat /etc/hosts.racklift\n127.0.0.1 localhost\n10.236.0.20 ctl-02\n');
  done('common:ntp', '+ apt-get install -y chrony\nchrony is already the newest version (4.3-2+deb12u1).\n');
  if (state === 'failed') {
    const run = runs.start(nodeId, generation, 'storage:cinder-volume');
    runs.appendLogs([{ id: run.id, chunk: '+ apt-get install -y cinder-volume lvm2 tgt\nSetting up cinder-volume (2:21.3.1-1) ...\n+ vgs cinder-volumes\n  Volume group "cinder-volumes" not found\n  Cannot process volume group cinder-volumes\n' }]);
    runs.complete(run.id, 'failed', 1);
  } else if (state === 'bootstrapping') {
    const run = runs.start(nodeId, generation, 'compute:nova-compute');
    runs.appendLogs([{ id: run.id, chunk: '+ apt-get install -y nova-compute\nReading package lists...\n' }]);
  }
}
