// Paging of the Nodes table: the page sizes offered, lenient reading of page numbers from the query (a bad
// value shows the first page), and the links of the paging controls, which keep the filters.
import { DEFAULT_PAGE_SIZE } from '../../services/nodes.ts';

export const PAGE_SIZES = [50, 100, 500, 1000];

export function wholeNumber(value: unknown, min: number, max: number): number | undefined {
  if (typeof value !== 'string' || !/^\d{1,16}$/.test(value)) return undefined;
  const n = Number(value);
  return n >= min && n <= max ? n : undefined;
}

/** Links to the first, previous, next and last pages, keeping the filters. */
export function pagingLinks(filters: { state?: string; role?: string; search: string; limit: number }, page: number, pages: number) {
  const href = (target: number) => {
    const query = new URLSearchParams();
    if (filters.state) query.set('state', filters.state);
    if (filters.role) query.set('role', filters.role);
    if (filters.search) query.set('q', filters.search);
    if (filters.limit !== DEFAULT_PAGE_SIZE) query.set('limit', String(filters.limit));
    if (target > 1) query.set('page', String(target));
    const text = query.toString();
    return text ? `/nodes?${text}` : '/nodes';
  };
  return {
    page,
    pages,
    first: page > 1 ? href(1) : null,
    previous: page > 1 ? href(page - 1) : null,
    next: page < pages ? href(page + 1) : null,
    last: page < pages ? href(pages) : null,
  };
}
