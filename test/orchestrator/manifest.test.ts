// The pure parts: manifest validation, the stage graph, masking, rendering and the render context.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { globToRegExp, nextStep, type GraphNode, type StageDefinition } from '../../server/domain/stage-graph.ts';
import { loadManifest, ManifestError } from '../../server/orchestrator/manifest.ts';
import { Masker, StreamMasker } from '../../server/orchestrator/masking.ts';
import { shellQuote, StageRenderer } from '../../server/orchestrator/render.ts';
import { buildStageContext } from '../../server/orchestrator/context.ts';
import { startOrchestrator } from '../../server/orchestrator/service.ts';
import { FIXTURES, createHarness, installedNode } from './helpers.ts';

const dirs: string[] = [];
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

function manifestDir(stages: Record<string, unknown>[], scripts: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'rl-orch-manifest-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'manifest.yaml'), stringify({ stages }));
  for (const stage of stages) {
    const script = String(stage.script);
    if (scripts[script] === undefined && script.includes('missing')) continue;
    // Never write outside the temp dir: the manifest under test may name a path such as ../../etc/passwd.
    const path = resolve(dir, script);
    if (!path.startsWith(`${dir}/`)) continue;
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, scripts[script] ?? 'echo ok\n');
  }
  return dir;
}

const problemsOf = (dir: string): string => {
  try {
    loadManifest(dir);
  } catch (error) {
    expect(error).toBeInstanceOf(ManifestError);
    return (error as Error).message;
  }
  throw new Error('the manifest was accepted');
};

describe('manifest validation', () => {
  it('accepts a sound manifest and fills the defaults', () => {
    const manifest = loadManifest(join(FIXTURES, 'cluster'));
    expect(manifest.stages.map((s) => s.id)).toEqual(['base', 'db', 'api', 'agent', 'discover', 'disks']);
    const agent = manifest.byId.get('agent')!;
    expect(agent.requires).toEqual([{ kind: 'local', stage: 'base' }, { kind: 'remote', role: 'controller', stage: 'api' }]);
    expect(agent.consumes).toEqual([{ kind: 'remote', role: 'controller', stage: 'api' }]);
    expect(manifest.byId.get('db')).toMatchObject({ retries: 0, runsOn: 'self', verify: null, publishes: [] });
  });

  it('names the stage with an unknown requirement, an unknown role, a missing script or a bad template', () => {
    const message = problemsOf(
      manifestDir(
        [
          { id: 'a', role: 'common', script: 'a.sh.hbs' },
          { id: 'b', role: 'controller', script: 'b.sh.hbs', requires: ['nope'] },
          { id: 'c', role: 'compute', script: 'c.sh.hbs', requires: ['controller:nope', 'wizard:a'] },
          { id: 'd', role: 'wizard', script: 'd.sh.hbs' },
          { id: 'e', role: 'storage', script: 'missing.sh.hbs' },
          { id: 'f', role: 'storage', script: 'f.sh.hbs' },
          { id: 'g', role: 'storage', script: 'g.sh.hbs', requires: ['b'] },
        ],
        { 'f.sh.hbs': 'echo {{#if x}}\n' },
      ),
    );
    expect(message).toContain('stage b: requires unknown stage nope');
    expect(message).toContain('stage c: requires unknown stage controller:nope');
    expect(message).toContain(`stage c: requires "wizard:a" is not 'stage-id' or 'role:stage-id' with a known role`);
    expect(message).toContain('stage d: role: role must be one of common, controller, compute, network, storage');
    expect(message).toContain('stage e: script missing.sh.hbs does not exist');
    expect(message).toContain('stage f: script f.sh.hbs is not a valid template');
    expect(message).toContain('stage g: requires b, a controller stage, which does not run on every node running g (write controller:b)');
  });

  it('finds cycles, across nodes too', () => {
    const message = problemsOf(
      manifestDir([
        { id: 'a', role: 'controller', script: 'a.sh', requires: ['c'] },
        { id: 'b', role: 'controller', script: 'b.sh', requires: ['a'] },
        { id: 'c', role: 'controller', script: 'c.sh', requires: ['compute:d'] },
        { id: 'd', role: 'compute', script: 'd.sh', requires: ['controller:b'] },
      ]),
    );
    expect(message).toMatch(/stage a: requirements form a cycle: a -> c -> d -> b -> a/);
  });

  it('refuses duplicate ids, scripts outside bootstrap/ and unknown keys', () => {
    const message = problemsOf(
      manifestDir([
        { id: 'a', role: 'common', script: 'a.sh' },
        { id: 'a', role: 'common', script: 'a2.sh' },
        { id: 'b', role: 'common', script: '../../../nonexistent-rl-orch/escape.sh' },
        { id: 'c', role: 'common', script: 'c.sh', timeout: 5 },
      ]),
    );
    expect(message).toContain('stage a: the id is used twice');
    expect(message).toContain('stage b: script ../../../nonexistent-rl-orch/escape.sh must be a path under');
    expect(message).toContain('stage c: entry: Unrecognized key: "timeout"');
  });
});

describe('start-up', () => {
  it('refuses to start the orchestrator on a bad manifest, naming the stage', async () => {
    const dir = manifestDir([
      { id: 'a', role: 'controller', script: 'a.sh', requires: ['b'] },
      { id: 'b', role: 'controller', script: 'b.sh', requires: ['a'] },
    ]);
    const harness = createHarness('cluster', 2222, { bootstrapDir: dir });
    try {
      await expect(startOrchestrator(harness.ctx)).rejects.toThrow(/stage a: requirements form a cycle: a -> b -> a/);
    } finally {
      harness.close();
      rmSync(harness.root, { recursive: true, force: true });
    }
  });
});

const stage = (id: string, role: StageDefinition['role'], requires: string[] = [], extra: Partial<StageDefinition> = {}): StageDefinition => ({
  id,
  role,
  script: `${id}.sh`,
  requires: requires.map((text) => (text.includes(':') ? { kind: 'remote', role: text.split(':')[0] as 'controller', stage: text.split(':')[1]! } : { kind: 'local', stage: text })),
  verify: null,
  timeoutSeconds: 60,
  retries: 0,
  runsOn: 'self',
  publishes: [],
  consumes: [],
  ...extra,
});

describe('stage graph', () => {
  const stages = [
    stage('hosts', 'common'),
    stage('keystone', 'controller', ['hosts']),
    stage('nova-api', 'controller', ['keystone']),
    stage('nova-compute', 'compute', ['hosts', 'controller:nova-api']),
    stage('libvirt', 'compute', ['hosts']),
    stage('discover', 'compute', ['nova-compute'], { runsOn: 'controller' }),
  ];
  const node = (id: number, roles: GraphNode['roles'], verified: string[]): GraphNode => ({ id, roles, verified: new Set(verified) });

  it('picks the first runnable stage in manifest order, passing a stage that waits on another node', () => {
    const controller = node(1, ['controller'], ['hosts']);
    const compute = node(2, ['compute'], ['hosts']);
    const step = nextStep(stages, compute, [controller, compute]);
    expect(step).toMatchObject({ kind: 'run', stage: { id: 'libvirt' } });
  });

  it('waits (holding nothing) until every node of the role has verified the stage', () => {
    const controller = node(1, ['controller'], ['hosts', 'keystone']);
    const compute = node(2, ['compute'], ['hosts', 'libvirt']);
    expect(nextStep(stages, compute, [controller, compute])).toEqual({
      kind: 'wait',
      waiting: [
        { stage: 'nova-compute', on: ['controller:nova-api'] },
        { stage: 'discover', on: ['nova-compute'] },
      ],
    });
    const ready = node(1, ['controller'], ['hosts', 'keystone', 'nova-api']);
    expect(nextStep(stages, compute, [ready, compute])).toMatchObject({ kind: 'run', stage: { id: 'nova-compute' } });
    expect(nextStep(stages, ready, [ready, compute])).toEqual({ kind: 'complete' });
  });

  it('is blocked when no node holds a required role', () => {
    const compute = node(2, ['compute'], ['hosts', 'libvirt']);
    expect(nextStep(stages, compute, [compute])).toEqual({ kind: 'blocked', stage: 'nova-compute', missingRoles: ['controller'] });
  });

  it('gives a node without a role nothing to do', () => {
    expect(nextStep(stages, node(3, [], []), [])).toEqual({ kind: 'complete' });
  });

  it('matches publish globs', () => {
    expect(globToRegExp('*.ring.gz').test('object.ring.gz')).toBe(true);
    expect(globToRegExp('*.ring.gz').test('sub/object.ring.gz')).toBe(false);
    expect(globToRegExp('**/*.txt').test('a/b/c.txt')).toBe(true);
    expect(globToRegExp('**/*.txt').test('c.txt')).toBe(true);
    expect(globToRegExp('ring/?.txt').test('ring/a.txt')).toBe(true);
  });
});

describe('masking and rendering', () => {
  const masker = new Masker(['s3cretPassw0rd', 'anotherSecret1', 'abc']);

  it('masks every secret of six characters or more', () => {
    expect(masker.mask('pw=s3cretPassw0rd x=anotherSecret1 abc')).toBe('pw=******** x=******** abc');
  });

  it('masks a secret split across chunks, on whole lines and on long partial lines', () => {
    const stream = new StreamMasker(masker, 16);
    let out = '';
    for (const chunk of ['pw=s3cr', 'etPa', 'ssw0rd and more text ', 'to pass the limit s3cretP', 'assw0rd', '\nnext ', 'line']) out += stream.push(chunk);
    out += stream.end();
    expect(out).toBe('pw=******** and more text to pass the limit ********\nnext line');
  });

  it('quotes for sh', () => {
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
    expect(shellQuote(['a b', 'c'])).toBe(`'a b' 'c'`);
    expect(shellQuote(null)).toBe(`''`);
  });

  it('renders a stage with the documented context, no HTML escaping, strict about unknown fields', () => {
    const harness = createHarness('cluster', 2222);
    try {
      const ctl = installedNode(harness.ctx, 2, 'ctl', ['controller'], 'ssh-ed25519 AAAA');
      const cmp = installedNode(harness.ctx, 3, 'cmp', ['compute'], 'ssh-ed25519 AAAA');
      harness.ctx.store.nodes.update(cmp.id, { addresses: { management: '127.0.0.3', tunnel: '10.231.7.3' }, disks: ['sdb'] });
      const context = buildStageContext(harness.ctx, harness.ctx.store.nodes.get(cmp.id)!, ctl);
      expect(context.node).toMatchObject({ hostname: 'cmp', fqdn: 'cmp.cluster.local', tunnelAddress: '10.231.7.3', storageAddress: '127.0.0.3', disks: ['sdb'] });
      expect(context.cluster.controller).toEqual({ hostname: 'ctl', fqdn: 'ctl.cluster.local', address: '127.0.0.2' });
      expect(context.cluster.computeNodes.map((n) => n.hostname)).toEqual(['cmp']);
      expect(context.distro).toEqual({ family: 'debian', release: '12', codename: 'bookworm' });
      expect(context.target).toEqual({ hostname: 'ctl', address: '127.0.0.2' });
      expect(context.secrets.admin).toMatch(/^[A-Za-z0-9]{24}$/);
      expect(context.appliance.url).toBe(harness.ctx.config.publicUrl);

      const dir = manifestDir(
        [
          { id: 'ok', role: 'common', script: 'ok.sh', verify: 'test {{sq node.hostname}} = cmp' },
          { id: 'typo', role: 'common', script: 'typo.sh' },
        ],
        { 'ok.sh': 'echo {{sq cluster.region}} "a=b&c<d" {{json node.disks}} {{cluster.controller.fqdn}}\n', 'typo.sh': 'echo {{secrets.keystonDb}}\n' },
      );
      const manifest = loadManifest(dir);
      const renderer = new StageRenderer(manifest);
      expect(renderer.render(manifest.byId.get('ok')!, context)).toEqual({
        script: `echo 'RegionOne' "a=b&c<d" ["sdb"] ctl.cluster.local\n`,
        verify: `test 'cmp' = cmp`,
      });
      expect(() => renderer.render(manifest.byId.get('typo')!, context)).toThrow(/"keystonDb" not defined/);
    } finally {
      harness.close();
      rmSync(harness.root, { recursive: true, force: true });
    }
  });
});
