import {
  BUCKETS,
  type CursorResult,
  type EventInput,
  type FilterInput,
  isEventLogError,
  type Principal,
  ValidationError,
  type ValidationIssue,
} from '@eventlog/core';
import { z } from 'zod';
import { HttpError } from '../errors.js';
import { createOpenApiDocument, mountOpenApiDocument, type OpenApiDocument } from '../openapi.js';
import { queryEnum, queryInt, queryList, queryString } from '../params.js';
import { type AnyEventLog, defineProfile, defineRoute, json, type Profile, type RequestContext, type Route } from '../profile.js';
import { csvResponse, sseResponse } from '../stream.js';

/** Options of {@link native}. */
export interface NativeOptions {
  /** Resolves who is calling from the request; `null` answers 401. Every read goes through `log.scoped(principal)`. */
  authenticate: (request: Request) => Principal | null | Promise<Principal | null>;
  /** Path prefix of every route. @default '/eventlog' */
  prefix?: string;
  /** Whether a principal may record events; users and resellers only write into their own tenants. @default admins only */
  canWrite?: (principal: Principal) => boolean;
  /** Most events in one ingest request. @default 1000 */
  maxBatch?: number;
  /** Largest ingest body in bytes. @default 5242880 */
  maxIngestBytes?: number;
  /** Most rows one CSV export may hold. @default 1000000 */
  maxExportRows?: number;
  /** Keep-alive interval of the live tail. @default 15000 */
  heartbeatMs?: number;
  /** Serve `GET <prefix>/openapi.json` without credentials. @default true */
  publicDocs?: boolean;
  /** Title of the OpenAPI document. @default 'eventlog' */
  title?: string;
  /** Version of the OpenAPI document. @default '1.0.0' */
  version?: string;
}

const STRING_FILTERS = [
  'type',
  'category',
  'action',
  'outcome',
  'severity',
  'actorId',
  'actorType',
  'actorName',
  'targetType',
  'targetId',
  'targetName',
  'tenantId',
  'ip',
  'sessionId',
] as const;

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
) as Record<(typeof STRING_FILTERS)[number], ReturnType<typeof queryList>>;

const filterShape = {
  ...stringFilterShape,
  since: timeParam,
  until: timeParam,
  search: queryString({ max: 200, description: 'Case-insensitive text in the message, type or action; % and _ match literally.' }),
};

const DIMENSION_PARAM = /^dim\.([a-z][a-z0-9_]{0,47})$/;

function filterQuery<T extends z.ZodRawShape>(extra: T) {
  // Loose so that `dim.<name>` keys reach the route; anything else unknown is ignored.
  return z.looseObject({ ...filterShape, ...extra });
}

function toFilter(query: Record<string, unknown>): FilterInput {
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

const storedEventSchema = z.object({
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
const eventInputSchema = z.object({
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

const errorSchema = z.object({
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

const sumsSchema = z.record(z.string(), z.number());

/** The most invalid events one ingest answer lists. */
const MAX_REPORTED = 20;

/**
 * Finds the invalid events of a batch without storing anything: `recordMany` validates in order and
 * stops at the first invalid event, so a batch ending in an event that can never be valid reports
 * either a real problem or, at that last index, that everything before it is valid.
 */
async function findInvalid(log: AnyEventLog, events: readonly unknown[]): Promise<{ index: number; issues: ValidationIssue[] }[]> {
  // A negative time is refused by every version of the core; an empty type is not (see the report).
  const sentinel = { type: 'eventlog.sentinel', time: -1 } as EventInput;
  const remaining = events.map((event, index) => ({ event, index }));
  const invalid: { index: number; issues: ValidationIssue[] }[] = [];
  while (invalid.length < MAX_REPORTED) {
    try {
      await log.recordMany([...remaining.map((r) => r.event as EventInput), sentinel]);
    } catch (error) {
      if (!(error instanceof ValidationError) && !isEventLogError(error, 'VALIDATION_FAILED')) throw error;
      const at = (error as ValidationError).eventIndex;
      if (at === undefined || at >= remaining.length) break;
      const [bad] = remaining.splice(at, 1);
      const issues = (error as ValidationError).issues.map((issue) => ({
        path: issue.path[0] === 'events' && issue.path[1] === at ? issue.path.slice(2) : issue.path,
        message: issue.message,
      }));
      invalid.push({ index: bad!.index, issues });
      continue;
    }
    throw new Error('An ingest validation pass was stored; the core no longer refuses negative times.');
  }
  return invalid;
}

function scopeWrite(principal: Principal, event: Record<string, unknown>, index: number): Record<string, unknown> {
  if (principal.role === 'admin') return event;
  if (principal.role === 'user') return { ...event, tenantId: principal.tenantId ?? principal.id };
  const tenant = event.tenantId === undefined || event.tenantId === null ? undefined : String(event.tenantId);
  if (tenant === undefined && principal.tenantIds.length === 1) return { ...event, tenantId: principal.tenantIds[0] };
  if (tenant === undefined || !principal.tenantIds.includes(tenant)) {
    throw new HttpError('FORBIDDEN', `Event ${index} must name one of your tenants in tenantId.`);
  }
  return event;
}

/**
 * The native JSON API: ingest (single and batch, with per-event validation errors), keyset-paged
 * queries, stats, timelines, top-N, open sessions, streamed CSV export, a server-sent-events live
 * tail and an OpenAPI 3.1 document at `GET <prefix>/openapi.json`. Errors are
 * `{ error: { code, message, issues? } }` with the status of `HTTP_STATUS`.
 *
 * @example
 * ```ts
 * import { createEventLog } from '@eventlog/core';
 * import { createSqliteStore } from '@eventlog/adapters/sqlite';
 * import { bearerToken, createHandler, native, safeEqual } from '@eventlog/http';
 *
 * const log = createEventLog({ store: createSqliteStore() });
 * const handler = createHandler({
 *   log,
 *   profiles: [native({ authenticate: (request) => (safeEqual(bearerToken(request) ?? '', 'admin-token') ? { role: 'admin' } : null) })],
 * });
 * ```
 */
export function native(options: NativeOptions): Profile {
  const prefix = (options.prefix ?? '/eventlog').replace(/\/+$/, '');
  const maxBatch = options.maxBatch ?? 1000;
  const canWrite = options.canWrite ?? ((p: Principal) => p.role === 'admin');
  const maxExportRows = options.maxExportRows ?? 1_000_000;
  const auth = async ({ request }: RequestContext): Promise<Principal> => {
    const principal = await options.authenticate(request);
    if (!principal) {
      throw new HttpError('UNAUTHORIZED', 'Missing or invalid credentials.', { headers: { 'WWW-Authenticate': 'Bearer' } });
    }
    return principal;
  };
  const reader = (log: AnyEventLog, principal: Principal) => (principal.role === 'admin' ? log : log.scoped(principal));

  const ingest = defineRoute({
    method: 'POST',
    path: `${prefix}/events`,
    auth,
    body: z.unknown(),
    maxBodyBytes: options.maxIngestBytes ?? 5 * 1_048_576,
    run: async ({ log, auth: principal, body }) => {
      if (!canWrite(principal)) throw new HttpError('FORBIDDEN', 'These credentials may read but not record events.');
      const isObject = typeof body === 'object' && body !== null && !Array.isArray(body);
      const batch = Array.isArray(body)
        ? body
        : isObject && Array.isArray((body as { events?: unknown }).events)
          ? (body as { events: unknown[] }).events
          : null;
      if (!batch && !isObject) throw new HttpError('BAD_REQUEST', 'Send one event object, an array of events, or { "events": [...] }.');
      const events = (batch ?? [body]) as unknown[];
      if (events.length === 0) throw new HttpError('BAD_REQUEST', 'The batch is empty; send at least one event.');
      if (events.length > maxBatch) throw new HttpError('PAYLOAD_TOO_LARGE', `Send at most ${maxBatch} events per request.`);
      const scoped = events.map((event, index) =>
        typeof event === 'object' && event !== null && !Array.isArray(event)
          ? scopeWrite(principal, event as Record<string, unknown>, index)
          : event,
      );
      const invalid = await findInvalid(log, scoped);
      if (invalid.length) {
        const more = invalid.length >= MAX_REPORTED ? ' (only the first ones are listed)' : '';
        return json(
          {
            error: {
              code: 'VALIDATION_FAILED',
              message: `${invalid.length} of ${events.length} events are invalid${more}; nothing was stored.`,
              events: invalid,
            },
          },
          400,
        );
      }
      const stored = batch ? await log.recordMany(scoped as EventInput[]) : [await log.record(scoped[0] as EventInput)];
      return json({ data: batch ? stored : stored[0] }, 201);
    },
    docs: {
      summary: 'Record one event or a batch',
      description:
        'A batch is all-or-nothing: when any event is invalid nothing is stored and the answer lists each invalid event by index.',
      request: z.union([eventInputSchema, z.array(eventInputSchema), z.object({ events: z.array(eventInputSchema) })]),
      response: z.object({ data: z.union([storedEventSchema, z.array(storedEventSchema)]) }),
      status: 201,
      tags: ['events'],
    },
  });

  const list = defineRoute({
    method: 'GET',
    path: `${prefix}/events`,
    auth,
    query: filterQuery({
      limit: queryInt({ min: 1, max: 1000, default: 50, description: 'Events per page.' }),
      cursor: queryString({ max: 512, description: 'The nextCursor of the previous page.' }),
      sort: queryEnum(['time', 'id'], 'Sort field.'),
      order: queryEnum(['asc', 'desc'], 'Sort direction; newest first by default.'),
    }),
    run: async ({ log, auth: principal, query }) => {
      const result = (await reader(log, principal).query({
        filter: toFilter(query),
        limit: query.limit,
        cursor: query.cursor ?? null,
        sort: { field: query.sort ?? 'time', direction: query.order ?? 'desc' },
      })) as CursorResult;
      return { data: result.items, nextCursor: result.nextCursor };
    },
    docs: {
      summary: 'List events, newest first, with keyset paging',
      description:
        'Filter on any canonical field (repeat a parameter or comma-separate values for OR), on declared dimensions with `dim.<name>=value`, by time with since/until, or by text with search.',
      response: z.object({ data: z.array(storedEventSchema), nextCursor: z.string().nullable() }),
      tags: ['events'],
    },
  });

  const getOne = defineRoute({
    method: 'GET',
    path: `${prefix}/events/:id`,
    auth,
    params: z.object({ id: queryInt({ min: 1, description: 'Event id.' }).pipe(z.number({ error: 'is required' })) }),
    run: async ({ log, auth: principal, params }) => {
      const event = await reader(log, principal).get(params.id);
      if (!event) throw new HttpError('NOT_FOUND', `No event ${params.id}.`);
      return { data: event };
    },
    docs: { summary: 'One event by id', response: z.object({ data: storedEventSchema }), tags: ['events'] },
  });

  const stats = defineRoute({
    method: 'GET',
    path: `${prefix}/stats`,
    auth,
    query: filterQuery({}),
    run: async ({ log, auth: principal, query }) => ({ data: await reader(log, principal).stats(toFilter(query)) }),
    docs: {
      summary: 'Count, metric sums, and requests/tokens in the last minute',
      response: z.object({ data: z.object({ count: z.number().int(), sums: sumsSchema, rpm: z.number().int(), tpm: z.number() }) }),
      tags: ['stats'],
    },
  });

  const timeline = defineRoute({
    method: 'GET',
    path: `${prefix}/timeline`,
    auth,
    query: filterQuery({
      bucket: queryEnum(BUCKETS, 'Bucket size.'),
      timeZone: queryString({ max: 64, description: 'IANA time zone of the buckets; UTC by default.' }),
      metrics: queryList({ max: 48, maxItems: 20, description: 'Metrics to sum per bucket.' }),
    }),
    run: async ({ log, auth: principal, query }) => ({
      data: await reader(log, principal).timeline({
        filter: toFilter(query),
        ...(query.bucket ? { bucket: query.bucket } : {}),
        ...(query.timeZone ? { timeZone: query.timeZone } : {}),
        ...(query.metrics ? { metrics: query.metrics } : {}),
      }),
    }),
    docs: {
      summary: 'Counts (and metric sums) per minute, hour or day',
      response: z.object({
        data: z.object({
          bucket: z.enum(BUCKETS),
          timeZone: z.string(),
          points: z.array(
            z.object({ start: z.number().int(), end: z.number().int(), label: z.string(), count: z.number().int(), sums: sumsSchema }),
          ),
        }),
      }),
      tags: ['stats'],
    },
  });

  const top = defineRoute({
    method: 'GET',
    path: `${prefix}/top`,
    auth,
    query: filterQuery({
      by: queryString({ max: 48, description: 'A canonical field (e.g. ip, actorId) or a declared dimension.' }).pipe(
        z.string({ error: 'is required' }),
      ),
      limit: queryInt({ min: 1, max: 1000, default: 10, description: 'Rows to return.' }),
      orderBy: queryString({ max: 48, description: '"count" or a declared metric.' }),
    }),
    run: async ({ log, auth: principal, query }) => ({
      data: await reader(log, principal).top({
        by: query.by,
        limit: query.limit,
        filter: toFilter(query),
        ...(query.orderBy ? { orderBy: query.orderBy } : {}),
      }),
    }),
    docs: {
      summary: 'The most frequent values of a field',
      response: z.object({
        data: z.array(z.object({ value: z.union([z.string(), z.number()]), count: z.number().int(), sums: sumsSchema })),
      }),
      tags: ['stats'],
    },
  });

  const sessions = defineRoute({
    method: 'GET',
    path: `${prefix}/sessions`,
    auth,
    query: z.object({
      type: queryList(),
      actorId: queryList(),
      targetType: queryList(),
      targetId: queryList(),
      tenantId: queryList(),
      limit: queryInt({ min: 1, max: 1000, default: 100, description: 'Sessions per page.' }),
      offset: queryInt({ min: 0, max: 100_000, default: 0, description: 'Sessions to skip.' }),
    }),
    run: async ({ log, auth: principal, query }) => {
      const { limit, offset, ...rest } = query;
      const filter = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined));
      return { data: await reader(log, principal).sessions.list({ filter, limit, offset }) };
    },
    docs: {
      summary: 'Open sessions (connections, DJs, mounts), oldest first',
      response: z.object({
        data: z.array(
          z.object({
            sessionId: z.string(),
            type: z.string(),
            startedAt: z.number().int(),
            durationMs: z.number(),
            event: storedEventSchema,
          }),
        ),
      }),
      tags: ['sessions'],
    },
  });

  const exportCsv = defineRoute({
    method: 'GET',
    path: `${prefix}/export.csv`,
    auth,
    query: filterQuery({
      timeZone: queryString({ max: 64, description: 'IANA time zone of the time column; UTC by default.' }),
      columns: queryList({ max: 48, maxItems: 100, description: 'Columns to export; canonical fields, dimensions, metrics or data.' }),
      order: queryEnum(['asc', 'desc'], 'Row order; newest first by default.'),
      maxRows: queryInt({ min: 1, max: maxExportRows, description: 'Stop after this many rows.' }),
    }),
    run: ({ log, auth: principal, query }) =>
      csvResponse(
        reader(log, principal).exportCsv({
          filter: toFilter(query),
          maxRows: query.maxRows ?? maxExportRows,
          ...(query.timeZone ? { timeZone: query.timeZone } : {}),
          ...(query.columns ? { columns: query.columns } : {}),
          ...(query.order ? { order: query.order } : {}),
        }),
        { filename: 'events.csv' },
      ),
    docs: { summary: 'Export matching events as CSV (streamed)', contentType: 'text/csv', tags: ['export'] },
  });

  const tail = defineRoute({
    method: 'GET',
    path: `${prefix}/tail`,
    auth,
    query: filterQuery({}),
    run: ({ log, auth: principal, query, signal }) => {
      const filter = toFilter(query);
      const view = reader(log, principal);
      // Subscribing validates the filter, so a bad one is answered 400 before the stream starts.
      view.subscribe(filter, () => undefined)();
      return sseResponse((send) => view.subscribe(filter, send), {
        signal,
        ...(options.heartbeatMs ? { heartbeatMs: options.heartbeatMs } : {}),
      });
    },
    docs: { summary: 'Live tail of newly stored events (server-sent events)', contentType: 'text/event-stream', tags: ['events'] },
  });

  const routes: Route[] = [ingest, list, getOne, stats, timeline, top, sessions, exportCsv, tail];
  let document: OpenApiDocument | undefined;
  const openapi = defineRoute({
    method: 'GET',
    path: `${prefix}/openapi.json`,
    ...(options.publicDocs === false ? { auth } : {}),
    run: ({ basePath, url }) => {
      document ??= createOpenApiDocument(routes, {
        title: options.title ?? 'eventlog',
        version: options.version ?? '1.0.0',
        description: 'Record, query, aggregate, export and tail events.',
        errorSchema,
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      });
      return mountOpenApiDocument(document, { basePath, origin: url.origin });
    },
    docs: { summary: 'This document', secured: options.publicDocs === false },
  });
  routes.push(openapi);

  return defineProfile({
    name: 'native',
    prefixes: [prefix],
    routes,
    success: (data) => json(data),
    failure: (error) =>
      json(
        {
          error: {
            code: error.code,
            message: error.message,
            ...(error.issues.length ? { issues: error.issues.map((i) => ({ path: i.path, message: i.message })) } : {}),
          },
        },
        error.status,
      ),
  });
}
