import { z } from 'zod';
import { ValidationError, type ValidationIssue } from '../errors.js';
import { SEARCH_COLUMNS, STRING_FIELDS, type StringField } from '../schema/fields.js';
import { issuesOf, safeParseWorded, showValue } from '../schema/messages.js';
import type { Registry } from '../schema/registry.js';
import { normalizeTenantId } from '../schema/tenant.js';
import type { Condition, EventRow } from '../storage/contract.js';

/** One value or a list of values (matched with IN). */
export type OneOrMany<T> = T | readonly T[];

/** Numeric bounds; every bound is optional. */
export interface RangeInput {
  gte?: number;
  gt?: number;
  lte?: number;
  lt?: number;
}

/** A moment: epoch milliseconds, a Date, or an ISO 8601 string. */
export type TimeInput = number | Date | string;

/**
 * What to select. Every given field must match (AND); a list matches any of its values (OR).
 *
 * The parameters narrow it for a log whose presets the compiler knows: `Type` the event type names
 * `type` accepts, `Dimension` and `Metric` the names `dimensions` and `metrics` accept. Each
 * defaults to `string`, which accepts any name (and, for `type`, numbers too, as always).
 *
 * @example
 * ```ts
 * import type { FilterInput } from '@eventlog/core';
 * const open: FilterInput = { type: 'door.unlock', dimensions: { door: 'front' }, since: '2024-01-01' };
 * const typed: FilterInput<'door.unlock', 'door', never> = { type: 'door.unlock', dimensions: { door: 'front' } };
 * console.log(open, typed);
 * ```
 */
export type FilterInput<Type extends string = string, Dimension extends string = string, Metric extends string = string> = {
  [K in Exclude<StringField, 'type'>]?: OneOrMany<string | number>;
} & {
  type?: OneOrMany<Type> | (string extends Type ? OneOrMany<string | number> : never);
  id?: OneOrMany<number>;
  /** Inclusive lower bound of `time`. */
  since?: TimeInput;
  /** Exclusive upper bound of `time`. */
  until?: TimeInput;
  /** Case-insensitive substring of the message, type or action; `%` and `_` match literally. */
  search?: string;
  durationMs?: RangeInput;
  /** Equality on declared dimensions. */
  dimensions?: string extends Dimension ? Record<string, OneOrMany<string | number>> : { [N in Dimension]?: OneOrMany<string | number> };
  /** Ranges on declared metrics. */
  metrics?: string extends Metric ? Record<string, RangeInput> : { [N in Metric]?: RangeInput };
};

/** Largest number of values in one list filter. */
export const MAX_LIST_VALUES = 500;
const MAX_SEARCH = 200;

const scalar = z.union([z.string().max(255), z.number()]);
const oneOrMany = z.union([scalar, z.array(scalar).max(MAX_LIST_VALUES)]);
const finite = z.number();
const rangeSchema = z.strictObject({ gte: finite.optional(), gt: finite.optional(), lte: finite.optional(), lt: finite.optional() });
const timeMessage = (input: unknown) => `expected epoch milliseconds, a Date or an ISO 8601 string, received ${showValue(input)}`;
const timeSchema = z.union(
  [finite, z.date(), z.string().refine((s) => !Number.isNaN(Date.parse(s)), { error: (iss) => timeMessage(iss.input), abort: true })],
  { error: (iss) => (iss.code === 'invalid_union' ? timeMessage(iss.input) : undefined) },
);

const filterSchema = z.strictObject({
  ...Object.fromEntries(STRING_FIELDS.map((f) => [f.field, oneOrMany.optional()])),
  id: z.union([finite, z.array(finite).max(MAX_LIST_VALUES)]).optional(),
  since: timeSchema.optional(),
  until: timeSchema.optional(),
  search: z.string().max(MAX_SEARCH).optional(),
  durationMs: rangeSchema.optional(),
  dimensions: z.record(z.string(), oneOrMany).optional(),
  metrics: z.record(z.string(), rangeSchema).optional(),
});

/**
 * Checks the names in `dimensions` / `metrics` on the input itself, before zod copies it: an own
 * `__proto__` key is lost when copied by assignment, and `{ __proto__: … }` written as a literal
 * sets the prototype instead of a key; either would silently drop the condition and match every row.
 */
function checkNames(
  value: unknown,
  declared: ReadonlyMap<string, unknown>,
  kind: 'dimension' | 'metric',
  path: readonly (string | number)[],
): ValidationIssue[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [];
  const names = [...declared.keys()];
  const list = names.length === 0 ? `none are declared` : names.length > 12 ? `${names.slice(0, 12).join(', ')}, …` : names.join(', ');
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) {
    return [
      { path: [...path], message: `expected a plain object of declared ${kind}s (${list}), received an object with a custom prototype` },
    ];
  }
  const issues: ValidationIssue[] = [];
  for (const name of Object.keys(value)) {
    if (!declared.has(name))
      issues.push({ path: [...path, name], message: `expected a declared ${kind} (${list}), received ${showValue(name)}` });
  }
  return issues;
}

/** Converts a time input to epoch milliseconds. @internal */
export function toEpochMs(value: TimeInput): number {
  if (typeof value === 'number') return value;
  if (value instanceof Date) return value.getTime();
  return Date.parse(value);
}

/**
 * Validates a filter and turns it into store conditions. Unknown dimensions and metrics are
 * rejected with a {@link ValidationError} whose path starts with `path`.
 * @internal
 */
export function normalizeFilter(input: FilterInput | undefined, registry: Registry, path: string[] = ['filter']): Condition[] {
  if (input === undefined) return [];
  const parsed = safeParseWorded(filterSchema, input);
  if (!parsed.success) throw new ValidationError(issuesOf(parsed.error, path));
  const raw = input as { dimensions?: unknown; metrics?: unknown };
  const issues = [
    ...checkNames(raw.dimensions, registry.dimensions, 'dimension', [...path, 'dimensions']),
    ...checkNames(raw.metrics, registry.metrics, 'metric', [...path, 'metrics']),
  ];
  if (issues.length) throw new ValidationError(issues);
  const filter = parsed.data as FilterInput;
  const conditions: Condition[] = [];

  if (filter.id !== undefined) conditions.push(inCondition('id', filter.id));
  for (const f of STRING_FIELDS) {
    const value = filter[f.field];
    if (value !== undefined) {
      const values = listOf(value).map(String);
      conditions.push({ op: 'in', column: f.column, values: f.column === 'tenant_id' ? values.map(normalizeTenantId) : values });
    }
  }
  if (filter.since !== undefined || filter.until !== undefined) {
    const range: { gte?: number; lt?: number } = {};
    if (filter.since !== undefined) range.gte = Math.ceil(toEpochMs(filter.since));
    if (filter.until !== undefined) range.lt = Math.ceil(toEpochMs(filter.until));
    conditions.push({ op: 'range', column: 'time', ...range });
  }
  if (filter.search !== undefined && filter.search.trim() !== '') {
    conditions.push({ op: 'search', columns: SEARCH_COLUMNS, term: filter.search.trim() });
  }
  if (filter.durationMs) pushRange(conditions, 'duration_ms', filter.durationMs);
  for (const [name, value] of Object.entries(filter.dimensions ?? {})) {
    const dimension = registry.dimensions.get(name)!; // checkNames rejected undeclared names
    const values = listOf(value);
    conditions.push({
      op: 'in',
      column: name,
      values: dimension.type === 'integer' ? values.map(Number).filter(Number.isFinite) : values.map(String),
    });
  }
  for (const [name, range] of Object.entries(filter.metrics ?? {})) pushRange(conditions, name, range);
  return conditions;
}

function listOf<T>(value: OneOrMany<T>): T[] {
  return Array.isArray(value) ? [...(value as readonly T[])] : [value as T];
}

function inCondition(column: string, value: OneOrMany<number>): Condition {
  return { op: 'in', column, values: listOf(value) };
}

function pushRange(conditions: Condition[], column: string, range: RangeInput): void {
  const bounds = Object.fromEntries(Object.entries(range).filter(([, v]) => v !== undefined));
  if (Object.keys(bounds).length) conditions.push({ op: 'range', column, ...bounds });
}

/** Whether a list filter can match nothing, so the store need not be asked. @internal */
export function isEmptySelection(conditions: readonly Condition[]): boolean {
  return conditions.some((c) => c.op === 'in' && c.values.length === 0);
}

/** Replaces or adds the time range bounds. @internal */
export function withTimeRange(conditions: readonly Condition[], gte: number | undefined, lt: number | undefined): Condition[] {
  const rest = conditions.filter((c) => !(c.op === 'range' && c.column === 'time'));
  const range: { gte?: number; lt?: number } = {};
  if (gte !== undefined) range.gte = gte;
  if (lt !== undefined) range.lt = lt;
  return gte === undefined && lt === undefined ? rest : [...rest, { op: 'range', column: 'time', ...range }];
}

/** The time bounds of a condition list. @internal */
export function timeBounds(conditions: readonly Condition[]): { gte?: number; lt?: number } {
  let gte: number | undefined;
  let lt: number | undefined;
  for (const c of conditions) {
    if (c.op !== 'range' || c.column !== 'time') continue;
    const lower = c.gte ?? (c.gt === undefined ? undefined : Math.floor(c.gt) + 1);
    const upper = c.lt ?? (c.lte === undefined ? undefined : Math.floor(c.lte) + 1);
    if (lower !== undefined) gte = gte === undefined ? lower : Math.max(gte, lower);
    if (upper !== undefined) lt = lt === undefined ? upper : Math.min(lt, upper);
  }
  const result: { gte?: number; lt?: number } = {};
  if (gte !== undefined) result.gte = gte;
  if (lt !== undefined) result.lt = lt;
  return result;
}

/**
 * Whether a row satisfies every condition, with the semantics the SQL stores give them (exact `in`,
 * inclusive/exclusive ranges, case-insensitive literal search); for stores and subscribers that
 * filter in memory.
 *
 * @example
 * ```ts
 * import { matchesConditions } from '@eventlog/core';
 * matchesConditions({ tenant_id: 't1' }, [{ op: 'in', column: 'tenant_id', values: ['t1'] }]); // true
 * ```
 */
export function matchesConditions(row: EventRow, conditions: readonly Condition[]): boolean {
  for (const c of conditions) {
    if (c.op === 'not') {
      if (matchesConditions(row, c.conditions)) return false;
      continue;
    }
    const value = c.op === 'search' ? null : row[c.column];
    switch (c.op) {
      case 'in':
        if (value === null || value === undefined) return false;
        if (!c.values.some((v) => String(v) === String(value))) return false;
        break;
      case 'notNull':
        if (value === null || value === undefined) return false;
        break;
      case 'range': {
        if (value === null || value === undefined) return false;
        const n = Number(value);
        if (c.gte !== undefined && !(n >= c.gte)) return false;
        if (c.gt !== undefined && !(n > c.gt)) return false;
        if (c.lte !== undefined && !(n <= c.lte)) return false;
        if (c.lt !== undefined && !(n < c.lt)) return false;
        break;
      }
      case 'search': {
        const term = c.term.toLowerCase();
        if (!c.columns.some((col) => typeof row[col] === 'string' && (row[col] as string).toLowerCase().includes(term))) return false;
        break;
      }
    }
  }
  return true;
}
