// Loads and validates bootstrap/manifest.yaml (docs/stage-manifest.md). A bad manifest stops the appliance at
// start with every problem listed, each naming its stage; templates are compiled here so a syntax error is a
// start-up error, not a failed node an hour later.
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, normalize, relative } from 'node:path';
import Handlebars from 'handlebars';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import {
  STAGE_ROLES,
  graphProblems,
  parseRequirement,
  type Requirement,
  type StageDefinition,
} from '../domain/stage-graph.ts';

export class ManifestError extends Error {
  readonly code = 'manifest_error';
}

export interface Manifest {
  path: string;
  bootstrapDir: string;
  stages: StageDefinition[];
  byId: Map<string, StageDefinition>;
}

const stageIdSchema = z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,63}$/, 'stage id must be lower-case letters, digits, dot, underscore or hyphen');

const stageSchema = z
  .object({
    id: stageIdSchema,
    role: z.enum(STAGE_ROLES, { message: `role must be one of ${STAGE_ROLES.join(', ')}` }),
    script: z.string().min(1),
    requires: z.array(z.string()).default([]),
    verify: z.string().nullable().default(null),
    timeoutSeconds: z.number().int().min(1).max(86_400).default(1800),
    retries: z.number().int().min(0).max(10).default(0),
    runsOn: z.enum(['self', 'controller']).default('self'),
    publishes: z.array(z.string().min(1)).default([]),
    consumes: z.array(z.string()).default([]),
  })
  .strict();

const manifestSchema = z.object({ stages: z.array(z.unknown()).min(1, 'the manifest lists no stages') }).strict();

export function manifestPath(bootstrapDir: string): string {
  return join(bootstrapDir, 'manifest.yaml');
}

/** Reads, validates and compiles the manifest; throws ManifestError listing every problem. */
export function loadManifest(bootstrapDir: string, path = manifestPath(bootstrapDir)): Manifest {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ManifestError(`stage manifest ${path}: ${(error as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (error) {
    throw new ManifestError(`stage manifest ${path}: not valid YAML: ${(error as Error).message}`);
  }
  return parseManifest(raw, bootstrapDir, path);
}

export function parseManifest(raw: unknown, bootstrapDir: string, path: string): Manifest {
  const top = manifestSchema.safeParse(raw);
  if (!top.success) throw new ManifestError(`stage manifest ${path}: ${top.error.issues.map((i) => `${i.path.join('.') || '(top level)'}: ${i.message}`).join('; ')}`);
  const problems: string[] = [];
  const stages: StageDefinition[] = [];
  top.data.stages.forEach((entry, index) => {
    const name = typeof entry === 'object' && entry && 'id' in entry ? String((entry as { id: unknown }).id) : `#${index + 1}`;
    const parsed = stageSchema.safeParse(entry);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) problems.push(`stage ${name}: ${issue.path.join('.') || 'entry'}: ${issue.message}`);
      return;
    }
    const stage = toDefinition(parsed.data, problems);
    problems.push(...fileProblems(stage, bootstrapDir));
    stages.push(stage);
  });
  problems.push(...graphProblems(stages));
  if (problems.length > 0) throw new ManifestError(`stage manifest ${path} is invalid:\n  ${problems.join('\n  ')}`);
  return { path, bootstrapDir, stages, byId: new Map(stages.map((stage) => [stage.id, stage])) };
}

function toDefinition(stage: z.infer<typeof stageSchema>, problems: string[]): StageDefinition {
  const requirement = (text: string, field: string): Requirement | null => {
    const parsed = parseRequirement(text);
    if (!parsed) problems.push(`stage ${stage.id}: ${field} ${JSON.stringify(text)} is not 'stage-id' or 'role:stage-id' with a known role`);
    return parsed;
  };
  const consumes: StageDefinition['consumes'] = [];
  for (const text of stage.consumes) {
    const parsed = requirement(text, 'consumes');
    if (parsed && parsed.kind !== 'remote') problems.push(`stage ${stage.id}: consumes ${text}: name the role, as in controller:${text}`);
    else if (parsed) consumes.push(parsed);
  }
  for (const glob of stage.publishes) {
    if (isAbsolute(glob) || glob.split('/').includes('..')) problems.push(`stage ${stage.id}: publishes ${glob}: must be a relative glob under $RACKLIFT_OUT`);
  }
  return {
    ...stage,
    requires: stage.requires.map((text) => requirement(text, 'requires')).filter((r): r is Requirement => r !== null),
    consumes,
  };
}

function fileProblems(stage: StageDefinition, bootstrapDir: string): string[] {
  const full = normalize(join(bootstrapDir, stage.script));
  const inside = relative(bootstrapDir, full);
  if (isAbsolute(stage.script) || inside.startsWith('..')) return [`stage ${stage.id}: script ${stage.script} must be a path under ${bootstrapDir}`];
  if (!existsSync(full)) return [`stage ${stage.id}: script ${stage.script} does not exist (looked for ${full})`];
  const problems: string[] = [];
  const compile = (what: string, source: string) => {
    try {
      Handlebars.parse(source);
    } catch (error) {
      problems.push(`stage ${stage.id}: ${what} is not a valid template: ${(error as Error).message.split('\n')[0]}`);
    }
  };
  compile(`script ${stage.script}`, readFileSync(full, 'utf8'));
  if (stage.verify) compile('verify', stage.verify);
  return problems;
}

export function scriptPath(manifest: Manifest, stage: StageDefinition): string {
  return join(manifest.bootstrapDir, stage.script);
}
