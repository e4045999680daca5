import { type FilterInput, STRING_FIELDS, type StringField } from '@eventlog/core';
import { z } from 'zod';
import { HttpError } from '../../errors.js';
import { queryList, queryString } from '../../params.js';

/** The core's string fields the native API takes as list filters: every one but the user agent. */
type StringFilter = Exclude<StringField, 'userAgent'>;
const STRING_FILTERS = STRING_FIELDS.map((f) => f.field).filter((f): f is StringFilter => f !== 'userAgent');

const timeParam = z.preprocess(
  (value) => (typeof value === 'string' && value.trim() === '' ? undefined : value),
  z
    .string({ error: 'must be given once' })
    .max(40, 'must be at most 40 characters')
    .refine((v) => /^\d{1,15}$/.test(v) || !Number.isNaN(Date.parse(v)), 'must be epoch milliseconds or an ISO 8601 time')
    .transform((v) => (/^\d+$/.test(v) ? Number(v) : v))
    .meta({ description: 'Epoch milliseconds or an ISO 8601 time.' })
    .optional(),
);

const stringFilterShape = Object.fromEntries(
  STRING_FILTERS.map((name) => [
    name,
    queryList({ max: 255, description: `Only events whose ${name} is one of these (repeat or comma-separate).` }),
  ]),
) as Record<StringFilter, ReturnType<typeof queryList>>;

const filterShape = {
  ...stringFilterShape,
  since: timeParam,
  until: timeParam,
  search: queryString({ max: 200, description: 'Case-insensitive text in the message, type or action; % and _ match literally.' }),
};

const DIMENSION_PARAM = /^dim\.([a-z][a-z0-9_]{0,47})$/;

/** A query schema of the filter parameters plus `extra`. @internal */
export function filterQuery<T extends z.ZodRawShape>(extra: T) {
  // Loose so that `dim.<name>` keys reach the route; anything else unknown is ignored.
  return z.looseObject({ ...filterShape, ...extra });
}

/** The core filter of a parsed filter query. @internal */
export function toFilter(query: Record<string, unknown>): FilterInput {
  const filter: Record<string, unknown> = {};
  for (const name of STRING_FILTERS) if (query[name] !== undefined) filter[name] = query[name];
  for (const name of ['since', 'until', 'search'] as const) if (query[name] !== undefined) filter[name] = query[name];
  const dimensions: Record<string, string[]> = {};
  for (const [key, value] of Object.entries(query)) {
    const match = DIMENSION_PARAM.exec(key);
    if (!match) continue;
    const values = (Array.isArray(value) ? value : [value]).filter((v): v is string => typeof v === 'string' && v !== '');
    if (values.some((v) => v.length > 255))
      throw new HttpError('BAD_REQUEST', `Invalid query parameter "${key}": values must be at most 255 characters.`);
    if (values.length) dimensions[match[1]!] = values;
  }
  if (Object.keys(dimensions).length) filter.dimensions = dimensions;
  return filter as FilterInput;
}

/** An event as the API returns it. @internal */
export const storedEventSchema = z.object({
  id: z.number().int(),
  time: z.number().int().meta({ description: 'Epoch milliseconds.' }),
  type: z.string(),
  category: z.string().nullable(),
  action: z.string().nullable(),
  outcome: z.string().nullable(),
  severity: z.string().nullable(),
  message: z.string().nullable(),
  actor: z.object({ id: z.string().nullable(), type: z.string().nullable(), name: z.string().nullable() }),
  target: z.object({ type: z.string().nullable(), id: z.string().nullable(), name: z.string().nullable() }),
  tenantId: z.string().nullable(),
  ip: z.string().nullable(),
  userAgent: z.string().nullable(),
  sessionId: z.string().nullable(),
  durationMs: z.number().nullable(),
  dimensions: z.record(z.string(), z.union([z.string(), z.number(), z.null()])),
  metrics: z.record(z.string(), z.number().nullable()),
  data: z.unknown().optional(),
});

const text = z.string().nullish();
/** An event as the API accepts it (for the document). @internal */
export const eventInputSchema = z.object({
  type: z.string().min(1).max(128),
  time: z.number().int().optional().meta({ description: 'Epoch milliseconds; defaults to now.' }),
  category: text,
  action: text,
  outcome: text,
  severity: text,
  message: text,
  actor: z.object({ id: z.union([z.string(), z.number()]).nullish(), type: text, name: text }).nullish(),
  target: z.object({ type: text, id: z.union([z.string(), z.number()]).nullish(), name: text }).nullish(),
  tenantId: z.union([z.string(), z.number()]).nullish(),
  ip: text,
  userAgent: text,
  sessionId: text,
  durationMs: z.number().nullish(),
  dimensions: z.record(z.string(), z.union([z.string(), z.number(), z.null()])).optional(),
  metrics: z.record(z.string(), z.number().nullable()).optional(),
  data: z.unknown().optional(),
});

/** The error envelope (for the document). @internal */
export const errorSchema = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    issues: z.array(z.object({ path: z.array(z.union([z.string(), z.number()])), message: z.string() })).optional(),
    events: z
      .array(
        z.object({
          index: z.number().int(),
          issues: z.array(z.object({ path: z.array(z.union([z.string(), z.number()])), message: z.string() })),
        }),
      )
      .optional(),
  }),
});

/** Metric sums. @internal */
export const sumsSchema = z.record(z.string(), z.number());
