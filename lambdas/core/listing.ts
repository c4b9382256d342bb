/**
 * CCKM list semantics shared by every list operation: filters, `sort=name,-createdAt`,
 * `skip`, `limit`, and the `{skip, limit, total, resources}` envelope. Each list's filters and
 * sortable fields are declared once, in contract/lists.ts.
 */
import type { ListDefinition, ListFilter } from '../contract/lists';
import { ValidationError } from './errors';

export interface ListQuery {
  readonly skip: number;
  readonly limit: number;
  /** Field names, each optionally prefixed with `-` for descending. */
  readonly sort: readonly string[];
}

export interface ListPage<T> {
  readonly skip: number;
  readonly limit: number;
  readonly total: number;
  readonly resources: T[];
}

type Query = Readonly<Record<string, string | undefined>>;

export const DEFAULT_LIMIT = 10;
export const MAX_LIMIT = 1000;

/** Parses `skip`, `limit` and `sort` from query parameters; 400 naming the parameter when bad. */
export function parseListQuery(query: Query, sortable: readonly string[]): ListQuery {
  const int = (name: 'skip' | 'limit', fallback: number, max: number): number => {
    const raw = query[name];
    if (raw === undefined || raw === '') return fallback;
    if (!/^\d+$/.test(raw) || Number(raw) > max) throw new ValidationError(`must be an integer between 0 and ${max}`, name);
    return Number(raw);
  };
  const sort = (query.sort ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  for (const field of sort) {
    const name = field.startsWith('-') ? field.slice(1) : field;
    if (!sortable.includes(name)) throw new ValidationError(`cannot sort by ${JSON.stringify(name)}; sortable fields: ${sortable.join(', ')}`, 'sort');
  }
  return { skip: int('skip', 0, Number.MAX_SAFE_INTEGER), limit: int('limit', DEFAULT_LIMIT, MAX_LIMIT), sort };
}

/** Sorts (stable, multi-column) and pages already-filtered resources. */
export function page<T extends object>(resources: readonly T[], query: ListQuery): ListPage<T> {
  const keys = query.sort.map((f) => (f.startsWith('-') ? { field: f.slice(1), dir: -1 } : { field: f, dir: 1 }));
  const sorted = [...resources].sort((a, b) => {
    for (const { field, dir } of keys) {
      const x = (a as Record<string, unknown>)[field];
      const y = (b as Record<string, unknown>)[field];
      if (x === y) continue;
      if (x === undefined || x === null) return 1;
      if (y === undefined || y === null) return -1;
      return (x < y ? -1 : 1) * dir;
    }
    return 0;
  });
  return { skip: query.skip, limit: query.limit, total: sorted.length, resources: sorted.slice(query.skip, query.skip + query.limit) };
}

/** A list request checked against its list's definition, ready to page resources. */
export interface ParsedList {
  /** The page of `resources` (as the API shows them) that the query asks for. */
  page<T extends object>(resources: readonly T[]): ListPage<T>;
}

/**
 * Checks `query` against the list's definition before anything is read (400 naming the
 * parameter): `skip`/`limit`/`sort` first, then the boolean filters.
 */
export function parseList(query: Query, list: ListDefinition): ParsedList {
  const listQuery = parseListQuery(query, list.sortable);
  const active = Object.entries(list.filters).flatMap(([name, filter]) => {
    const value = filter.type === 'boolean' ? parseBooleanFilter(query, name) : query[name];
    return value === undefined || value === '' ? [] : [{ name, filter, value }];
  });
  return {
    page: (resources) => page(resources.filter((r) => active.every(({ name, filter, value }) => matches(r, name, filter, value))), listQuery),
  };
}

function matches(resource: object, name: string, filter: ListFilter, value: string | boolean): boolean {
  if (filter.linkedOnly) return false;
  const wanted = typeof value === 'string' && filter.aliases !== undefined && Object.hasOwn(filter.aliases, value) ? filter.aliases[value] : value;
  if (filter.constant !== undefined) return wanted === filter.constant;
  return (filter.fields ?? [name]).some((path) => valueAt(resource, path) === wanted);
}

function valueAt(resource: object, path: string): unknown {
  return path.split('.').reduce<unknown>((node, key) => (typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[key] : undefined), resource);
}

/** A list filter on one field: absent (or an empty query parameter) matches everything, otherwise equality. */
export function matchesFilter<T extends string | boolean>(filter: T | undefined, value: T | undefined): boolean {
  return filter === undefined || filter === '' || filter === value;
}

/** Parses a boolean filter (`true`/`false`); 400 naming the parameter otherwise. */
export function parseBooleanFilter(query: Query, name: string): boolean | undefined {
  const raw = query[name];
  if (raw === undefined || raw === '') return undefined;
  if (raw !== 'true' && raw !== 'false') throw new ValidationError('must be true or false', name);
  return raw === 'true';
}
