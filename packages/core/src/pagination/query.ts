import { z } from 'zod';
import { ValidationError } from '../errors.js';
import type { FilterInput } from '../filter/filter.js';
import { CANONICAL_FIELDS } from '../schema/fields.js';
import { PARSE_OPTIONS } from '../schema/messages.js';
import { type Registry, toIssues } from '../schema/registry.js';
import type { SortDirection } from '../storage/contract.js';

/** A sort order: a field (canonical name, dimension or metric) and a direction. */
export interface SortInput {
  field: string;
  /** @default 'desc' */
  direction?: SortDirection;
}

/** Numbered pages with a total. */
export interface PageQueryInput {
  filter?: FilterInput;
  /** @default { field: 'time', direction: 'desc' } */
  sort?: SortInput;
  /** 1-based. @default 1 */
  page?: number;
  /** @default the log's `defaultPageSize` */
  pageSize?: number;
}

/** Keyset pages: pass `nextCursor` back as `cursor` for the next page. */
export interface CursorQueryInput {
  filter?: FilterInput;
  /** Only `time` and `id` can be paged by cursor. @default { field: 'time', direction: 'desc' } */
  sort?: SortInput;
  /** Rows per page. */
  limit: number;
  cursor?: string | null;
}

/** A window by row offset with a total, for APIs that page with limit/offset. */
export interface OffsetQueryInput {
  filter?: FilterInput;
  /** @default { field: 'time', direction: 'desc' } */
  sort?: SortInput;
  /** Rows to skip; at most `limits.maxOffset`. */
  offset: number;
  /** Rows to return. */
  limit: number;
}

/** Any kind of query: `offset` selects offset paging, `limit` or `cursor` keyset paging, otherwise numbered pages. */
export type QueryInput = PageQueryInput | CursorQueryInput | OffsetQueryInput;

/** Limits applied to reads. */
export interface QueryLimits {
  /** @default 50 */
  defaultPageSize: number;
  /** @default 1000 */
  maxPageSize: number;
  /** Highest offset a numbered page may reach; deeper pages must use cursors. @default 100000 */
  maxOffset: number;
}

const querySchema = z.strictObject({
  filter: z.unknown().optional(),
  sort: z.strictObject({ field: z.string().max(64), direction: z.enum(['asc', 'desc']).optional() }).optional(),
  page: z.number().int('must be a whole number').min(1, 'must be at least 1').optional(),
  pageSize: z.number().int('must be a whole number').min(1, 'must be at least 1').optional(),
  limit: z.number().int('must be a whole number').min(1, 'must be at least 1').optional(),
  offset: z.number().int('must be a whole number').min(0, 'must be at least 0').optional(),
  cursor: z.string().nullish(),
});

/** A validated query. @internal */
export type NormalizedQuery =
  | { kind: 'offset'; filter: FilterInput | undefined; column: string; direction: SortDirection; limit: number; offset: number }
  | { kind: 'page'; filter: FilterInput | undefined; column: string; direction: SortDirection; page: number; pageSize: number }
  | {
      kind: 'cursor';
      filter: FilterInput | undefined;
      column: 'time' | 'id';
      direction: SortDirection;
      limit: number;
      cursor: string | null;
    };

/** Validates paging and sorting; the filter is validated separately. @internal */
export function normalizeQuery(input: QueryInput | undefined, registry: Registry, limits: QueryLimits): NormalizedQuery {
  const parsed = querySchema.safeParse(input ?? {}, PARSE_OPTIONS);
  if (!parsed.success) throw new ValidationError(toIssues(parsed.error));
  const q = parsed.data;
  const field = q.sort?.field ?? 'time';
  const direction = q.sort?.direction ?? 'desc';
  const column = sortColumn(field, registry);
  const filter = q.filter as FilterInput | undefined;
  const size = q.limit ?? q.pageSize ?? limits.defaultPageSize;
  if (size > limits.maxPageSize) {
    throw new ValidationError([{ path: [q.limit !== undefined ? 'limit' : 'pageSize'], message: `must be at most ${limits.maxPageSize}` }]);
  }
  if (q.offset !== undefined) {
    if (q.limit === undefined) throw new ValidationError([{ path: ['limit'], message: 'is required with offset' }]);
    if (q.page !== undefined || q.pageSize !== undefined || q.cursor !== undefined) {
      throw new ValidationError([{ path: ['offset'], message: 'cannot be combined with page/pageSize or cursor; use one kind of paging' }]);
    }
    if (q.offset > limits.maxOffset) {
      throw new ValidationError([{ path: ['offset'], message: `must be at most ${limits.maxOffset}; use cursor paging for deep pages` }]);
    }
    return { kind: 'offset', filter, column, direction, limit: size, offset: q.offset };
  }
  if (q.limit !== undefined || q.cursor !== undefined) {
    if (q.page !== undefined || q.pageSize !== undefined) {
      throw new ValidationError([{ path: ['page'], message: 'cannot be combined with limit/cursor; use one kind of paging' }]);
    }
    if (column !== 'time' && column !== 'id') {
      throw new ValidationError([
        { path: ['sort', 'field'], message: 'cursor paging sorts by time or id only; use page/pageSize for other sorts' },
      ]);
    }
    return { kind: 'cursor', filter, column, direction, limit: size, cursor: q.cursor ?? null };
  }
  const page = q.page ?? 1;
  if ((page - 1) * size > limits.maxOffset) {
    throw new ValidationError([{ path: ['page'], message: `reaches past row ${limits.maxOffset}; use cursor paging for deep pages` }]);
  }
  return { kind: 'page', filter, column, direction, page, pageSize: size };
}

/** Resolves a sortable field name to its column, or throws. @internal */
export function sortColumn(field: string, registry: Registry): string {
  const canonical = CANONICAL_FIELDS.find((f) => f.field === field);
  if (canonical?.sortable) return canonical.column;
  if (registry.dimensions.has(field) || registry.metrics.has(field)) return field;
  const allowed = [
    ...CANONICAL_FIELDS.filter((f) => f.sortable).map((f) => f.field),
    ...registry.dimensions.keys(),
    ...registry.metrics.keys(),
  ];
  throw new ValidationError([{ path: ['sort', 'field'], message: `"${field}" is not sortable; use one of ${allowed.join(', ')}` }]);
}
