import {
  type CursorResult,
  csvCell,
  defineEventType,
  definePreset,
  type EventLog,
  type EventLogReader,
  type FilterInput,
  isValidTimeZone,
  maskIp,
  type Principal,
  type StoredEvent,
} from '@eventlog/core';
import { z } from 'zod';
import { bearerToken, secretTable } from '../auth.js';
import { HttpError } from '../errors.js';
import { queryInt, queryList, queryString } from '../params.js';
import { defineProfile, defineRoute, json, type Profile, type RequestContext } from '../profile.js';
import { csvResponse } from '../stream.js';
import { formatSqlTime, zonedToEpoch } from './zoned-time.js';

/**
 * The Stream Events categories of MediaCP, as sent in `category=` (besides `all`).
 *
 * @example
 * ```ts
 * import { MEDIACP_CATEGORIES } from '@eventlog/http';
 * MEDIACP_CATEGORIES.includes('dj'); // true
 * ```
 */
export const MEDIACP_CATEGORIES = ['service', 'mount', 'dj', 'source', 'autodj'] as const;

/** One of {@link MEDIACP_CATEGORIES}. */
export type MediaCpCategory = (typeof MEDIACP_CATEGORIES)[number];

const CATEGORY_LABELS: Record<MediaCpCategory, string> = {
  service: 'Service',
  mount: 'Mount',
  dj: 'DJ',
  source: 'Source',
  autodj: 'AutoDJ',
};

/** A MediaCP event type as sent in `event_type=` and returned in `event_type`, e.g. `dj.connect`. */
export type MediaCpEventType =
  | 'service.start'
  | 'service.stop'
  | 'service.restart'
  | 'service.suspend'
  | 'service.unsuspend'
  | 'service.remove'
  | 'service.config_update'
  | 'service.title_update'
  | 'system.bitrate_warning'
  | 'system.suspend'
  | 'system.stop'
  | 'source.start'
  | 'source.stop'
  | 'source.restart'
  | 'dj.connect'
  | 'dj.disconnect'
  | 'dj.on_air'
  | 'dj.kicked'
  | 'autodj.on_air'
  | 'mount.connect'
  | 'mount.disconnect';

// Wire event type, category, label. The stored type is `mediacp.<wire type>`.
const EVENTS = [
  ['service.start', 'service', 'Service Start'],
  ['service.stop', 'service', 'Service Stop'],
  ['service.restart', 'service', 'Service Restart'],
  ['service.suspend', 'service', 'Service Suspend'],
  ['service.unsuspend', 'service', 'Service Unsuspend'],
  ['service.remove', 'service', 'Service Remove'],
  ['service.config_update', 'service', 'Config Update'],
  ['service.title_update', 'service', 'Song Title Update'],
  ['system.bitrate_warning', 'service', 'Bitrate Abuse Warning'],
  ['system.suspend', 'service', 'Automated Suspension'],
  ['system.stop', 'service', 'Automated Stop'],
  ['source.start', 'source', 'Source Start'],
  ['source.stop', 'source', 'Source Stop'],
  ['source.restart', 'source', 'Source Restart'],
  ['dj.connect', 'dj', 'DJ Connect'],
  ['dj.disconnect', 'dj', 'DJ Disconnect'],
  ['dj.on_air', 'dj', 'DJ On Air'],
  ['dj.kicked', 'dj', 'DJ Kicked'],
  ['autodj.on_air', 'autodj', 'AutoDJ On Air'],
  ['mount.connect', 'mount', 'Mount Connect'],
  ['mount.disconnect', 'mount', 'Mount Disconnect'],
] as const satisfies readonly (readonly [MediaCpEventType, MediaCpCategory, string])[];

const TYPE_PREFIX = 'mediacp.';
const WIRE_TYPES: readonly string[] = EVENTS.map((e) => e[0]);
const STORED_TYPES: string[] = EVENTS.map((e) => `${TYPE_PREFIX}${e[0]}`);
const LABELS = new Map<string, string>(EVENTS.map((e) => [`${TYPE_PREFIX}${e[0]}`, e[2]]));

/**
 * The `data` payload of MediaCP events: optional, with the facts the panel shows (takeover flag,
 * mount, reason, changed settings, title); other keys are kept as sent.
 *
 * @example
 * ```ts
 * import { mediaCpEventDataSchema } from '@eventlog/http';
 * mediaCpEventDataSchema.parse({ takeover: true, mount: '/live' });
 * ```
 */
export const mediaCpEventDataSchema = z
  .looseObject({
    takeover: z.boolean().optional(),
    mount: z.string().max(255).optional(),
    reason: z.string().max(1000).optional(),
    title: z.string().max(1000).optional(),
    changes: z.record(z.string(), z.unknown()).optional(),
  })
  .optional();

const mediaCpTypes = EVENTS.map(([name, category]) =>
  defineEventType(`${TYPE_PREFIX}${name}` as `mediacp.${MediaCpEventType}`, mediaCpEventDataSchema, { category }),
);

/**
 * Event types, dimensions and metrics of MediaCP Stream Events. Record an event with the service as
 * `target` (`{ type: 'service', id, name }`), the service owner's user id as `tenantId`, the user,
 * DJ or `system` as `actor`, the DJ's source IP as `ip`, and the customer's name as the
 * `customer_name` dimension.
 *
 * @example
 * ```ts
 * import { createEventLog } from '@eventlog/core';
 * import { createSqliteStore } from '@eventlog/adapters/sqlite';
 * import { mediaCpPreset } from '@eventlog/http';
 *
 * const log = createEventLog({ store: createSqliteStore(), presets: [mediaCpPreset], retention: { maxAgeDays: 30 } });
 * await log.record({
 *   type: 'mediacp.dj.connect',
 *   actor: { type: 'dj', id: 'dj-7', name: 'DJ Nova' },
 *   target: { type: 'service', id: '12', name: 'Radio One' },
 *   tenantId: '40',
 *   ip: '203.0.113.9',
 *   message: 'DJ Nova connected',
 *   dimensions: { customer_name: 'Acme FM' },
 *   data: { takeover: true },
 * });
 * ```
 */
export const mediaCpPreset = definePreset({
  name: 'mediaCp',
  types: mediaCpTypes,
  dimensions: [{ name: 'customer_name' }],
});

/** Who is calling the MediaCP API, as resolved from the Bearer token by the host. */
export type MediaCpUser =
  /** Every service of the panel. */
  | { readonly role: 'admin'; readonly id?: string; readonly name?: string }
  /** Its own services and those of its customers. */
  | { readonly role: 'reseller'; readonly id: string; readonly customerIds: readonly string[]; readonly name?: string }
  /** Its own services only. */
  | { readonly role: 'customer'; readonly id: string; readonly name?: string };

/** Options of {@link mediaCp}. */
export interface MediaCpOptions {
  /** Resolves the Bearer token to a user, or `null` (answered 401); see {@link mediaCpTokens}. */
  authenticate: (token: string, request: Request) => MediaCpUser | null | Promise<MediaCpUser | null>;
  /**
   * Whether a user may open one service's log; `false` answers 404 as if the service did not exist.
   * Without it, a per-service request by a user who does not own the service simply finds no events.
   * @default scoping alone
   */
  serviceAccess?: (user: MediaCpUser, serviceId: string) => boolean | Promise<boolean>;
  /** IANA zone of `created_at_formatted`, of dates in `date_from`/`date_to`, and of the CSV. @default 'UTC' */
  timeZone?: string;
  /** Rows per page when `per_page` is absent. @default 25 */
  defaultPerPage?: number;
  /** Largest `per_page`. @default 100 */
  maxPerPage?: number;
  /** Most rows one CSV export holds. @default 100000 */
  maxExportRows?: number;
  /** Source of "now" for `created_at_human`. @default Date.now */
  clock?: () => number;
  /** Mask `ip_address` in answers and exports (GDPR mode; the log's own `maskIp` option masks everywhere). @default false */
  maskIp?: boolean;
}

/** A token and the user it stands for, for {@link mediaCpTokens}. */
export type MediaCpTokenEntry = { readonly token: string } & MediaCpUser;

/**
 * An `authenticate` hook over a fixed list of role tokens, compared in constant time.
 *
 * @example
 * ```ts
 * import { mediaCp, mediaCpTokens } from '@eventlog/http';
 * const profile = mediaCp({
 *   authenticate: mediaCpTokens([
 *     { token: 'admin-secret', role: 'admin' },
 *     { token: 'reseller-secret', role: 'reseller', id: '7', customerIds: ['40', '41'] },
 *     { token: 'customer-secret', role: 'customer', id: '40' },
 *   ]),
 * });
 * ```
 */
export function mediaCpTokens(entries: readonly MediaCpTokenEntry[]): (token: string) => MediaCpUser | null {
  return secretTable(entries, 'token', 'mediaCpTokens') as (token: string) => MediaCpUser | null;
}

function principalOf(user: MediaCpUser): Principal | null {
  switch (user.role) {
    case 'admin':
      return null;
    case 'reseller':
      return { role: 'reseller', id: String(user.id), tenantIds: [String(user.id), ...user.customerIds.map(String)] };
    case 'customer':
      return { role: 'user', id: String(user.id), tenantId: String(user.id) };
    default:
      throw new HttpError('FORBIDDEN', 'This token has no MediaCP role.');
  }
}

const SERVICE_ID = /^[A-Za-z0-9_-]{1,64}$/;
const serviceIdSchema = z
  .string({ error: 'must be given once' })
  .regex(SERVICE_ID, 'must be a service id (letters, digits, "-" or "_", at most 64)');

const categoryParam = z.preprocess((value) => {
  if (typeof value !== 'string') return value;
  const word = value.toLowerCase().replace(/[^a-z]/g, '');
  if (word === '' || word === 'all' || word === 'allevents') return undefined;
  return word === 'autodjs' ? 'autodj' : word;
}, z.enum(MEDIACP_CATEGORIES, { error: `must be one of all, ${MEDIACP_CATEGORIES.join(', ')}` }).optional());

const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;
const MAX_SECONDS = 253_402_300_799; // 9999-12-31T23:59:59Z

/** A date parameter: `YYYY-MM-DD` (a local day), an ISO 8601 time, or Unix seconds. */
function dateParam(timeZone: string, end: boolean) {
  return z.preprocess(
    (value) => (typeof value === 'string' && value.trim() === '' ? undefined : value),
    z
      .string({ error: 'must be given once' })
      .max(40, 'must be at most 40 characters')
      .transform((text, ctx) => {
        const value = text.trim();
        const day = DATE_ONLY.exec(value);
        if (day) {
          const [year, month, date] = [Number(day[1]), Number(day[2]), Number(day[3])];
          const check = new Date(Date.UTC(year, month - 1, date));
          if (year < 1970 || check.getUTCMonth() !== month - 1 || check.getUTCDate() !== date) {
            ctx.addIssue({ code: 'custom', message: 'is not a calendar date' });
            return z.NEVER;
          }
          // date_to names the last day included: the range ends at the next local midnight.
          return zonedToEpoch({ year, month, day: date + (end ? 1 : 0) }, timeZone);
        }
        if (/^\d{1,12}$/.test(value)) {
          const seconds = Number(value);
          if (seconds > MAX_SECONDS) {
            ctx.addIssue({ code: 'custom', message: 'is too far in the future' });
            return z.NEVER;
          }
          return seconds * 1000 + (end ? 1000 : 0);
        }
        const parsed = /^\d{4}-\d{2}-\d{2}T/.test(value) ? Date.parse(value) : Number.NaN;
        if (!Number.isFinite(parsed) || parsed < 0 || parsed > MAX_SECONDS * 1000) {
          ctx.addIssue({ code: 'custom', message: 'must be YYYY-MM-DD, an ISO 8601 time or Unix seconds' });
          return z.NEVER;
        }
        return parsed + (end ? 1 : 0);
      })
      .optional(),
  );
}

interface ListQuery {
  category?: MediaCpCategory | undefined;
  event_type?: string[] | undefined;
  service_id?: string | undefined;
  date_from?: number | undefined;
  date_to?: number | undefined;
  search?: string | undefined;
  page?: number | undefined;
  per_page?: number | undefined;
  format?: 'json' | 'csv' | undefined;
}

const PER_SERVICE_ROOT = '/controller/EventLog';

/**
 * MediaCP Stream Events: `GET /controller/EventLog` (global view, scoped to the caller's role) and
 * `GET /controller/EventLog/{id}` (one service), each with category, event type, service, date range
 * and keyword filters, pages of `{ success, logs, total, page, totalPages, perPage }`, and a CSV of
 * the same filtered view at `…/export` (or `format=csv`). Callers send `Authorization: Bearer
 * <token>`; admins read everything, resellers their own and their customers' services, customers
 * their own. Errors are `{ success: false, message, errors? }` with a 4xx status.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * import { createEventLog } from '@eventlog/core';
 * import { createSqliteStore } from '@eventlog/adapters/sqlite';
 * import { createHandler, mediaCp, mediaCpPreset, mediaCpTokens } from '@eventlog/http';
 * import { toNodeHandler } from '@eventlog/http/node';
 *
 * const log = createEventLog({ store: createSqliteStore({ filename: 'events.db' }), presets: [mediaCpPreset], retention: { maxAgeDays: 30 } });
 * log.startMaintenance({ intervalMs: 86_400_000 });
 * const handler = createHandler({
 *   log,
 *   profiles: [mediaCp({ authenticate: mediaCpTokens([{ token: 'admin-secret', role: 'admin' }]), timeZone: 'Europe/London' })],
 * });
 * createServer(toNodeHandler(handler)).listen(3000);
 * ```
 */
export function mediaCp(options: MediaCpOptions): Profile {
  if (typeof options?.authenticate !== 'function') throw new TypeError('mediaCp needs an authenticate hook, e.g. mediaCpTokens([...]).');
  const timeZone = options.timeZone ?? 'UTC';
  if (!isValidTimeZone(timeZone)) throw new TypeError(`mediaCp: "${timeZone}" is not an IANA time zone.`);
  const maxPerPage = options.maxPerPage ?? 100;
  const defaultPerPage = Math.min(options.defaultPerPage ?? 25, maxPerPage);
  const maxExportRows = options.maxExportRows ?? 100_000;
  const clock = options.clock ?? Date.now;

  const auth = async ({ request }: RequestContext): Promise<MediaCpUser> => {
    const token = bearerToken(request);
    const challenge = { headers: { 'WWW-Authenticate': 'Bearer realm="MediaCP"' } };
    if (!token) throw new HttpError('UNAUTHORIZED', 'Send your API token as Authorization: Bearer <token>.', challenge);
    const user = await options.authenticate(token, request);
    if (!user) throw new HttpError('UNAUTHORIZED', 'The API token is not valid.', challenge);
    return user;
  };

  const query = z
    .object({
      category: categoryParam,
      event_type: queryList({ max: 64, maxItems: WIRE_TYPES.length }).refine(
        (list) => list === undefined || list.every((t) => WIRE_TYPES.includes(t)),
        `must list event types among ${WIRE_TYPES.join(', ')}`,
      ),
      service_id: z.preprocess((v) => (v === '' ? undefined : v), serviceIdSchema.optional()),
      date_from: dateParam(timeZone, false),
      date_to: dateParam(timeZone, true),
      search: queryString({ max: 200 }),
      page: queryInt({ min: 1, max: 1_000_000, default: 1 }),
      per_page: queryInt({ min: 1, max: maxPerPage, default: defaultPerPage }),
      format: z.preprocess(
        (v) => (typeof v === 'string' ? v.toLowerCase() || undefined : v),
        z.enum(['json', 'csv'], { error: 'must be json or csv' }).optional(),
      ),
    })
    .refine((q) => q.date_from === undefined || q.date_to === undefined || q.date_from < q.date_to, {
      message: 'must not be after date_to',
      path: ['date_from'],
    });

  const readerFor = (log: EventLog, user: MediaCpUser): EventLogReader => {
    const principal = principalOf(user);
    return principal ? log.scoped(principal) : log;
  };

  const filterOf = (q: ListQuery, serviceId: string | undefined): FilterInput => {
    const filter: FilterInput = {
      type: q.event_type ? q.event_type.map((t) => `${TYPE_PREFIX}${t}`) : STORED_TYPES,
    };
    if (q.category) filter.category = q.category;
    const service = serviceId ?? q.service_id;
    if (service !== undefined) filter.targetId = service;
    if (q.date_from !== undefined) filter.since = q.date_from;
    if (q.date_to !== undefined) filter.until = q.date_to;
    if (q.search) filter.search = q.search;
    return filter;
  };

  const ipOf = (event: StoredEvent) => (options.maskIp ? maskIp(event.ip) : event.ip);
  const format = (event: StoredEvent, now: number) => ({ ...formatLog(event, now, timeZone), ip_address: ipOf(event) });

  const list = async (log: EventLog, user: MediaCpUser, q: ListQuery, serviceId: string | undefined) => {
    const reader = readerFor(log, user);
    const filter = filterOf(q, serviceId);
    if (q.format === 'csv') return exportView(reader, filter, serviceId);
    const page = await reader.query({ filter, page: q.page ?? 1, pageSize: q.per_page ?? defaultPerPage });
    const now = clock();
    return {
      logs: page.items.map((e) => format(e, now)),
      total: page.total,
      page: page.page,
      totalPages: page.totalPages,
      perPage: page.pageSize,
    };
  };

  const exportView = (reader: EventLogReader, filter: FilterInput, serviceId: string | undefined): Promise<Response> => {
    const global = serviceId === undefined;
    const header = ['ID', 'Date', 'Category', 'Event', 'Event Type', 'Actor Type', 'Actor', 'Description', 'IP Address'];
    if (global) header.push('Service ID', 'Service Name', 'Customer ID', 'Customer Name');
    const line = (cells: readonly unknown[]) => `${cells.map(csvCell).join(',')}\r\n`;
    async function* rows(): AsyncGenerator<string> {
      yield line(header);
      let cursor: string | null = null;
      let written = 0;
      while (written < maxExportRows) {
        const limit = Math.min(1000, maxExportRows - written);
        const result: CursorResult = await reader.query({ filter, limit, cursor });
        let chunk = '';
        for (const e of result.items) {
          const cells: unknown[] = [
            e.id,
            formatSqlTime(e.time, timeZone),
            categoryLabel(e.category),
            LABELS.get(e.type) ?? e.type,
            wireType(e.type),
            e.actor.type ?? '',
            e.actor.name ?? e.actor.id ?? '',
            e.message ?? '',
            ipOf(e) ?? '',
          ];
          if (global) cells.push(e.target.id ?? '', e.target.name ?? '', e.tenantId ?? '', e.dimensions.customer_name ?? '');
          chunk += line(cells);
        }
        written += result.items.length;
        if (chunk) yield chunk;
        if (!result.nextCursor) return;
        cursor = result.nextCursor;
      }
    }
    const day = formatSqlTime(clock(), timeZone).slice(0, 10);
    const filename = global ? `stream-events-${day}.csv` : `stream-events-service-${serviceId}-${day}.csv`;
    return csvResponse(rows(), { filename });
  };

  const checkService = async (user: MediaCpUser, serviceId: string) => {
    if (options.serviceAccess && !(await options.serviceAccess(user, serviceId))) {
      throw new HttpError('NOT_FOUND', `Service ${serviceId} was not found.`);
    }
  };

  const serviceParams = z.object({ id: serviceIdSchema });
  const serviceConflict = (q: ListQuery, id: string) => {
    if (q.service_id !== undefined && q.service_id !== id) {
      throw new HttpError(
        'BAD_REQUEST',
        `Invalid query parameter "service_id": it names service ${q.service_id}, but the path names ${id}.`,
      );
    }
  };

  const globalExport = defineRoute({
    method: 'GET',
    path: [`${PER_SERVICE_ROOT}/export`, `${PER_SERVICE_ROOT}/export/`],
    auth,
    query,
    run: ({ log, auth: user, query: q }) => list(log, user, { ...q, format: 'csv' }, undefined),
    docs: { summary: 'Export the filtered global view as CSV', contentType: 'text/csv', tags: ['mediacp'] },
  });

  const global = defineRoute({
    method: 'GET',
    path: [PER_SERVICE_ROOT, `${PER_SERVICE_ROOT}/`],
    auth,
    query,
    run: ({ log, auth: user, query: q }) => list(log, user, q, undefined),
    docs: { summary: 'Stream events of every service the caller may see', tags: ['mediacp'] },
  });

  const serviceExport = defineRoute({
    method: 'GET',
    path: [`${PER_SERVICE_ROOT}/:id/export`, `${PER_SERVICE_ROOT}/:id/export/`],
    auth,
    params: serviceParams,
    query,
    run: async ({ log, auth: user, query: q, params }) => {
      serviceConflict(q, params.id);
      await checkService(user, params.id);
      return list(log, user, { ...q, format: 'csv' }, params.id);
    },
    docs: { summary: "Export one service's filtered events as CSV", contentType: 'text/csv', tags: ['mediacp'] },
  });

  const perService = defineRoute({
    method: 'GET',
    path: [`${PER_SERVICE_ROOT}/:id`, `${PER_SERVICE_ROOT}/:id/`],
    auth,
    params: serviceParams,
    query,
    run: async ({ log, auth: user, query: q, params }) => {
      serviceConflict(q, params.id);
      await checkService(user, params.id);
      return list(log, user, q, params.id);
    },
    docs: { summary: 'Stream events of one service', tags: ['mediacp'] },
  });

  return defineProfile({
    name: 'mediaCp',
    preset: mediaCpPreset,
    prefixes: [PER_SERVICE_ROOT],
    routes: [globalExport, global, serviceExport, perService],
    success: (data) => json({ success: true, ...(data as object) }),
    failure: (error) => {
      const errors: Record<string, string[]> = {};
      for (const issue of error.issues) {
        const key = issue.path.length ? issue.path.join('.') : '_';
        const list = errors[key] ?? [];
        list.push(issue.message);
        errors[key] = list;
      }
      return json({ success: false, message: error.message, ...(error.issues.length ? { errors } : {}) }, error.status);
    },
  });
}

function wireType(type: string): string {
  return type.startsWith(TYPE_PREFIX) ? type.slice(TYPE_PREFIX.length) : type;
}

function categoryLabel(category: string | null): string {
  return category && category in CATEGORY_LABELS ? CATEGORY_LABELS[category as MediaCpCategory] : (category ?? '');
}

/** Numeric ids as JSON numbers (MediaCP's ids are integers); anything else as sent. */
function idValue(id: string | null): number | string | null {
  if (id === null) return null;
  return /^[1-9]\d{0,14}$/.test(id) ? Number(id) : id;
}

const relative = new Intl.RelativeTimeFormat('en', { numeric: 'always' });
const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ['year', 31_536_000],
  ['month', 2_592_000],
  ['week', 604_800],
  ['day', 86_400],
  ['hour', 3_600],
  ['minute', 60],
  ['second', 1],
];

function humanize(time: number, now: number): string {
  const seconds = Math.round((time - now) / 1000);
  for (const [unit, size] of UNITS) {
    if (Math.abs(seconds) >= size || unit === 'second') return relative.format(Math.trunc(seconds / size), unit);
  }
  return relative.format(0, 'second');
}

/** One event as MediaCP's model serialises it, with the formatted attributes the panel shows. */
function formatLog(event: StoredEvent, now: number, timeZone: string) {
  return {
    id: event.id,
    service_id: idValue(event.target.id),
    service_name: event.target.name,
    customer_id: idValue(event.tenantId),
    customer_name: (event.dimensions.customer_name as string | null | undefined) ?? null,
    category: event.category,
    category_label: categoryLabel(event.category),
    event_type: wireType(event.type),
    event_label: LABELS.get(event.type) ?? wireType(event.type),
    actor_type: event.actor.type,
    actor_id: event.actor.id,
    actor_name: event.actor.name,
    description: event.message,
    ip_address: event.ip,
    metadata: event.data ?? {},
    // Laravel's default date serialisation, which MediaCP's models use.
    created_at: new Date(event.time).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z'),
    created_at_formatted: formatSqlTime(event.time, timeZone),
    created_at_human: humanize(event.time, now),
  };
}
