// Stage scripts and verify commands are handlebars templates of POSIX sh. No HTML escaping; `sq` quotes for sh.
// Strict mode: a misspelt field (secrets.keystonDb) fails the stage with the template's message instead of
// rendering an empty password. The render context always carries every key, null where a value is absent.
import { readFileSync } from 'node:fs';
import Handlebars from 'handlebars';
import type { StageDefinition } from '../domain/stage-graph.ts';
import { scriptPath, type Manifest } from './manifest.ts';
import type { StageContext } from './context.ts';

/** Single-quotes a value for sh; arrays become several quoted words. */
export function shellQuote(value: unknown): string {
  if (Array.isArray(value)) return value.map(shellQuote).join(' ');
  const text = value === null || value === undefined ? '' : typeof value === 'object' ? JSON.stringify(value) : String(value);
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

const engine = Handlebars.create();
engine.registerHelper('sq', (value: unknown) => shellQuote(value));
engine.registerHelper('json', (value: unknown) => JSON.stringify(value ?? null));

export interface RenderedStage {
  script: string;
  verify: string | null;
}

export class StageRenderer {
  private readonly compiled = new Map<string, HandlebarsTemplateDelegate>();

  constructor(private readonly manifest: Manifest) {}

  render(stage: StageDefinition, context: StageContext): RenderedStage {
    return {
      script: this.template(`script:${stage.id}`, () => readFileSync(scriptPath(this.manifest, stage), 'utf8'))(context),
      verify: stage.verify ? this.template(`verify:${stage.id}`, () => stage.verify!)(context) : null,
    };
  }

  private template(key: string, source: () => string): HandlebarsTemplateDelegate {
    let template = this.compiled.get(key);
    if (!template) {
      template = engine.compile(source(), { noEscape: true, strict: true });
      this.compiled.set(key, template);
    }
    return template;
  }
}
