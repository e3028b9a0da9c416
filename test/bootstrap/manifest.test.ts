// The stage manifest: parses, names existing scripts and stages, has no cycle (a local check, independent of
// the orchestrator's validator, which must accept it too), and every stage can be verified and timed out.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadManifest } from '../../server/orchestrator/manifest.ts';
import { BOOTSTRAP_DIR, rawManifest, type RawStage } from './helpers.ts';

const ROLES = ['controller', 'compute', 'network', 'storage'];

function reference(text: string): { role: string | null; id: string } {
  const [a, b] = text.split(':');
  return b === undefined ? { role: null, id: a! } : { role: a!, id: b };
}

/** Ids of a cycle through the requirement edges, or null. Remote edges count: they are edges between stages. */
function findCycle(stages: RawStage[]): string[] | null {
  const edges = new Map(stages.map((s) => [s.id, [...(s.requires ?? []), ...(s.consumes ?? [])].map((r) => reference(r).id)]));
  const state = new Map<string, 'visiting' | 'done'>();
  const path: string[] = [];
  const visit = (id: string): string[] | null => {
    if (state.get(id) === 'done') return null;
    if (state.get(id) === 'visiting') return [...path.slice(path.indexOf(id)), id];
    state.set(id, 'visiting');
    path.push(id);
    for (const next of edges.get(id) ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    path.pop();
    state.set(id, 'done');
    return null;
  };
  for (const stage of stages) {
    const cycle = visit(stage.id);
    if (cycle) return cycle;
  }
  return null;
}

describe('bootstrap manifest', () => {
  const stages = rawManifest();
  const byId = new Map(stages.map((s) => [s.id, s]));

  it('has unique ids, known roles and existing scripts', () => {
    expect(new Set(stages.map((s) => s.id)).size).toBe(stages.length);
    for (const stage of stages) {
      expect(['common', ...ROLES], stage.id).toContain(stage.role);
      expect(existsSync(join(BOOTSTRAP_DIR, stage.script)), `${stage.id}: ${stage.script}`).toBe(true);
    }
  });

  it('every requirement names a stage that runs where the requirement says', () => {
    for (const stage of stages) {
      for (const text of [...(stage.requires ?? []), ...(stage.consumes ?? [])]) {
        const ref = reference(text);
        const target = byId.get(ref.id);
        expect(target, `${stage.id} requires unknown stage ${text}`).toBeDefined();
        if (ref.role) {
          expect(ROLES, `${stage.id}: ${text}`).toContain(ref.role);
          expect([ref.role, 'common'], `${stage.id}: ${text} is a ${target!.role} stage`).toContain(target!.role);
        } else {
          // Same node: the required stage is common or of the same role.
          expect(['common', stage.role], `${stage.id} requires ${text} (${target!.role}) on its own node`).toContain(target!.role);
        }
      }
      for (const text of stage.consumes ?? []) {
        expect(reference(text).role, `${stage.id} consumes ${text}: name the role`).not.toBeNull();
        expect(byId.get(reference(text).id)!.publishes?.length, `${stage.id} consumes ${text}, which publishes nothing`).toBeGreaterThan(0);
      }
    }
  });

  it('has no cycle', () => {
    expect(findCycle(stages)).toBeNull();
  });

  it('the cycle check finds one', () => {
    const looped: RawStage[] = [
      { id: 'a', role: 'controller', script: 'x', requires: ['b'] },
      { id: 'b', role: 'compute', script: 'x', requires: ['controller:a'] },
    ];
    expect(findCycle(looped)).toEqual(['a', 'b', 'a']);
  });

  it('every stage has a verify command, a time limit and runs on self or the controller', () => {
    for (const stage of stages) {
      expect(stage.verify?.trim(), stage.id).toBeTruthy();
      expect(stage.timeoutSeconds, stage.id).toBeGreaterThan(0);
      expect(['self', 'controller', undefined], stage.id).toContain(stage.runsOn);
    }
  });

  it('runs in the seed book order per role: common first, then hosts -> packages -> services', () => {
    const ids = stages.map((s) => s.id);
    const before = (a: string, b: string) => expect(ids.indexOf(a), `${a} before ${b}`).toBeLessThan(ids.indexOf(b));
    before('hosts', 'packages');
    before('packages', 'time-sync');
    for (const [a, b] of [['mariadb', 'keystone'], ['keystone', 'glance'], ['glance', 'nova-controller'], ['placement', 'nova-controller'], ['nova-controller', 'neutron-server'], ['neutron-server', 'cinder-controller'], ['swift-rings', 'swift-proxy'], ['nova-compute', 'nova-cell-discovery']] as const) before(a, b);
    expect(byId.get('nova-cell-discovery')!.runsOn).toBe('controller');
    expect(byId.get('swift-storage')!.consumes).toContain('controller:swift-rings');
  });

  it('is accepted by the orchestrator validator', () => {
    const manifest = loadManifest(BOOTSTRAP_DIR);
    expect(manifest.stages.map((s) => s.id)).toEqual(stages.map((s) => s.id));
  });
});
