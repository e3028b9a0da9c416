// Pages of the nodes table: filters (state, role, a search over MAC, hostname and management address) and
// the page window (limit, a keyset cursor `after` = the last id seen, an offset) are SQL, so a page reads the
// rows it returns plus a count, never the whole table into memory. One prepared statement per filter shape.
import type { Statement } from 'better-sqlite3';
import type { Db } from './db.ts';
import type { NodeState, Role } from '../domain/types.ts';
import type { NodeRow } from './nodes.ts';

export interface NodeQuery {
  state?: NodeState;
  role?: Role;
  /** Part of a MAC (any case, `-` or `:`), a hostname or a management address. */
  search?: string;
}

export interface PageWindow {
  limit: number;
  /** Only nodes with a larger id (the `next` of the previous page). */
  after?: number;
  /** Nodes to skip (after the cursor, if there is one). */
  offset?: number;
}

export interface NodePage<T> {
  nodes: T[];
  /** Nodes matching the query, whatever the window. */
  total: number;
  /** The cursor of the following page (`after`), or null on the last page. */
  next: number | null;
}

interface Parameters {
  state?: string;
  role?: string;
  search?: string;
  macSearch?: string;
  after?: number;
  limit?: number;
  offset?: number;
}

/** A LIKE pattern matching `text` anywhere, with LIKE's own wildcards taken literally. */
function containing(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

export class NodePages {
  private readonly statements = new Map<string, Statement>();
  private readonly byState;

  constructor(private readonly db: Db) {
    this.byState = db.prepare<[], { state: NodeState; n: number }>('SELECT state, COUNT(*) AS n FROM nodes GROUP BY state');
  }

  page(query: NodeQuery, window: PageWindow): { rows: NodeRow[]; total: number; next: number | null } {
    const params: Parameters = {};
    const where: string[] = [];
    if (query.state) {
      where.push('state = @state');
      params.state = query.state;
    }
    if (query.role) {
      // Roles are a JSON array of known names: the quoted name matches exactly that element.
      where.push(`instr(roles, @role) > 0`);
      params.role = JSON.stringify(query.role);
    }
    const search = query.search?.trim();
    if (search) {
      where.push(`(mac LIKE @macSearch ESCAPE '\\' OR hostname LIKE @search ESCAPE '\\' OR management_address LIKE @search ESCAPE '\\')`);
      params.search = containing(search);
      params.macSearch = containing(search.toLowerCase().replace(/-/g, ':'));
    }
    const filter = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const total = (this.statement(`SELECT COUNT(*) AS n FROM nodes ${filter}`).get(params) as { n: number }).n;

    const windowWhere = [...where];
    if (window.after !== undefined) windowWhere.push('id > @after');
    const sql = `SELECT * FROM nodes ${windowWhere.length ? `WHERE ${windowWhere.join(' AND ')}` : ''} ORDER BY id LIMIT @limit OFFSET @offset`;
    // One row more than asked says whether there is a following page.
    const rows = this.statement(sql).all({ ...params, ...(window.after !== undefined ? { after: window.after } : {}), limit: window.limit + 1, offset: window.offset ?? 0 }) as NodeRow[];
    const more = rows.length > window.limit;
    if (more) rows.pop();
    return { rows, total, next: more ? rows.at(-1)!.id : null };
  }

  countByState(): Map<NodeState, number> {
    return new Map(this.byState.all().map((row) => [row.state, row.n]));
  }

  private statement(sql: string): Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }
}
