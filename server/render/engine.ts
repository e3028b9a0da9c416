// The handlebars engine for boot and installer formats: noEscape (these are not HTML: `ip=dhcp` must not
// become `ip&#x3D;dhcp`), strict (a missing field is an error, not an empty string), per-format helpers, and
// templates/snippets/*.hbs as partials (`{{> snippets/late-command}}`). Compiled templates are cached and
// re-read when the file changes, so an operator's edit takes effect without a restart.
import { readFileSync, readdirSync, statSync, existsSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import Handlebars from 'handlebars';
import { templateHelpers } from './helpers.ts';
import { RenderError } from './context.ts';

type Compiled = (context: unknown) => string;

/** Template files are re-checked for changes at most this often (a stat per render would be wasted work). */
const RECHECK_MS = 2000;

interface CacheEntry {
  mtimeMs: number;
  checkedAt: number;
  compiled: Compiled;
}

export class TemplateEngine {
  private readonly handlebars = Handlebars.create();
  private readonly cache = new Map<string, CacheEntry>();
  private partialsStamp = '';
  private partialsCheckedAt = 0;

  constructor(readonly templatesDir: string) {
    for (const [name, helper] of Object.entries(templateHelpers)) this.handlebars.registerHelper(name, helper);
    // A partial's text as a value, for formats that must carry a whole script in one quoted scalar (YAML).
    this.handlebars.registerHelper('partialText', (name: unknown, options: Handlebars.HelperOptions) => {
      const partial = this.handlebars.partials[String(name)];
      if (partial === undefined) throw new RenderError(`partial ${String(name)} does not exist`);
      const compiled = typeof partial === 'string' ? this.handlebars.compile(partial, { noEscape: true, strict: true }) : partial;
      return compiled(options.data.root);
    });
  }

  /** Renders templates/<path> (a path relative to the templates directory) with the given context. */
  render(path: string, context: unknown): string {
    this.refreshPartials();
    const file = this.resolveTemplate(path);
    let entry = this.cache.get(file);
    const now = Date.now();
    if (!entry || now - entry.checkedAt >= RECHECK_MS) {
      let stat;
      try {
        stat = statSync(file);
      } catch {
        throw new RenderError(`template ${path} does not exist under ${this.templatesDir}`);
      }
      if (!entry || entry.mtimeMs !== stat.mtimeMs) {
        entry = { mtimeMs: stat.mtimeMs, checkedAt: now, compiled: this.compile(readFileSync(file, 'utf8'), path) };
        this.cache.set(file, entry);
      }
      entry.checkedAt = now;
    }
    try {
      return entry.compiled(context);
    } catch (error) {
      throw new RenderError(`template ${path}: ${(error as Error).message}`);
    }
  }

  private compile(source: string, path: string): Compiled {
    try {
      const template = this.handlebars.compile(source, { noEscape: true, strict: true });
      return (context) => template(context);
    } catch (error) {
      throw new RenderError(`template ${path} does not compile: ${(error as Error).message}`);
    }
  }

  private resolveTemplate(path: string): string {
    const file = resolve(this.templatesDir, path);
    const inside = relative(this.templatesDir, file);
    if (inside.startsWith('..') || inside.includes(`..${sep}`) || !path.endsWith('.hbs')) {
      throw new RenderError(`template path ${JSON.stringify(path)} is not a .hbs file under templates/`);
    }
    return file;
  }

  /** Registers templates/snippets/*.hbs as partials; re-registers when any of them changed. */
  private refreshPartials(): void {
    const now = Date.now();
    if (now - this.partialsCheckedAt < RECHECK_MS) return;
    this.partialsCheckedAt = now;
    const dir = join(this.templatesDir, 'snippets');
    if (!existsSync(dir)) return;
    const files = readdirSync(dir).filter((name) => name.endsWith('.hbs')).sort();
    const stamps = files.map((name) => `${name}:${statSync(join(dir, name)).mtimeMs}`).join('|');
    if (stamps === this.partialsStamp) return;
    // Registered compiled: a partial registered as a string is compiled again on every use.
    for (const name of files) {
      const source = readFileSync(join(dir, name), 'utf8');
      this.handlebars.registerPartial(`snippets/${name.slice(0, -4)}`, this.handlebars.compile(source, { noEscape: true, strict: true }));
    }
    this.partialsStamp = stamps;
    this.cache.clear();
  }
}

const engines = new Map<string, TemplateEngine>();

export function engineFor(templatesDir: string): TemplateEngine {
  let engine = engines.get(templatesDir);
  if (!engine) {
    engine = new TemplateEngine(templatesDir);
    engines.set(templatesDir, engine);
  }
  return engine;
}
