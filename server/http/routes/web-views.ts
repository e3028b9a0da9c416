// Server-rendered pages: handlebars views under web/views, compiled once at start, wrapped in layout.hbs.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import Handlebars from 'handlebars';
import type { Response } from 'express';
import { mayAccess } from '../../domain/user-roles.ts';
import { currentUser } from '../auth/middleware.ts';

export interface Views {
  render(res: Response, view: string, data: Record<string, unknown>, status?: number): void;
}

/** ISO time as `YYYY-MM-DD HH:MM:SS` (UTC), the form every page and the live script use. */
export function shortTime(value: unknown): string {
  return typeof value === 'string' && value.length >= 19 ? `${value.slice(0, 10)} ${value.slice(11, 19)}` : '';
}

function helpers(hbs: typeof Handlebars): void {
  hbs.registerHelper('eq', (a: unknown, b: unknown) => a === b);
  hbs.registerHelper('includes', (list: unknown, value: unknown) => Array.isArray(list) && list.includes(value));
  hbs.registerHelper('join', (list: unknown, separator: unknown) => (Array.isArray(list) ? list.join(typeof separator === 'string' ? separator : ', ') : ''));
  hbs.registerHelper('time', shortTime);
  hbs.registerHelper('or', (...args: unknown[]) => args.slice(0, -1).find(Boolean) ?? args.at(-2));
}

export function loadViews(webDir: string): Views {
  const hbs = Handlebars.create();
  helpers(hbs);
  const dir = join(webDir, 'views');
  const partials = join(dir, 'partials');
  if (existsSync(partials)) {
    for (const file of readdirSync(partials).filter((f) => f.endsWith('.hbs'))) {
      hbs.registerPartial(basename(file, '.hbs'), readFileSync(join(partials, file), 'utf8'));
    }
  }
  const templates = new Map<string, Handlebars.TemplateDelegate>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.hbs'))) {
    templates.set(basename(file, '.hbs'), hbs.compile(readFileSync(join(dir, file), 'utf8'), { strict: false }));
  }
  const layout = templates.get('layout');
  if (!layout) throw new Error(`${dir}/layout.hbs is missing`);

  return {
    render(res, view, data, status = 200) {
      const template = templates.get(view);
      if (!template) throw new Error(`no view ${view}.hbs in ${dir}`);
      const user = currentUser(res);
      const page = { ...data, user: user ? { username: user.username, role: user.role, canOperate: mayAccess(user.role, 'operate'), isAdmin: mayAccess(user.role, 'admin') } : null, csrfToken: user?.csrfToken ?? data.csrfToken ?? '' };
      const body = template(page);
      res.status(status).type('html').set('Cache-Control', 'no-store').send(layout({ ...page, body }));
    },
  };
}
