import type { ExportColumn } from '@eventlog/core';
import { type FilterInput, isValidTimeZone } from '@eventlog/core';
import { z } from 'zod';
import { HttpError } from '../../errors.js';
import { queryInt } from '../../params.js';
import { type AnyEventLog, createRouteGroup, type Route } from '../../profile.js';
import { csvResponse } from '../../stream.js';
import { formatCompactDate, formatIsoOffset } from '../zoned-time.js';
import { type UnifiAccessCaller, unifiAuthenticator } from './auth.js';
import type { UnifiAccessOptions } from './index.js';
import { UNIFI_TOPICS, type UnifiTopic } from './preset.js';
import { toHit } from './wire.js';

const MAX_SECONDS = 253_402_300_799; // 9999-12-31T23:59:59Z
const DAY_SECONDS = 86_400;

/** Unix seconds as a JSON integer or a string of digits. */
const seconds = z.preprocess(
  (value) => (typeof value === 'string' && /^\s*\d{1,12}\s*$/.test(value) ? Number(value) : value),
  z
    .number({ error: 'must be Unix seconds (a whole number)' })
    .int('must be whole Unix seconds')
    .min(0, 'must not be negative')
    .max(MAX_SECONDS, 'is too far in the future'),
);

const positiveInt = (max: number) =>
  z.preprocess(
    (value) => (typeof value === 'string' && /^\s*\d{1,9}\s*$/.test(value) ? Number(value) : value === '' ? undefined : value),
    z
      .number({ error: 'must be a whole number' })
      .int('must be a whole number')
      .min(1, 'must be at least 1')
      .max(max, `must be at most ${max}`)
      .optional(),
  );

const topicSchema = z.enum(UNIFI_TOPICS, { error: `must be one of ${UNIFI_TOPICS.join(', ')}` });
const actorIdSchema = z.preprocess(
  (v) => (v === '' ? undefined : v),
  z.string({ error: 'must be text' }).max(128, 'must be at most 128 characters').nullish(),
);

/** Where the product serves its system log. @internal */
export const BASE = '/api/v1/developer/system';

/** The export's columns, with times in the requested zone. */
function exportColumns(zone: string): ExportColumn[] {
  const source = (e: Parameters<typeof toHit>[0]) => toHit(e)._source;
  return [
    { header: 'Time', value: (e) => formatIsoOffset(e.time, zone) },
    { header: 'Event Type', value: (e) => source(e).event.type },
    { header: 'Message', value: (e) => source(e).event.display_message },
    { header: 'Result', value: (e) => source(e).event.result },
    { header: 'Actor', value: (e) => source(e).actor.display_name },
    { header: 'Actor ID', value: (e) => source(e).actor.id },
    { header: 'Actor Type', value: (e) => source(e).actor.type },
    { header: 'Credential Provider', value: (e) => source(e).authentication.credential_provider },
    { header: 'Issuer', value: (e) => source(e).authentication.issuer },
    {
      header: 'Targets',
      value: (e) =>
        source(e)
          .target.map((t) => `${t.type}:${t.display_name || t.id}`)
          .join('; '),
    },
    { header: 'Reason', value: (e) => source(e).event.reason },
    { header: 'Tag', value: (e) => toHit(e).tag },
  ];
}

/** The fetch, export, resource and static routes, authenticated as one group. @internal */
export function unifiRoutes(options: UnifiAccessOptions): readonly Route[] {
  const maxPageSize = options.maxPageSize ?? 1000;
  const defaultPageSize = Math.min(options.defaultPageSize ?? 25, maxPageSize);
  const maxExportDays = options.maxExportDays ?? 31;
  const maxExportRows = options.maxExportRows ?? 100_000;
  const topicCategories = new Map<UnifiTopic, string[]>();
  for (const topic of UNIFI_TOPICS) {
    if (topic !== 'all') topicCategories.set(topic, [...(options.topics?.[topic] ?? [topic])]);
  }
  topicCategories.set('all', [...new Set([...topicCategories.values()].flat())]);

  const viewFor = (log: AnyEventLog, caller: UnifiAccessCaller) => log.view(caller.principal ? { principal: caller.principal } : {});

  const filterOf = (
    topic: UnifiTopic,
    since: number | null | undefined,
    until: number | null | undefined,
    actorId: string | null | undefined,
  ) => {
    const filter: FilterInput = { category: topicCategories.get(topic) ?? [topic] };
    if (since !== undefined && since !== null) filter.since = since * 1000;
    // `until` names the last second included.
    if (until !== undefined && until !== null) filter.until = (until + 1) * 1000;
    if (actorId) filter.actorId = actorId;
    return filter;
  };

  const group = createRouteGroup({ authenticate: unifiAuthenticator(options.authenticate) });

  const exportBody = z
    .object(
      {
        topic: topicSchema,
        since: seconds,
        until: seconds,
        timezone: z
          .string({ error: 'is required (an IANA time zone such as America/New_York)' })
          .max(64, 'must be at most 64 characters')
          .refine(isValidTimeZone, 'is not an IANA time zone'),
        actor_id: actorIdSchema,
      },
      { error: 'body: send a JSON object with topic, since, until and timezone' },
    )
    .refine((b) => b.since <= b.until, { message: 'must not be after until', path: ['since'] });

  group.route({
    method: 'POST',
    path: [`${BASE}/logs/export`, `${BASE}/logs/export/`],
    cost: 'expensive',
    body: exportBody,
    maxBodyBytes: 16 * 1024,
    run: ({ log, auth: caller, body }) => {
      if (body.until - body.since > maxExportDays * DAY_SECONDS) {
        throw new HttpError(
          'BAD_REQUEST',
          `The range from since to until may span at most one month (${maxExportDays} days); export it in parts.`,
        );
      }
      const zone = body.timezone;
      const rows = viewFor(log, caller).exportCsv({
        filter: filterOf(body.topic, body.since, body.until, body.actor_id),
        columns: exportColumns(zone),
        maxRows: maxExportRows,
      });
      const filename = `system_logs_${body.topic}_${formatCompactDate(body.since * 1000, zone)}-${formatCompactDate(body.until * 1000, zone)}.csv`;
      return csvResponse(rows, { filename });
    },
    docs: { summary: 'Export system logs as CSV', contentType: 'text/csv', tags: ['unifi-access'] },
  });

  const fetchBody = z
    .object(
      {
        topic: topicSchema,
        since: seconds.nullish(),
        until: seconds.nullish(),
        actor_id: actorIdSchema,
        // Some clients send paging in the body rather than the query.
        page_size: positiveInt(maxPageSize),
        page_num: positiveInt(1_000_000),
      },
      { error: 'body: send a JSON object with a topic' },
    )
    .refine((b) => b.since == null || b.until == null || b.since <= b.until, { message: 'must not be after until', path: ['since'] });

  group.route({
    method: 'POST',
    path: [`${BASE}/logs`, `${BASE}/logs/`],
    cost: 'expensive',
    query: z.object({
      page_num: queryInt({ min: 1, max: 1_000_000 }),
      page_size: queryInt({ min: 1, max: maxPageSize }),
    }),
    body: fetchBody,
    maxBodyBytes: 16 * 1024,
    run: async ({ log, auth: caller, query, body }) => {
      const page = query.page_num ?? body.page_num ?? 1;
      const pageSize = query.page_size ?? body.page_size ?? defaultPageSize;
      const result = await viewFor(log, caller).query({
        filter: filterOf(body.topic, body.since, body.until, body.actor_id),
        page,
        pageSize,
      });
      const data = { hits: result.items.map(toHit), page: result.page, total: result.total };
      return { code: 'SUCCESS', msg: 'success', data, page: result.page, total: result.total };
    },
    docs: { summary: 'Fetch system logs by topic', tags: ['unifi-access'] },
  });

  group.route({
    method: 'GET',
    path: `${BASE}/logs/resource/:id`,
    params: z.object({
      id: z
        .string()
        .max(255, 'must be at most 255 characters')
        .regex(/^[A-Za-z0-9._-]+$/, 'must be a resource id'),
    }),
    run: async ({ auth: caller, params, request }) => {
      if (!options.resource) {
        throw new HttpError('NOT_FOUND', 'Activity resources are not served by this server.');
      }
      const data = await options.resource(params.id, caller, request);
      if (data === null || data === undefined) throw new HttpError('NOT_FOUND', `No resource ${params.id}.`);
      return { code: 'SUCCESS', msg: 'success', data };
    },
    docs: { summary: 'Fetch the resources of a system log entry', tags: ['unifi-access'] },
  });

  const serveStatic = async (path: string, preview: boolean, caller: UnifiAccessCaller, request: Request): Promise<Response> => {
    // The product's own examples show a stray space after "static/".
    const clean = path.trim();
    const segments = clean.split('/');
    if (clean.length > 1024 || /[\\\0]/.test(clean) || segments.some((s) => s === '..' || s === '.' || s === '')) {
      throw new HttpError('BAD_REQUEST', 'The resource path is not valid.');
    }
    if (!options.staticResource) throw new HttpError('NOT_FOUND', 'Static resources are not served by this server.');
    const found = await options.staticResource({ path: clean, preview, caller, request });
    if (found === null || found === undefined) throw new HttpError('NOT_FOUND', `No static resource ${clean}.`);
    if (found instanceof Response) return found;
    const body = found instanceof Blob ? found : new Blob([found as BlobPart]);
    return new Response(body, { headers: { 'Content-Type': (found instanceof Blob && found.type) || 'application/octet-stream' } });
  };

  group.route({
    method: 'GET',
    path: `${BASE}/static/*path`,
    params: z.object({ path: z.string() }),
    run: ({ auth: caller, params, request }) => serveStatic(params.path, false, caller, request),
    docs: {
      summary: 'Fetch a static resource of the system log (avatar, capture, activities resource)',
      contentType: 'application/octet-stream',
      tags: ['unifi-access'],
    },
  });

  group.route({
    method: 'GET',
    path: `${BASE}/static-preview/*path`,
    params: z.object({ path: z.string() }),
    run: ({ auth: caller, params, request }) => serveStatic(params.path, true, caller, request),
    docs: { summary: 'Fetch a preview image of the system log', contentType: 'application/octet-stream', tags: ['unifi-access'] },
  });

  return group.routes;
}
