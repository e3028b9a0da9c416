// The bootstrap stage graph: which stages a node runs, what each waits for (on its own node or on the nodes
// of another role), and which one runs next. Pure: the orchestrator hands in what the store knows.
import { ROLES, type Role } from './types.ts';

export const STAGE_ROLES = ['common', ...ROLES] as const;
export type StageRole = (typeof STAGE_ROLES)[number];

/** `stage-id` (same node) or `role:stage-id` (every node holding that role). */
export type Requirement = { kind: 'local'; stage: string } | { kind: 'remote'; role: Role; stage: string };

export interface StageDefinition {
  id: string;
  role: StageRole;
  /** Template path under bootstrap/. */
  script: string;
  requires: Requirement[];
  verify: string | null;
  timeoutSeconds: number;
  retries: number;
  runsOn: 'self' | 'controller';
  publishes: string[];
  consumes: Extract<Requirement, { kind: 'remote' }>[];
}

export function parseRequirement(text: string): Requirement | null {
  const match = /^(?:([a-z]+):)?([a-z0-9][a-z0-9_.-]*)$/.exec(text.trim());
  if (!match) return null;
  const [, role, stage] = match;
  if (role === undefined) return { kind: 'local', stage: stage! };
  if (!(ROLES as readonly string[]).includes(role)) return null;
  return { kind: 'remote', role: role as Role, stage: stage! };
}

export function formatRequirement(requirement: Requirement): string {
  return requirement.kind === 'local' ? requirement.stage : `${requirement.role}:${requirement.stage}`;
}

/** Every requirement of a stage, consumed stages included (consuming a stage's files implies waiting for it). */
export function allRequirements(stage: StageDefinition): Requirement[] {
  const seen = new Set(stage.requires.map(formatRequirement));
  return [...stage.requires, ...stage.consumes.filter((ref) => !seen.has(formatRequirement(ref)))];
}

/** A stage applies to a node when it is `common` (and the node has a role) or of one of the node's roles. */
export function appliesTo(stage: Pick<StageDefinition, 'role'>, roles: readonly Role[]): boolean {
  return roles.length > 0 && (stage.role === 'common' || roles.includes(stage.role));
}

export function stagesFor(stages: readonly StageDefinition[], roles: readonly Role[]): StageDefinition[] {
  return stages.filter((stage) => appliesTo(stage, roles));
}

/** Problems with the graph, each naming its stage; empty when the manifest is sound. */
export function graphProblems(stages: readonly StageDefinition[]): string[] {
  const problems: string[] = [];
  const byId = new Map<string, StageDefinition>();
  for (const stage of stages) {
    if (byId.has(stage.id)) problems.push(`stage ${stage.id}: the id is used twice`);
    byId.set(stage.id, stage);
  }
  for (const stage of stages) {
    for (const requirement of allRequirements(stage)) {
      const target = byId.get(requirement.stage);
      const text = formatRequirement(requirement);
      if (!target) {
        problems.push(`stage ${stage.id}: requires unknown stage ${text}`);
      } else if (requirement.kind === 'local') {
        if (requirement.stage === stage.id) problems.push(`stage ${stage.id}: requires itself`);
        else if (target.role !== 'common' && target.role !== stage.role) {
          problems.push(`stage ${stage.id}: requires ${text}, a ${target.role} stage, which does not run on every node running ${stage.id} (write ${target.role}:${text})`);
        }
      } else if (target.role !== 'common' && target.role !== requirement.role) {
        problems.push(`stage ${stage.id}: requires ${text}, but ${requirement.stage} is a ${target.role} stage, not a ${requirement.role} one`);
      }
    }
  }
  problems.push(...cycles(stages, byId));
  return problems;
}

function cycles(stages: readonly StageDefinition[], byId: Map<string, StageDefinition>): string[] {
  const state = new Map<string, 'visiting' | 'done'>();
  const found: string[] = [];
  const visit = (id: string, path: string[]): void => {
    if (state.get(id) === 'done') return;
    if (state.get(id) === 'visiting') {
      const loop = [...path.slice(path.indexOf(id)), id];
      found.push(`stage ${id}: requirements form a cycle: ${loop.join(' -> ')}`);
      return;
    }
    const stage = byId.get(id);
    if (!stage) return;
    state.set(id, 'visiting');
    for (const requirement of allRequirements(stage)) visit(requirement.stage, [...path, id]);
    state.set(id, 'done');
  };
  for (const stage of stages) visit(stage.id, []);
  return found;
}

/** What the scheduler knows about one node. `verified`: stages finished and verified in its current generation. */
export interface GraphNode {
  id: number;
  roles: readonly Role[];
  verified: ReadonlySet<string>;
}

export type NextStep =
  | { kind: 'complete' }
  | { kind: 'run'; stage: StageDefinition }
  /** Nothing can run yet; each pending stage and what it waits for. */
  | { kind: 'wait'; waiting: { stage: string; on: string[] }[] }
  /** Nothing can run, and at least one stage waits for a role no node holds. */
  | { kind: 'blocked'; stage: string; missingRoles: Role[] };

/** The cluster as the scheduler sees it in one pass, with the per-role answers memoized (one pass, many nodes). */
export class ClusterView {
  private readonly memo = new Map<string, 'met' | 'pending' | 'no-node'>();
  private readonly holders = new Map<Role, GraphNode[]>();

  constructor(nodes: readonly GraphNode[]) {
    for (const node of nodes) {
      for (const role of node.roles) this.holders.set(role, [...(this.holders.get(role) ?? []), node]);
    }
  }

  holds(role: Role): boolean {
    return (this.holders.get(role)?.length ?? 0) > 0;
  }

  /** Met when every node holding the role has verified the stage; `no-node` when none holds it. */
  remote(requirement: Extract<Requirement, { kind: 'remote' }>): 'met' | 'pending' | 'no-node' {
    const key = formatRequirement(requirement);
    let answer = this.memo.get(key);
    if (!answer) {
      const holders = this.holders.get(requirement.role) ?? [];
      answer = holders.length === 0 ? 'no-node' : holders.every((node) => node.verified.has(requirement.stage)) ? 'met' : 'pending';
      this.memo.set(key, answer);
    }
    return answer;
  }
}

/**
 * The next stage of `node`: the first of its stages, in manifest order, that is not verified and whose
 * requirements are all met. `nodes` holds every node with a role (including `node`).
 */
export function nextStep(stages: readonly StageDefinition[], node: GraphNode, nodes: readonly GraphNode[] | ClusterView): NextStep {
  const cluster = nodes instanceof ClusterView ? nodes : new ClusterView(nodes);
  const pending = stagesFor(stages, node.roles).filter((stage) => !node.verified.has(stage.id));
  if (pending.length === 0) return { kind: 'complete' };
  const waiting: { stage: string; on: string[] }[] = [];
  let blocked: { stage: string; missingRoles: Role[] } | null = null;
  for (const stage of pending) {
    const on: string[] = [];
    const missingRoles: Role[] = [];
    if (stage.runsOn === 'controller' && !cluster.holds('controller')) missingRoles.push('controller');
    for (const requirement of allRequirements(stage)) {
      if (requirement.kind === 'local') {
        if (!node.verified.has(requirement.stage)) on.push(requirement.stage);
        continue;
      }
      const met = cluster.remote(requirement);
      if (met === 'no-node') missingRoles.push(requirement.role);
      if (met !== 'met') on.push(formatRequirement(requirement));
    }
    if (on.length === 0 && missingRoles.length === 0) return { kind: 'run', stage };
    if (missingRoles.length > 0 && !blocked) blocked = { stage: stage.id, missingRoles: [...new Set(missingRoles)] };
    waiting.push({ stage: stage.id, on });
  }
  return blocked ? { kind: 'blocked', ...blocked } : { kind: 'wait', waiting };
}

/** `*` within a path segment, `**` across segments, `?` one character; matched against a relative path. */
export function globToRegExp(glob: string): RegExp {
  let source = '';
  for (let i = 0; i < glob.length; i += 1) {
    const char = glob[i]!;
    if (char === '*' && glob[i + 1] === '*') {
      const slash = glob[i + 2] === '/';
      source += slash ? '(?:.*/)?' : '.*';
      i += slash ? 2 : 1;
    } else if (char === '*') source += '[^/]*';
    else if (char === '?') source += '[^/]';
    else source += char.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}
