import {
  type CursorResult,
  csvCell,
  defineEventType,
  definePreset,
  type EventLog,
  type EventLogReader,
  type FilterInput,
  isValidTimeZone,
  type Principal,
  type StoredEvent,
} from '@eventlog/core';
import { z } from 'zod';
import { bearerToken, secretTable } from '../auth.js';
import { type AnyErrorCode, HttpError, type HttpErrorOptions } from '../errors.js';
import { queryInt } from '../params.js';
import { defineProfile, defineRoute, json, type Profile, type RequestContext } from '../profile.js';
import { csvResponse } from '../stream.js';
import { formatCompactDate, formatIsoOffset } from './zoned-time.js';

/**
 * The topics of UniFi Access's system log, as sent in `topic`.
 *
 * @example
 * ```ts
 * import { UNIFI_TOPICS } from '@eventlog/http';
 * UNIFI_TOPICS.includes('door_openings'); // true
 * ```
 */
export const UNIFI_TOPICS = ['all', 'door_openings', 'critical', 'updates', 'device_events', 'admin_activity', 'visitor'] as const;

/** One of {@link UNIFI_TOPICS}. */
export type UnifiTopic = (typeof UNIFI_TOPICS)[number];

/**
 * The permission key every endpoint of the profile requires from callers that list permissions.
 *
 * @example
 * ```ts
 * import { UNIFI_LOG_PERMISSION, unifiAccessTokens } from '@eventlog/http';
 * const authenticate = unifiAccessTokens([{ token: 'secret', permissions: [UNIFI_LOG_PERMISSION] }]);
 * ```
 */
export const UNIFI_LOG_PERMISSION = 'view:system_log';

const TEXT = z.string().max(255);
const targetSchema = z.object({
  type: z.string().max(64),
  id: z.string().max(255),
  display_name: TEXT.optional(),
  alternate_id: TEXT.optional(),
  alternate_name: TEXT.optional(),
});

/**
 * The `data` payload of UniFi Access events: the actor's extra identity fields, the
 * authentication (credential provider and issuer), the list of targets, a reason and a tag.
 * Actor id/type/display name, message, result and time live in the canonical event fields.
 *
 * @example
 * ```ts
 * import { unifiEventDataSchema } from '@eventlog/http';
 * unifiEventDataSchema.parse({ authentication: { credential_provider: 'NFC', issuer: '6FC02554' } });
 * ```
 */
export const unifiEventDataSchema = z
  .object({
    actor: z
      .object({
        alternate_id: TEXT.optional(),
        alternate_name: TEXT.optional(),
        avatar: z.string().max(1024).optional(),
        sso_picture: z.string().max(1024).optional(),
      })
      .optional(),
    authentication: z.object({ credential_provider: z.string().max(64), issuer: TEXT.optional() }).optional(),
    targets: z.array(targetSchema).max(50).optional(),
    reason: z.string().max(1000).optional(),
    tag: z.string().max(64).optional(),
  })
  .optional();

// Event types this preset registers, each stored under its topic as category. Hosts add others
// with defineEventType(name, unifiEventDataSchema, { category: '<topic>' }).
const unifiTypes = [
  defineEventType('access.door.unlock', unifiEventDataSchema, { category: 'door_openings' }),
  defineEventType('access.device.offline', unifiEventDataSchema, { category: 'critical', severity: 'critical' }),
  defineEventType('access.device.restart', unifiEventDataSchema, { category: 'critical', severity: 'warning' }),
  defineEventType('access.device.delete', unifiEventDataSchema, { category: 'critical', severity: 'warning' }),
  defineEventType('access.device.detected', unifiEventDataSchema, { category: 'critical' }),
  defineEventType('access.device.upgrade', unifiEventDataSchema, { category: 'updates' }),
  defineEventType('access.device.online', unifiEventDataSchema, { category: 'device_events' }),
  defineEventType('access.device.update', unifiEventDataSchema, { category: 'device_events' }),
  defineEventType('access.policy.sync', unifiEventDataSchema, { category: 'device_events' }),
  defineEventType('access.schedule.unlock.activate', unifiEventDataSchema, { category: 'device_events' }),
  defineEventType('access.schedule.unlock.deactivate', unifiEventDataSchema, { category: 'device_events' }),
  defineEventType('access.admin.policy_update', unifiEventDataSchema, { category: 'admin_activity' }),
  defineEventType('access.admin.settings_change', unifiEventDataSchema, { category: 'admin_activity' }),
  defineEventType('access.admin.user_update', unifiEventDataSchema, { category: 'admin_activity' }),
  defineEventType('access.visitor.create', unifiEventDataSchema, { category: 'visitor' }),
  defineEventType('access.visitor.update', unifiEventDataSchema, { category: 'visitor' }),
  defineEventType('access.visitor.delete', unifiEventDataSchema, { category: 'visitor' }),
] as const;

/**
 * Event types of UniFi Access's system log, each filed under its topic (the event's category).
 * Record the operator as `actor` (`{ id, type, name }`), the display message as `message`, the
 * result (`ACCESS`, `BLOCKED`, …) as `outcome`, and authentication, targets, reason and tag in `data`.
 *
 * @example
 * ```ts
 * import { createEventLog } from '@eventlog/core';
 * import { createSqliteStore } from '@eventlog/adapters/sqlite';
 * import { unifiAccessPreset } from '@eventlog/http';
 *
 * const log = createEventLog({ store: createSqliteStore(), presets: [unifiAccessPreset] });
 * await log.record({
 *   type: 'access.door.unlock',
 *   actor: { id: '3e1f196e-c97b-4748-aecb-eab5e9c251b2', type: 'user', name: 'Ada' },
 *   message: 'Access Granted (Remote)',
 *   outcome: 'ACCESS',
 *   data: {
 *     authentication: { credential_provider: 'REMOTE_THROUGH_UAH', issuer: '' },
 *     targets: [{ type: 'door', id: 'e4978b83-203d-4015-97df-b86efc91cb0c', display_name: 'Door 3855' }],
 *     tag: 'access',
 *   },
 * });
 * ```
 */
export const unifiAccessPreset = definePreset({ name: 'unifiAccess', types: unifiTypes });

/** Who is calling, as resolved from the Bearer token by the host. */
export interface UnifiAccessCaller {
  /** A name for audit and messages. */
  readonly name?: string;
  /** Permission keys of the token; the log endpoints need `view:system_log`. @default every permission */
  readonly permissions?: readonly string[];
  /** Narrows every read to a site or tenant, e.g. `{ role: 'user', id: 'site-1' }`. @default everything */
  readonly principal?: Principal;
}

/** Input of the {@link UnifiAccessOptions.staticResource} hook. */
export interface UnifiStaticRequest {
  /** The path below `/static/` (or `/static-preview/`), e.g. `avatar/dala…` or `activities_resource/video/…mp4`. */
  readonly path: string;
  /** Whether it was asked through `/static-preview/`. */
  readonly preview: boolean;
  readonly caller: UnifiAccessCaller;
  readonly request: Request;
}

/** Options of {@link unifiAccess}. */
export interface UnifiAccessOptions {
  /** Resolves the Bearer token to a caller, or `null` (answered 401); see {@link unifiAccessTokens}. */
  authenticate: (token: string, request: Request) => UnifiAccessCaller | null | Promise<UnifiAccessCaller | null>;
  /** Categories each topic reads; `all` reads the union of the others. @default each topic's own name */
  topics?: Partial<Record<Exclude<UnifiTopic, 'all'>, readonly string[]>>;
  /** Logs per page when `page_size` is absent. @default 25 */
  defaultPageSize?: number;
  /** Largest `page_size`. @default 1000 */
  maxPageSize?: number;
  /** Longest export range in days (the product says "one month"). @default 31 */
  maxExportDays?: number;
  /** Most rows one export holds. @default 100000 */
  maxExportRows?: number;
  /** Answers `GET …/logs/resource/:id` with the resource's `data`, or `null` for 404. @default none: every id is 404 */
  resource?: (id: string, caller: UnifiAccessCaller, request: Request) => unknown | Promise<unknown>;
  /** Answers `GET …/system/static/*path` with the file, or `null` for 404. @default none: every path is 404 */
  staticResource?: (
    input: UnifiStaticRequest,
  ) => Response | Blob | Uint8Array | ArrayBuffer | null | Promise<Response | Blob | Uint8Array | ArrayBuffer | null>;
}

/** A token and the caller it stands for, for {@link unifiAccessTokens}. */
export type UnifiTokenEntry = { readonly token: string } & UnifiAccessCaller;

/**
 * An `authenticate` hook over a fixed list of API tokens, compared in constant time.
 *
 * @example
 * ```ts
 * import { unifiAccess, unifiAccessTokens } from '@eventlog/http';
 * const profile = unifiAccess({
 *   authenticate: unifiAccessTokens([
 *     { token: process.env.UNIFI_TOKEN ?? 'change-me', name: 'integration', permissions: ['view:system_log'] },
 *   ]),
 * });
 * ```
 */
export function unifiAccessTokens(entries: readonly UnifiTokenEntry[]): (token: string) => UnifiAccessCaller | null {
  return secretTable(entries, 'token', 'unifiAccessTokens') as (token: string) => UnifiAccessCaller | null;
}

/** UniFi Access's own error codes. */
type UnifiCode =
  | 'CODE_PARAMS_INVALID'
  | 'CODE_UNAUTHORIZED'
  | 'CODE_ACCESS_TOKEN_INVALID'
  | 'CODE_OPERATION_FORBIDDEN'
  | 'CODE_RESOURCE_NOT_FOUND'
  | 'CODE_SYSTEM_ERROR';

/** An HttpError that names the UniFi code to answer with. */
class UnifiError extends HttpError {
  readonly unifiCode: UnifiCode;
  constructor(code: AnyErrorCode, unifiCode: UnifiCode, message: string, options?: HttpErrorOptions) {
    super(code, message, options);
    this.unifiCode = unifiCode;
  }
}

function unifiCodeOf(error: HttpError): UnifiCode {
  if (error instanceof UnifiError) return error.unifiCode;
  if (error.status >= 500) return 'CODE_SYSTEM_ERROR';
  switch (error.code) {
    case 'UNAUTHORIZED':
      return 'CODE_UNAUTHORIZED';
    case 'FORBIDDEN':
      return 'CODE_OPERATION_FORBIDDEN';
    case 'NOT_FOUND':
    case 'ROUTE_NOT_FOUND':
      return 'CODE_RESOURCE_NOT_FOUND';
    default:
      return 'CODE_PARAMS_INVALID';
  }
}

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

const BASE = '/api/v1/developer/system';

/**
 * UniFi Access's system log API: `POST /api/v1/developer/system/logs` (topic, `since`/`until` in
 * seconds, `actor_id`, `page_num`/`page_size`) answering `{ code: "SUCCESS", data: { hits, page,
 * total }, page, total }`; `POST …/logs/export` streaming a CSV in the requested time zone over at
 * most a month; and `GET …/logs/resource/:id` and `GET …/system/static/*path` through host hooks.
 * Callers send `Authorization: Bearer <token>`; errors are `{ code, msg }` with a 4xx status.
 *
 * @example
 * ```ts
 * import { createEventLog } from '@eventlog/core';
 * import { createSqliteStore } from '@eventlog/adapters/sqlite';
 * import { createHandler, unifiAccess, unifiAccessPreset, unifiAccessTokens } from '@eventlog/http';
 *
 * const log = createEventLog({ store: createSqliteStore(), presets: [unifiAccessPreset] });
 * const handler = createHandler({
 *   log,
 *   profiles: [
 *     unifiAccess({
 *       authenticate: unifiAccessTokens([{ token: 'wHFmHR-example-token', permissions: ['view:system_log'] }]),
 *       resource: async (id) => (id === 'known' ? { video_record: '/activities_resource/video/known.mp4' } : null),
 *     }),
 *   ],
 * });
 * const response = await handler(
 *   new Request('http://localhost/api/v1/developer/system/logs?page_num=1&page_size=25', {
 *     method: 'POST',
 *     headers: { Authorization: 'Bearer wHFmHR-example-token', 'Content-Type': 'application/json' },
 *     body: JSON.stringify({ topic: 'door_openings' }),
 *   }),
 * );
 * ```
 */
export function unifiAccess(options: UnifiAccessOptions): Profile {
  if (typeof options?.authenticate !== 'function')
    throw new TypeError('unifiAccess needs an authenticate hook, e.g. unifiAccessTokens([...]).');
  const maxPageSize = options.maxPageSize ?? 1000;
  const defaultPageSize = Math.min(options.defaultPageSize ?? 25, maxPageSize);
  const maxExportDays = options.maxExportDays ?? 31;
  const maxExportRows = options.maxExportRows ?? 100_000;
  const topicCategories = new Map<UnifiTopic, string[]>();
  for (const topic of UNIFI_TOPICS) {
    if (topic !== 'all') topicCategories.set(topic, [...(options.topics?.[topic] ?? [topic])]);
  }
  topicCategories.set('all', [...new Set([...topicCategories.values()].flat())]);

  const auth = async ({ request }: RequestContext): Promise<UnifiAccessCaller> => {
    const challenge = { headers: { 'WWW-Authenticate': 'Bearer' } };
    const token = bearerToken(request);
    if (!token)
      throw new UnifiError('UNAUTHORIZED', 'CODE_UNAUTHORIZED', 'Send the API token as Authorization: Bearer <token>.', challenge);
    const caller = await options.authenticate(token, request);
    if (!caller) throw new UnifiError('UNAUTHORIZED', 'CODE_ACCESS_TOKEN_INVALID', 'The API token is not valid.', challenge);
    if (caller.permissions && !caller.permissions.includes(UNIFI_LOG_PERMISSION)) {
      throw new UnifiError('FORBIDDEN', 'CODE_OPERATION_FORBIDDEN', `This token lacks the ${UNIFI_LOG_PERMISSION} permission.`);
    }
    return caller;
  };

  const readerFor = (log: EventLog, caller: UnifiAccessCaller): EventLogReader => (caller.principal ? log.scoped(caller.principal) : log);

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

  const fetchLogs = defineRoute({
    method: 'POST',
    path: [`${BASE}/logs`, `${BASE}/logs/`],
    auth,
    query: z.object({
      page_num: queryInt({ min: 1, max: 1_000_000 }),
      page_size: queryInt({ min: 1, max: maxPageSize }),
    }),
    body: fetchBody,
    maxBodyBytes: 16 * 1024,
    run: async ({ log, auth: caller, query, body }) => {
      const page = query.page_num ?? body.page_num ?? 1;
      const pageSize = query.page_size ?? body.page_size ?? defaultPageSize;
      const result = await readerFor(log, caller).query({
        filter: filterOf(body.topic, body.since, body.until, body.actor_id),
        page,
        pageSize,
      });
      const data = { hits: result.items.map(toHit), page: result.page, total: result.total };
      return { code: 'SUCCESS', msg: 'success', data, page: result.page, total: result.total };
    },
    docs: { summary: 'Fetch system logs by topic', tags: ['unifi-access'] },
  });

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

  const exportLogs = defineRoute({
    method: 'POST',
    path: [`${BASE}/logs/export`, `${BASE}/logs/export/`],
    auth,
    body: exportBody,
    maxBodyBytes: 16 * 1024,
    run: ({ log, auth: caller, body }) => {
      if (body.until - body.since > maxExportDays * DAY_SECONDS) {
        throw new HttpError(
          'BAD_REQUEST',
          `The range from since to until may span at most one month (${maxExportDays} days); export it in parts.`,
        );
      }
      const reader = readerFor(log, caller);
      const filter = filterOf(body.topic, body.since, body.until, body.actor_id);
      const zone = body.timezone;
      const line = (cells: readonly unknown[]) => `${cells.map(csvCell).join(',')}\r\n`;
      async function* rows(): AsyncGenerator<string> {
        yield line([
          'Time',
          'Event Type',
          'Message',
          'Result',
          'Actor',
          'Actor ID',
          'Actor Type',
          'Credential Provider',
          'Issuer',
          'Targets',
          'Reason',
          'Tag',
        ]);
        let cursor: string | null = null;
        let written = 0;
        while (written < maxExportRows) {
          const limit = Math.min(1000, maxExportRows - written);
          const result: CursorResult = await reader.query({ filter, limit, cursor });
          let chunk = '';
          for (const event of result.items) {
            const hit = toHit(event)._source;
            chunk += line([
              formatIsoOffset(event.time, zone),
              hit.event.type,
              hit.event.display_message,
              hit.event.result,
              hit.actor.display_name,
              hit.actor.id,
              hit.actor.type,
              hit.authentication.credential_provider,
              hit.authentication.issuer,
              hit.target.map((t) => `${t.type}:${t.display_name || t.id}`).join('; '),
              hit.event.reason,
              toHit(event).tag,
            ]);
          }
          written += result.items.length;
          if (chunk) yield chunk;
          if (!result.nextCursor) return;
          cursor = result.nextCursor;
        }
      }
      const filename = `system_logs_${body.topic}_${formatCompactDate(body.since * 1000, zone)}-${formatCompactDate(body.until * 1000, zone)}.csv`;
      return csvResponse(rows(), { filename });
    },
    docs: { summary: 'Export system logs as CSV', contentType: 'text/csv', tags: ['unifi-access'] },
  });

  const resource = defineRoute({
    method: 'GET',
    path: `${BASE}/logs/resource/:id`,
    auth,
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

  const staticFile = defineRoute({
    method: 'GET',
    path: `${BASE}/static/*path`,
    auth,
    params: z.object({ path: z.string() }),
    run: ({ auth: caller, params, request }) => serveStatic(params.path, false, caller, request),
    docs: {
      summary: 'Fetch a static resource of the system log (avatar, capture, activities resource)',
      contentType: 'application/octet-stream',
      tags: ['unifi-access'],
    },
  });

  const staticPreview = defineRoute({
    method: 'GET',
    path: `${BASE}/static-preview/*path`,
    auth,
    params: z.object({ path: z.string() }),
    run: ({ auth: caller, params, request }) => serveStatic(params.path, true, caller, request),
    docs: { summary: 'Fetch a preview image of the system log', contentType: 'application/octet-stream', tags: ['unifi-access'] },
  });

  return defineProfile({
    name: 'unifiAccess',
    preset: unifiAccessPreset,
    prefixes: [BASE],
    routes: [exportLogs, fetchLogs, resource, staticFile, staticPreview],
    success: (data) => json(data),
    failure: (error) => json({ code: unifiCodeOf(error), msg: error.message }, error.status),
  });
}

interface DataShape {
  actor?: { alternate_id?: string; alternate_name?: string; avatar?: string; sso_picture?: string };
  authentication?: { credential_provider?: string; issuer?: string };
  targets?: { type?: string; id?: string; display_name?: string; alternate_id?: string; alternate_name?: string }[];
  reason?: string;
  tag?: string;
}

function dataOf(event: StoredEvent): DataShape {
  return event.data && typeof event.data === 'object' ? (event.data as DataShape) : {};
}

/** One event in the product's Elasticsearch-like hit shape. */
function toHit(event: StoredEvent) {
  const data = dataOf(event);
  const actor: Record<string, string> = {
    alternate_id: data.actor?.alternate_id ?? '',
    alternate_name: data.actor?.alternate_name ?? '',
    display_name: event.actor.name ?? '',
    id: event.actor.id ?? '',
    type: event.actor.type ?? '',
  };
  if (data.actor?.avatar !== undefined) actor.avatar = data.actor.avatar;
  if (data.actor?.sso_picture !== undefined) actor.sso_picture = data.actor.sso_picture;
  const targets = data.targets
    ? data.targets
    : event.target.id !== null || event.target.name !== null
      ? [{ type: event.target.type ?? '', id: event.target.id ?? '', display_name: event.target.name ?? '' }]
      : [];
  return {
    '@timestamp': new Date(event.time).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    _id: String(event.id),
    _source: {
      actor: actor as { alternate_id: string; alternate_name: string; display_name: string; id: string; type: string },
      // Optional in the product; always present here so that clients reading its fields never fail.
      authentication: {
        credential_provider: data.authentication?.credential_provider ?? '',
        issuer: data.authentication?.issuer ?? '',
      },
      event: {
        display_message: event.message ?? '',
        published: event.time,
        reason: data.reason ?? '',
        result: event.outcome ?? '',
        type: event.type,
      },
      target: targets.map((t) => ({
        alternate_id: t.alternate_id ?? '',
        alternate_name: t.alternate_name ?? '',
        display_name: t.display_name ?? '',
        id: t.id ?? '',
        type: t.type ?? '',
      })),
    },
    tag: data.tag ?? event.type.split('.')[0] ?? '',
  };
}
