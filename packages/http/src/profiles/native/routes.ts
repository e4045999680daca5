import { BUCKETS, type CursorResult, type EventInput, type Principal } from '@eventlog/core';
import { z } from 'zod';
import { HttpError } from '../../errors.js';
import { queryEnum, queryInt, queryList, queryString } from '../../params.js';
import { json, type RouteGroup } from '../../profile.js';
import { csvResponse, sseResponse } from '../../stream.js';
import { countingCsv, recordExported } from './audit.js';
import { grantOf, nativeView } from './auth.js';
import type { NativeOptions } from './index.js';
import { addJobRoutes } from './jobs.js';
import { eventInputSchema, filterQuery, storedEventSchema, sumsSchema, toFilter } from './schemas.js';
import { addVerifyRoutes } from './verify.js';
import { addViewerRoutes } from './viewer-routes.js';

/** The most invalid events one ingest answer lists. */
const MAX_REPORTED = 20;

/** Adds the ingest, query, aggregate, session, export and tail routes to the authenticated group. @internal */
export function addNativeRoutes(options: NativeOptions, prefix: string, group: RouteGroup<Principal>): void {
  const maxBatch = options.maxBatch ?? 1000;
  const canWrite = options.canWrite ?? ((p: Principal) => p.role === 'admin');
  const maxExportRows = options.maxExportRows ?? 1_000_000;
  // Every read and write goes through the principal's view: the core scopes it to the principal's
  // tenants and to its grant's fixed filter.
  const view = nativeView;

  group.route({
    method: 'POST',
    path: `${prefix}/events`,
    body: z.unknown(),
    maxBodyBytes: options.maxIngestBytes ?? 5 * 1_048_576,
    run: async ({ log, auth: principal, body }) => {
      if (grantOf(principal).readOnly || !canWrite(principal)) {
        throw new HttpError('FORBIDDEN', 'These credentials may read but not record events.');
      }
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
      const writer = view(log, principal);
      // The wire lists each event's issues relative to that event, as it always has.
      const invalid = writer.validate(events).map(({ index, issues }) => ({
        index,
        issues: issues.map((issue) => ({
          path: issue.path[0] === 'events' && issue.path[1] === index ? issue.path.slice(2) : issue.path,
          message: issue.message,
        })),
      }));
      if (invalid.length) {
        const more = invalid.length > MAX_REPORTED ? ' (only the first ones are listed)' : '';
        return json(
          {
            error: {
              code: 'VALIDATION_FAILED',
              message: `${invalid.length} of ${events.length} events are invalid${more}; nothing was stored.`,
              events: invalid.slice(0, MAX_REPORTED),
            },
          },
          400,
        );
      }
      const stored = batch ? await writer.recordMany(events as EventInput[]) : [await writer.record(events[0] as EventInput)];
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

  group.route({
    method: 'GET',
    path: `${prefix}/events`,
    query: filterQuery({
      limit: queryInt({ min: 1, max: 1000, default: 50, description: 'Events per page.' }),
      cursor: queryString({ max: 512, description: 'The nextCursor of the previous page.' }),
      sort: queryEnum(['time', 'id'], 'Sort field.'),
      order: queryEnum(['asc', 'desc'], 'Sort direction; newest first by default.'),
    }),
    run: async ({ log, auth: principal, query }) => {
      const result = (await view(log, principal).query({
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

  group.route({
    method: 'GET',
    path: `${prefix}/events/:id`,
    params: z.object({ id: queryInt({ min: 1, description: 'Event id.' }).pipe(z.number({ error: 'is required' })) }),
    run: async ({ log, auth: principal, params }) => {
      const event = await view(log, principal).get(params.id);
      if (!event) throw new HttpError('NOT_FOUND', `No event ${params.id}.`);
      return { data: event };
    },
    docs: { summary: 'One event by id', response: z.object({ data: storedEventSchema }), tags: ['events'] },
  });

  group.route({
    method: 'GET',
    path: `${prefix}/stats`,
    cost: 'expensive',
    query: filterQuery({}),
    run: async ({ log, auth: principal, query }) => ({ data: await view(log, principal).stats(toFilter(query)) }),
    docs: {
      summary: 'Count, metric sums, and requests/tokens in the last minute',
      response: z.object({ data: z.object({ count: z.number().int(), sums: sumsSchema, rpm: z.number().int(), tpm: z.number() }) }),
      tags: ['stats'],
    },
  });

  group.route({
    method: 'GET',
    path: `${prefix}/timeline`,
    cost: 'expensive',
    query: filterQuery({
      bucket: queryEnum(BUCKETS, 'Bucket size.'),
      timeZone: queryString({ max: 64, description: 'IANA time zone of the buckets; UTC by default.' }),
      metrics: queryList({ max: 48, maxItems: 20, description: 'Metrics to sum per bucket.' }),
    }),
    run: async ({ log, auth: principal, query }) => ({
      data: await view(log, principal).timeline({
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

  group.route({
    method: 'GET',
    path: `${prefix}/top`,
    cost: 'expensive',
    query: filterQuery({
      by: queryString({ max: 48, description: 'A canonical field (e.g. ip, actorId) or a declared dimension.' }).pipe(
        z.string({ error: 'is required' }),
      ),
      limit: queryInt({ min: 1, max: 1000, default: 10, description: 'Rows to return.' }),
      orderBy: queryString({ max: 48, description: '"count" or a declared metric.' }),
    }),
    run: async ({ log, auth: principal, query }) => ({
      data: await view(log, principal).top({
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

  group.route({
    method: 'GET',
    path: `${prefix}/sessions`,
    query: z.object({
      type: queryList(),
      actorId: queryList(),
      targetType: queryList(),
      targetId: queryList(),
      tenantId: queryList(),
      limit: queryInt({ min: 1, max: 1000, default: 100, description: 'Sessions per page.' }),
      offset: queryInt({ min: 0, default: 0, description: "Sessions to skip, up to the log's limits.maxOffset." }),
    }),
    run: async ({ log, auth: principal, query }) => {
      const { limit, offset, ...rest } = query;
      const filter = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined));
      return { data: await view(log, principal).sessions.list({ filter, limit, offset }) };
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

  group.route({
    method: 'GET',
    path: `${prefix}/export.csv`,
    cost: 'expensive',
    query: filterQuery({
      timeZone: queryString({ max: 64, description: 'IANA time zone of the time column; UTC by default.' }),
      columns: queryList({ max: 48, maxItems: 100, description: 'Columns to export; canonical fields, dimensions, metrics or data.' }),
      order: queryEnum(['asc', 'desc'], 'Row order; newest first by default.'),
      maxRows: queryInt({ min: 1, max: maxExportRows, description: 'Stop after this many rows.' }),
    }),
    run: ({ log, auth: principal, query }) => {
      const filter = toFilter(query);
      const chunks = view(log, principal).exportCsv({
        filter,
        maxRows: query.maxRows ?? maxExportRows,
        ...(query.timeZone ? { timeZone: query.timeZone } : {}),
        ...(query.columns ? { columns: query.columns } : {}),
        ...(query.order ? { order: query.order } : {}),
      });
      const audited = countingCsv(chunks, true, (rows, completed) => {
        void recordExported(log, principal, grantOf(principal), filter, rows, completed);
      });
      return csvResponse(audited, { filename: 'events.csv' });
    },
    docs: {
      summary: 'Export matching events as CSV (streamed)',
      description: 'Each export is recorded as an `eventlog.exported` event with the principal, the filter and the row count.',
      contentType: 'text/csv',
      tags: ['export'],
    },
  });

  group.route({
    method: 'GET',
    path: `${prefix}/tail`,
    query: filterQuery({}),
    run: ({ log, auth: principal, query, signal }) => {
      const filter = toFilter(query);
      const reader = view(log, principal);
      // Subscribing validates the filter, so a bad one is answered 400 before the stream starts.
      reader.subscribe(filter, () => undefined)();
      // A stream opened with an expiring credential ends when the credential does.
      const { expiresAt } = grantOf(principal);
      const until = expiresAt === null ? signal : AbortSignal.any([signal, AbortSignal.timeout(Math.max(0, expiresAt - Date.now()))]);
      return sseResponse((send) => reader.subscribe(filter, send), {
        signal: until,
        ...(options.heartbeatMs ? { heartbeatMs: options.heartbeatMs } : {}),
      });
    },
    docs: {
      summary: 'Live tail of newly stored events (server-sent events)',
      description:
        'Read it with fetch() and a streamed body to send `Authorization: Bearer …` (EventSource cannot send headers; tokens are never read from the query string). The stream ends when an expiring credential does.',
      contentType: 'text/event-stream',
      tags: ['events'],
    },
  });

  addViewerRoutes(prefix, group);
  addVerifyRoutes(prefix, group);
  addJobRoutes(prefix, group);
}
