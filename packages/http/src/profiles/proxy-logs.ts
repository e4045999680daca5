import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import {
  defineEventType,
  definePreset,
  type EventInput,
  type EventLog,
  type FilterInput,
  isValidTimeZone,
  maskIp,
  type StoredEvent,
  type TopEntry,
} from '@eventlog/core';
import { jwtVerify, SignJWT } from 'jose';
import { z } from 'zod';
import { basicCredentials, bearerToken, findBySecret } from '../auth.js';
import { HttpError } from '../errors.js';
import { queryOffset } from '../paging.js';
import { queryInt, queryString } from '../params.js';
import { defineProfile, defineRoute, json, type Profile, type RequestContext, type Route } from '../profile.js';
import { formatSqlTime, startOfZonedDay, startOfZonedHour } from './zoned-time.js';

/**
 * The event type of one proxied (or served) HTTP request.
 *
 * @example
 * ```ts
 * import { PROXY_REQUEST_TYPE } from '@eventlog/http';
 * const filter = { type: PROXY_REQUEST_TYPE, dimensions: { status_code: 403 } };
 * ```
 */
export const PROXY_REQUEST_TYPE = 'proxy.request';
/**
 * The event type of one audit-log row (an admin action).
 *
 * @example
 * ```ts
 * import { createEventLog } from '@eventlog/core';
 * import { createSqliteStore } from '@eventlog/adapters/sqlite';
 * import { PROXY_AUDIT_TYPE, proxyLogsPreset } from '@eventlog/http';
 * const log = createEventLog({ store: createSqliteStore(), presets: [proxyLogsPreset] });
 * await log.record({ type: PROXY_AUDIT_TYPE, actor: { name: 'admin' }, action: 'update_settings', target: { name: 'waf' }, message: 'Enabled WAF' });
 * ```
 */
export const PROXY_AUDIT_TYPE = 'proxy.audit';

/**
 * The `data` payload of `proxy.request`: optional, with the full URL when one is known; other keys
 * are kept as sent.
 *
 * @example
 * ```ts
 * import { proxyRequestDataSchema } from '@eventlog/http';
 * proxyRequestDataSchema.parse({ url: 'http://example.com/a.zip' });
 * ```
 */
export const proxyRequestDataSchema = z.looseObject({ url: z.string().max(4096).optional() }).optional();

/**
 * Event types, dimensions and metrics of the forward proxy's access log and audit log. A request
 * is a `proxy.request` event: `ip` (client), `userAgent`, `durationMs`, `outcome` (`ALLOWED`,
 * `BLOCKED`, `DENIED`), the dimensions `method`, `destination` (as shown, e.g. `example.com:443`),
 * `host`, `path`, `status_code`, `status_text`, `file_extension`, `destination_is_ip` (0/1) and the
 * metric `bytes`. {@link proxyRequestEvent} builds one from plain request facts, so an HTTP access
 * log (e.g. an Express request logger) records the same shape.
 *
 * @example
 * ```ts
 * import { createEventLog } from '@eventlog/core';
 * import { createSqliteStore } from '@eventlog/adapters/sqlite';
 * import { proxyLogsPreset, proxyRequestEvent } from '@eventlog/http';
 *
 * const log = createEventLog({ store: createSqliteStore(), presets: [proxyLogsPreset] });
 * await log.record(proxyRequestEvent({ clientIp: '192.168.1.10', method: 'CONNECT', destination: 'example.com:443', status: '200 Connection established', bytes: 4096 }));
 * ```
 */
export const proxyLogsPreset = definePreset({
  name: 'proxyLogs',
  types: [
    defineEventType(PROXY_REQUEST_TYPE, proxyRequestDataSchema, { category: 'proxy' }),
    defineEventType(PROXY_AUDIT_TYPE, z.looseObject({}).optional(), { category: 'audit' }),
  ],
  dimensions: [
    { name: 'method' },
    { name: 'destination', indexed: true },
    { name: 'host', indexed: true },
    { name: 'path' },
    { name: 'status_code', type: 'integer', indexed: true },
    { name: 'status_text' },
    { name: 'file_extension' },
    { name: 'destination_is_ip', type: 'integer' },
  ],
  metrics: [{ name: 'bytes' }],
});

/** Plain facts about one request, for {@link proxyRequestEvent}. */
export interface ProxyRequestInput {
  /** When it happened. @default now */
  time?: number | Date;
  /** The client's address. */
  clientIp?: string | null;
  /** `GET`, `CONNECT`, … */
  method: string;
  /** Where it went: `host:port`, a host, or an absolute URL. */
  destination: string;
  /** The request path, when `destination` is not a URL. */
  path?: string | null;
  /** The status: `403`, or text such as `200 Connection established` or `TCP_DENIED/403`. */
  status: number | string;
  /** Bytes sent to the client. */
  bytes?: number | null;
  durationMs?: number | null;
  userAgent?: string | null;
  /** `ALLOWED`, `BLOCKED`, `DENIED`, … @default `BLOCKED` for status 403, else `ALLOWED` */
  outcome?: string | null;
  /** Owner for scoped reads. */
  tenantId?: string | null;
}

const MAX_DIMENSION = 255;
const clip = (text: string, max = MAX_DIMENSION) => (text.length > max ? text.slice(0, max) : text);

/** The host part of a destination (`example.com:443`, `[::1]:80`, a URL or a bare address), lowercased. */
function hostOf(destination: string): { host: string; path: string | null } {
  const value = destination.trim();
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
    try {
      const url = new URL(value);
      return { host: url.hostname.replace(/^\[|\]$/g, '').toLowerCase(), path: url.pathname || null };
    } catch {
      return { host: value.toLowerCase(), path: null };
    }
  }
  if (isIP(value)) return { host: value.toLowerCase(), path: null };
  const bracketed = /^\[([^\]]+)\](?::\d+)?/.exec(value);
  if (bracketed?.[1]) return { host: bracketed[1].toLowerCase(), path: null };
  const slash = value.indexOf('/');
  const authority = slash >= 0 ? value.slice(0, slash) : value;
  const path = slash >= 0 ? value.slice(slash) : null;
  return { host: authority.replace(/:\d+$/, '').toLowerCase(), path };
}

function extensionOf(path: string | null): string | null {
  if (!path) return null;
  const last = path.split(/[?#]/)[0]!.split('/').pop() ?? '';
  const match = /\.([A-Za-z0-9]{1,10})$/.exec(last);
  return match?.[1] ? match[1].toLowerCase() : null;
}

/**
 * Builds a `proxy.request` event from plain request facts, deriving the host, the status code,
 * the file extension, whether the destination is a raw IP address, the outcome and a searchable
 * message (`METHOD destination status`).
 *
 * @example
 * ```ts
 * import { proxyRequestEvent } from '@eventlog/http';
 * const event = proxyRequestEvent({ clientIp: '10.0.0.5', method: 'GET', destination: 'http://198.51.100.7/x.exe', status: 403, userAgent: 'curl/8.5.0' });
 * event.dimensions?.destination_is_ip; // 1
 * ```
 */
export function proxyRequestEvent(input: ProxyRequestInput): EventInput<typeof PROXY_REQUEST_TYPE, z.input<typeof proxyRequestDataSchema>> {
  const method = String(input.method ?? '').toUpperCase();
  const destination = String(input.destination ?? '');
  const statusText = typeof input.status === 'number' ? String(input.status) : String(input.status ?? '');
  const codeMatch = typeof input.status === 'number' ? null : /(?:^|\D)(\d{3})(?:\D|$)/.exec(statusText);
  const code = typeof input.status === 'number' ? input.status : codeMatch?.[1] ? Number(codeMatch[1]) : null;
  const { host, path: urlPath } = hostOf(destination);
  const path = input.path ?? urlPath;
  const isUrl = /^[a-z][a-z0-9+.-]*:\/\//i.test(destination.trim());
  const outcome = input.outcome ? input.outcome.toUpperCase() : code === 403 ? 'BLOCKED' : 'ALLOWED';
  const event: EventInput<typeof PROXY_REQUEST_TYPE, z.input<typeof proxyRequestDataSchema>> = {
    type: PROXY_REQUEST_TYPE,
    action: clip(method, 128),
    outcome: clip(outcome, 64),
    message: `${method} ${destination} ${statusText}`.trim(),
    ip: input.clientIp ?? null,
    userAgent: input.userAgent ? clip(input.userAgent, 512) : null,
    durationMs: input.durationMs ?? null,
    tenantId: input.tenantId ?? null,
    dimensions: {
      method: clip(method),
      destination: clip(destination),
      host: clip(host),
      path: path ? clip(path) : null,
      status_code: code !== null && Number.isSafeInteger(code) ? code : null,
      status_text: clip(statusText),
      file_extension: extensionOf(path),
      destination_is_ip: isIP(host) ? 1 : 0,
    },
    metrics: { bytes: input.bytes ?? null },
  };
  if (input.time !== undefined) event.time = input.time;
  if (isUrl) event.data = { url: clip(destination, 4096) };
  return event;
}

/** A user of the proxy's admin API. */
export interface ProxyUser {
  readonly username: string;
  /** Viewers read logs and analytics; only admins clear logs and read the audit log. @default 'admin' */
  readonly role?: 'admin' | 'viewer';
}

/** What a host hook for a settings endpoint receives. */
export interface ProxyHookContext {
  readonly user: ProxyUser;
  readonly request: Request;
  readonly log: EventLog;
}

/** Answers a settings endpoint (its `data`), for {@link ProxyLogsOptions.hooks}. */
export type ProxyHook = (context: ProxyHookContext) => unknown | Promise<unknown>;

/** Options of {@link proxyLogs}. */
export interface ProxyLogsOptions {
  /** Checks a user name and password (Basic auth and `POST /api/auth/login`); `null` answers 401. See {@link proxyUsers}. */
  authenticate: (credentials: { username: string; password: string }, request: Request) => ProxyUser | null | Promise<ProxyUser | null>;
  /** HS256 key of the login tokens, at least 32 bytes. @default random per process (tokens end with the process) */
  jwtSecret?: string | Uint8Array;
  /** Lifetime of a login token in seconds. @default 86400 */
  tokenTtlSeconds?: number;
  /** The `log_retention_days` setting `clear-old` uses without `?days=`. @default 30 */
  retentionDays?: number | (() => number | Promise<number>);
  /** GDPR mode: mask `client_ip` (and client statistics) with the core's IP masking. @default false */
  gdpr?: boolean | (() => boolean | Promise<boolean>);
  /** IANA zone of every `YYYY-MM-DD HH:MM:SS` time, of "today" and of the hourly buckets. @default 'UTC' */
  timeZone?: string;
  /** Event types read as proxy requests (add e.g. a request logger's type). @default ['proxy.request'] */
  types?: readonly string[];
  /** Largest `limit` of list endpoints. @default 1000 */
  maxLimit?: number;
  /** Distinct user agents scanned by `/api/analytics/user-agents`; at most the log's `limits.maxTopLimit`. @default 1000 */
  maxUserAgents?: number;
  /** Time of the last log import for `/api/logs/stats`. @default the time of the newest request event */
  lastImport?: () => number | Date | null | Promise<number | Date | null>;
  /** Settings endpoints that are not logs; each absent one answers 404. @default none */
  hooks?: {
    /** `GET /api/security/score` */
    securityScore?: ProxyHook;
    /** `GET /api/analytics/shadow-it` */
    shadowIt?: ProxyHook;
    /** `GET /api/waf/stats` */
    wafStats?: ProxyHook;
    /** `GET /api/waf/categories` */
    wafCategories?: ProxyHook;
  };
  /** Source of "now" (tokens, today, timelines); pass the log's clock in tests. @default Date.now */
  clock?: () => number;
}

/** A user name, password and role, for {@link proxyUsers}. */
export interface ProxyUserEntry {
  readonly username: string;
  readonly password: string;
  readonly role?: 'admin' | 'viewer';
}

/**
 * An `authenticate` hook over a fixed list of users, comparing name and password in constant time.
 *
 * @example
 * ```ts
 * import { proxyLogs, proxyUsers } from '@eventlog/http';
 * const profile = proxyLogs({
 *   authenticate: proxyUsers([
 *     { username: 'admin', password: process.env.PROXY_ADMIN_PASSWORD ?? 'change-me' },
 *     { username: 'noc', password: 'read-only', role: 'viewer' },
 *   ]),
 *   jwtSecret: process.env.PROXY_JWT_SECRET ?? 'a development secret of at least 32 bytes',
 * });
 * ```
 */
export function proxyUsers(entries: readonly ProxyUserEntry[]): (credentials: { username: string; password: string }) => ProxyUser | null {
  for (const entry of entries)
    if (!entry.username || !entry.password) throw new TypeError('proxyUsers: every entry needs a username and a password.');
  // NUL cannot appear in a Basic user name, so it separates name from password unambiguously.
  return ({ username, password }) => {
    const found = findBySecret(`${username}\0${password}`, entries, (e) => `${e.username}\0${e.password}`);
    return found ? { username: found.username, role: found.role ?? 'admin' } : null;
  };
}

const BLOCKED_OUTCOMES = ['BLOCKED', 'DENIED', 'Blocked', 'Denied', 'blocked', 'denied'];
const HOUR = 3_600_000;
const DAY = 86_400_000;
const END_OF_TIME = Date.UTC(9999, 11, 31) + 1;
const ISSUER = 'eventlog-proxy-logs';

/** The three filters whose counts give "blocked" by inclusion–exclusion: outcome, status 403, both. */
function blockedFilters(base: FilterInput): [FilterInput, FilterInput, FilterInput] {
  const byStatus = { ...base.dimensions, status_code: 403 };
  return [
    { ...base, outcome: BLOCKED_OUTCOMES },
    { ...base, dimensions: byStatus },
    { ...base, outcome: BLOCKED_OUTCOMES, dimensions: byStatus },
  ];
}

const SORTS: Record<string, string> = {
  timestamp: 'time',
  source_ip: 'ip',
  destination: 'destination',
  status: 'status_code',
  bytes: 'bytes',
  method: 'method',
};

const hoursParam = (fallback?: number) => queryInt({ min: 1, max: 720, ...(fallback === undefined ? {} : { default: fallback }) });

/**
 * A forward proxy's logs-and-analytics admin API: `GET /api/logs` (limit/offset/sort/order/search),
 * `/api/logs/stats`, `/api/logs/timeline`, `POST /api/logs/clear` and `/api/logs/clear-old`,
 * `/api/audit-log`, the dashboard summary and the traffic, client, domain, user-agent,
 * file-extension and top-domain analytics, and `POST /api/auth/login` for JWTs. Answers are compact
 * `{"status":"success","data":…}` (lists add `total`, `limit`, `offset`); errors are
 * `{"status":"error","detail":…}` with the HTTP status.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * import { createEventLog } from '@eventlog/core';
 * import { createSqliteStore } from '@eventlog/adapters/sqlite';
 * import { createHandler, proxyLogs, proxyLogsPreset, proxyUsers } from '@eventlog/http';
 * import { toNodeHandler } from '@eventlog/http/node';
 *
 * const log = createEventLog({ store: createSqliteStore({ filename: 'proxy.db' }), presets: [proxyLogsPreset] });
 * const handler = createHandler({
 *   log,
 *   profiles: [
 *     proxyLogs({
 *       authenticate: proxyUsers([{ username: 'admin', password: process.env.ADMIN_PASSWORD ?? 'change-me' }]),
 *       jwtSecret: process.env.JWT_SECRET ?? 'a development secret of at least 32 bytes',
 *       gdpr: true,
 *       retentionDays: 30,
 *     }),
 *   ],
 * });
 * createServer(toNodeHandler(handler)).listen(8000);
 * ```
 */
export function proxyLogs(options: ProxyLogsOptions): Profile {
  if (typeof options?.authenticate !== 'function') throw new TypeError('proxyLogs needs an authenticate hook, e.g. proxyUsers([...]).');
  const timeZone = options.timeZone ?? 'UTC';
  if (!isValidTimeZone(timeZone)) throw new TypeError(`proxyLogs: "${timeZone}" is not an IANA time zone.`);
  const secret =
    typeof options.jwtSecret === 'string' ? new TextEncoder().encode(options.jwtSecret) : (options.jwtSecret ?? randomBytes(32));
  if (secret.byteLength < 32) throw new TypeError('proxyLogs: jwtSecret must be at least 32 bytes.');
  const ttl = options.tokenTtlSeconds ?? 86_400;
  if (!Number.isInteger(ttl) || ttl < 1) throw new TypeError('proxyLogs: tokenTtlSeconds must be a positive whole number.');
  const types = [...(options.types ?? [PROXY_REQUEST_TYPE])];
  const maxLimit = options.maxLimit ?? 1000;
  const maxUserAgents = options.maxUserAgents ?? 1000;
  const clock = options.clock ?? Date.now;
  const hooks = options.hooks ?? {};

  const gdprOn = async () => (typeof options.gdpr === 'function' ? Boolean(await options.gdpr()) : Boolean(options.gdpr));
  const retentionDays = async () => {
    const days = typeof options.retentionDays === 'function' ? await options.retentionDays() : (options.retentionDays ?? 30);
    return Number.isFinite(days) && days >= 1 ? Math.floor(days) : 30;
  };
  const time = (ms: number) => formatSqlTime(ms, timeZone);
  const requests = (extra: FilterInput = {}): FilterInput => ({ ...extra, type: types });
  const windowOf = (hours: number | undefined): FilterInput =>
    hours === undefined ? {} : { since: clock() - hours * HOUR, until: clock() + 1 };

  // ---- auth ----------------------------------------------------------------------------------

  const auth = async ({ request }: RequestContext): Promise<ProxyUser> => {
    const header = request.headers.get('authorization');
    if (!header) throw new HttpError('UNAUTHORIZED', 'Not authenticated', { headers: { 'WWW-Authenticate': 'Bearer' } });
    if (/^Basic\s/i.test(header)) {
      const credentials = basicCredentials(request);
      const user = credentials ? await options.authenticate(credentials, request) : null;
      if (!user)
        throw new HttpError('UNAUTHORIZED', 'Invalid username or password', { headers: { 'WWW-Authenticate': 'Basic realm="proxy"' } });
      return { username: user.username, role: user.role ?? 'admin' };
    }
    const token = bearerToken(request);
    if (!token)
      throw new HttpError('UNAUTHORIZED', 'Use Basic credentials or a Bearer token from POST /api/auth/login', {
        headers: { 'WWW-Authenticate': 'Bearer' },
      });
    try {
      const { payload } = await jwtVerify(token, secret, {
        algorithms: ['HS256'],
        issuer: ISSUER,
        audience: ISSUER,
        currentDate: new Date(clock()),
      });
      const role = payload.role === 'viewer' ? 'viewer' : payload.role === 'admin' ? 'admin' : null;
      if (typeof payload.sub !== 'string' || !role) throw new Error('claims');
      return { username: payload.sub, role };
    } catch {
      throw new HttpError('UNAUTHORIZED', 'Invalid or expired token', { headers: { 'WWW-Authenticate': 'Bearer error="invalid_token"' } });
    }
  };
  const adminOnly = (user: ProxyUser) => {
    if ((user.role ?? 'admin') !== 'admin') throw new HttpError('FORBIDDEN', 'Admin rights are required');
  };

  const login = defineRoute({
    method: 'POST',
    path: '/api/auth/login',
    body: z.object(
      {
        username: z.string({ error: 'is required' }).min(1, 'is required').max(128, 'must be at most 128 characters'),
        password: z.string({ error: 'is required' }).max(1024, 'must be at most 1024 characters'),
      },
      { error: 'body: send a JSON object with username and password' },
    ),
    maxBodyBytes: 8 * 1024,
    run: async ({ body, request }) => {
      const user = await options.authenticate({ username: body.username, password: body.password }, request);
      if (!user) throw new HttpError('UNAUTHORIZED', 'Invalid username or password');
      const now = Math.floor(clock() / 1000);
      const token = await new SignJWT({ role: user.role ?? 'admin' })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setSubject(user.username)
        .setIssuer(ISSUER)
        .setAudience(ISSUER)
        .setIssuedAt(now)
        .setExpirationTime(now + ttl)
        .sign(secret);
      return json({ access_token: token, token_type: 'bearer', expires_in: ttl });
    },
    docs: { summary: 'Exchange a user name and password for a JWT', secured: false, tags: ['auth'] },
  });

  // ---- reads ---------------------------------------------------------------------------------

  const countBlocked = async (log: EventLog, base: FilterInput): Promise<number> => {
    const [a, b, both] = await Promise.all(blockedFilters(base).map((f) => log.count(f)));
    return (a ?? 0) + (b ?? 0) - (both ?? 0);
  };

  const itemOf = (event: StoredEvent, gdpr: boolean) => ({
    id: event.id,
    timestamp: time(event.time),
    client_ip: (gdpr ? maskIp(event.ip) : event.ip) ?? '',
    method: String(event.dimensions.method ?? event.action ?? ''),
    destination: String(event.dimensions.destination ?? event.dimensions.host ?? event.target.name ?? ''),
    status: String(event.dimensions.status_text ?? event.dimensions.status_code ?? ''),
    bytes: event.metrics.bytes ?? 0,
  });

  const list = defineRoute({
    method: 'GET',
    path: ['/api/logs', '/api/logs/'],
    auth,
    query: z.object({
      limit: queryInt({ min: 1, max: maxLimit, default: 100 }),
      offset: queryInt({ min: 0, max: 100_000, default: 0 }),
      sort: z
        .unknown()
        .optional()
        .transform((v) => (typeof v === 'string' && Object.hasOwn(SORTS, v) ? v : 'timestamp')),
      order: z
        .unknown()
        .optional()
        .transform((v): 'asc' | 'desc' => (typeof v === 'string' && v.trim().toLowerCase() === 'asc' ? 'asc' : 'desc')),
      search: queryString({ max: 200 }),
    }),
    run: async ({ log, query }) => {
      const gdpr = await gdprOn();
      const limit = query.limit ?? 100;
      const offset = query.offset ?? 0;
      const filter = requests();
      const term = query.search?.trim();
      // An address is matched exactly against the client IP (not in GDPR mode, where addresses are hidden).
      if (term && isIP(term) && !gdpr) filter.ip = term;
      else if (term) filter.search = term;
      const sort = { field: SORTS[query.sort] ?? 'time', direction: query.order };
      const { items, total } = await queryOffset(log, { filter, sort, limit, offset });
      return { status: 'success', data: items.map((e) => itemOf(e, gdpr)), total, limit, offset };
    },
    docs: { summary: 'Proxy access log entries', tags: ['logs'] },
  });

  const stats = defineRoute({
    method: 'GET',
    path: '/api/logs/stats',
    auth,
    run: async ({ log }) => {
      const ipOnly: FilterInput = requests({ dimensions: { destination_is_ip: 1 } });
      const [total, blocked, ipBlocks, last] = await Promise.all([
        log.count(requests()),
        countBlocked(log, requests()),
        countBlocked(log, ipOnly),
        options.lastImport ? options.lastImport() : log.latest({ type: types }).then((e) => (e ? e.time : null)),
      ]);
      const lastMs = last === null || last === undefined ? null : last instanceof Date ? last.getTime() : last;
      return {
        status: 'success',
        data: { total_count: total, blocked_count: blocked, ip_blocks_count: ipBlocks, last_import: lastMs === null ? null : time(lastMs) },
      };
    },
    docs: { summary: 'Totals of the access log', tags: ['logs'] },
  });

  /** Hourly totals, blocked counts and bytes over the last `hours` hours, one row per hour. */
  const hourly = async (log: EventLog, hours: number) => {
    const now = clock();
    // Whole local hours: the oldest bucket starts at the top of its hour, the newest holds now.
    const filter = requests({ since: startOfZonedHour(now - (hours - 1) * HOUR, timeZone), until: now + 1 });
    const [all, ...blocked] = await Promise.all([
      log.timeline({ filter, bucket: 'hour', timeZone, metrics: ['bytes'] }),
      ...blockedFilters(filter).map((f) => log.timeline({ filter: f, bucket: 'hour', timeZone })),
    ]);
    const counts = blocked.map((t) => new Map(t.points.map((p) => [p.start, p.count])));
    return all.points.map((p) => ({
      time: time(p.start),
      total: p.count,
      blocked: (counts[0]?.get(p.start) ?? 0) + (counts[1]?.get(p.start) ?? 0) - (counts[2]?.get(p.start) ?? 0),
      bytes: p.sums.bytes ?? 0,
    }));
  };

  const timeline = defineRoute({
    method: 'GET',
    path: '/api/logs/timeline',
    auth,
    query: z.object({ hours: hoursParam(24) }),
    run: async ({ log, query }) => ({
      status: 'success',
      data: (await hourly(log, query.hours ?? 24)).map(({ time: t, total, blocked }) => ({ time: t, total, blocked })),
    }),
    docs: { summary: 'Hourly request and block counts', tags: ['logs'] },
  });

  const audit = (log: EventLog, user: ProxyUser, action: string, details: string) =>
    log.record({
      type: PROXY_AUDIT_TYPE,
      category: 'audit',
      actor: { type: 'user', id: user.username, name: user.username },
      action,
      target: { type: 'table', name: 'proxy_logs' },
      message: details,
    });

  const optionalBody = z.looseObject({ days: z.unknown().optional() }, { error: 'body: send a JSON object (or nothing)' }).optional();

  const clear = defineRoute({
    method: 'POST',
    path: '/api/logs/clear',
    auth,
    body: optionalBody,
    maxBodyBytes: 4 * 1024,
    run: async ({ log, auth: user, signal }) => {
      adminOnly(user);
      const deleted = await log.prune({ before: END_OF_TIME, filter: requests(), signal });
      await audit(log, user, 'clear_logs', `Cleared all proxy logs (${deleted} entries)`);
      return { status: 'success', message: 'All logs cleared', deleted };
    },
    docs: { summary: 'Delete every access-log entry (audited)', tags: ['logs'] },
  });

  const daysSchema = queryInt({ min: 1, max: 36_500 });
  const clearOld = defineRoute({
    method: 'POST',
    path: '/api/logs/clear-old',
    auth,
    query: z.object({ days: daysSchema }),
    body: optionalBody,
    maxBodyBytes: 4 * 1024,
    run: async ({ log, auth: user, query, body, signal }) => {
      adminOnly(user);
      let days = query.days;
      if (days === undefined && body?.days !== undefined) {
        const parsed = daysSchema.safeParse(typeof body.days === 'number' ? String(body.days) : body.days);
        if (!parsed.success) throw new HttpError('BAD_REQUEST', 'Invalid body field "days": must be a whole number from 1 to 36500.');
        days = parsed.data;
      }
      days ??= await retentionDays();
      const deleted = await log.prune({ before: clock() - days * DAY, filter: requests(), signal });
      await audit(log, user, 'clear_old_logs', `Cleared proxy logs older than ${days} days (${deleted} entries)`);
      return { status: 'success', message: 'Cleared old logs', deleted, days };
    },
    docs: { summary: 'Delete entries older than the retention period (audited)', tags: ['logs'] },
  });

  const auditLog = defineRoute({
    method: 'GET',
    path: ['/api/audit-log', '/api/audit-log/'],
    auth,
    query: z.object({ limit: queryInt({ min: 1, max: maxLimit, default: 100 }), offset: queryInt({ min: 0, max: 100_000, default: 0 }) }),
    run: async ({ log, auth: user, query }) => {
      adminOnly(user);
      const limit = query.limit ?? 100;
      const offset = query.offset ?? 0;
      const { items, total } = await queryOffset(log, { filter: { type: PROXY_AUDIT_TYPE }, limit, offset });
      const data = items.map((e) => ({
        id: e.id,
        username: e.actor.name ?? e.actor.id ?? '',
        action: e.action ?? '',
        target: e.target.name ?? e.target.id ?? '',
        details: e.message ?? '',
        timestamp: time(e.time),
      }));
      return { status: 'success', data, total, limit, offset };
    },
    docs: { summary: 'Audit log of admin actions', tags: ['audit'] },
  });

  const recentBlocks = async (log: EventLog, count: number, gdpr: boolean) => {
    const [byOutcome, byStatus] = await Promise.all(
      blockedFilters(requests())
        .slice(0, 2)
        .map((filter) => log.query({ filter, page: 1, pageSize: count })),
    );
    const seen = new Set<number>();
    return [...(byOutcome?.items ?? []), ...(byStatus?.items ?? [])]
      .sort((a, b) => b.time - a.time || b.id - a.id)
      .filter((e) => !seen.has(e.id) && seen.add(e.id))
      .slice(0, count)
      .map((e) => {
        const item = itemOf(e, gdpr);
        return { timestamp: item.timestamp, source_ip: item.client_ip, destination: item.destination, status: item.status };
      });
  };

  const summary = defineRoute({
    method: 'GET',
    path: '/api/dashboard/summary',
    auth,
    run: async ({ log }) => {
      const gdpr = await gdprOn();
      const today = requests({ since: startOfZonedDay(clock(), timeZone) });
      const [total, blocked, todayTotal, todayBlocked, recent] = await Promise.all([
        log.count(requests()),
        countBlocked(log, requests()),
        log.count(today),
        countBlocked(log, today),
        recentBlocks(log, 10, gdpr),
      ]);
      return {
        status: 'success',
        data: {
          total_requests: total,
          blocked_requests: blocked,
          today_requests: todayTotal,
          today_blocked: todayBlocked,
          recent_blocks: recent,
        },
      };
    },
    docs: { summary: 'Dashboard totals and the latest blocks', tags: ['analytics'] },
  });

  /** Top values of `by` with their request count, blocked count and bytes. */
  const topWithBlocked = async (log: EventLog, by: 'ip' | 'host', base: FilterInput, limit: number) => {
    const top = await log.top({ by, filter: base, limit, orderBy: 'count' });
    if (top.length === 0) return [];
    const values = top.map((t) => t.value);
    const restricted: FilterInput = by === 'ip' ? { ...base, ip: values } : { ...base, dimensions: { ...base.dimensions, host: values } };
    const parts = await Promise.all(blockedFilters(restricted).map((f) => log.top({ by, filter: f, limit: values.length })));
    const blockedOf = (value: string | number) =>
      parts.map((rows) => rows.find((r) => r.value === value)?.count ?? 0).reduce((sum, n, i) => (i === 2 ? sum - n : sum + n), 0);
    return top.map((t) => ({ value: t.value, requests: t.count, blocked: blockedOf(t.value), bytes: t.sums.bytes ?? 0 }));
  };

  const limitParam = (fallback: number, max: number) => queryInt({ min: 1, max, default: fallback });

  const traffic = defineRoute({
    method: 'GET',
    path: '/api/traffic/statistics',
    auth,
    query: z.object({ hours: hoursParam(24) }),
    run: async ({ log, query }) => {
      const hours = query.hours ?? 24;
      const base = requests(windowOf(hours));
      const [statsResult, blocked, methods, statuses, perHour] = await Promise.all([
        log.stats(base),
        countBlocked(log, base),
        log.top({ by: 'method', filter: base, limit: 20 }),
        log.top({ by: 'status_code', filter: base, limit: 20 }),
        hourly(log, hours),
      ]);
      return {
        status: 'success',
        data: {
          hours,
          total_requests: statsResult.count,
          blocked_requests: blocked,
          allowed_requests: statsResult.count - blocked,
          total_bytes: statsResult.sums.bytes ?? 0,
          requests_last_minute: statsResult.rpm,
          methods: methods.map((m) => ({ method: String(m.value), count: m.count })),
          status_codes: statuses.map((s) => ({ status_code: Number(s.value), count: s.count })),
          hourly: perHour,
        },
      };
    },
    docs: { summary: 'Traffic totals, methods, status codes and hourly volume', tags: ['analytics'] },
  });

  const clients = defineRoute({
    method: 'GET',
    path: '/api/clients/statistics',
    auth,
    query: z.object({ limit: limitParam(10, 100), hours: hoursParam() }),
    run: async ({ log, query }) => {
      const gdpr = await gdprOn();
      const rows = await topWithBlocked(log, 'ip', requests(windowOf(query.hours)), query.limit ?? 10);
      // Masked addresses of one network collapse into one row.
      const merged = new Map<string, { client_ip: string; requests: number; blocked: number; bytes: number }>();
      for (const row of rows) {
        const ip = (gdpr ? maskIp(String(row.value)) : String(row.value)) ?? '';
        const entry = merged.get(ip) ?? { client_ip: ip, requests: 0, blocked: 0, bytes: 0 };
        entry.requests += row.requests;
        entry.blocked += row.blocked;
        entry.bytes += row.bytes;
        merged.set(ip, entry);
      }
      return { status: 'success', data: [...merged.values()].sort((a, b) => b.requests - a.requests) };
    },
    docs: { summary: 'Top clients by requests', tags: ['analytics'] },
  });

  const domains = defineRoute({
    method: 'GET',
    path: '/api/domains/statistics',
    auth,
    query: z.object({ limit: limitParam(10, 100), hours: hoursParam() }),
    run: async ({ log, query }) => {
      const rows = await topWithBlocked(log, 'host', requests(windowOf(query.hours)), query.limit ?? 10);
      return {
        status: 'success',
        data: rows.map((r) => ({ domain: String(r.value), requests: r.requests, blocked: r.blocked, bytes: r.bytes })),
      };
    },
    docs: { summary: 'Top accessed domains', tags: ['analytics'] },
  });

  const topDomains = defineRoute({
    method: 'GET',
    path: '/api/analytics/top-domains',
    auth,
    query: z.object({ limit: limitParam(50, 200), hours: hoursParam() }),
    run: async ({ log, query }) => {
      const rows = await log.top({ by: 'host', filter: requests(windowOf(query.hours)), limit: query.limit ?? 50 });
      return { status: 'success', data: rows.map((r) => ({ domain: String(r.value), count: r.count })) };
    },
    docs: { summary: 'Top domains for the word cloud', tags: ['analytics'] },
  });

  const userAgents = defineRoute({
    method: 'GET',
    path: '/api/analytics/user-agents',
    auth,
    query: z.object({ hours: hoursParam(), limit: limitParam(20, 100) }),
    run: async ({ log, query }) => {
      const base = requests(windowOf(query.hours));
      const [total, agents] = await Promise.all([log.count(base), log.top({ by: 'userAgent', filter: base, limit: maxUserAgents })]);
      const byType = new Map<string, number>();
      let known = 0;
      for (const agent of agents) {
        const kind = classifyUserAgent(String(agent.value));
        byType.set(kind, (byType.get(kind) ?? 0) + agent.count);
        known += agent.count;
      }
      // Requests without a user agent, and any beyond the scanned distinct agents.
      if (total > known) byType.set('Unknown', (byType.get('Unknown') ?? 0) + total - known);
      const serviceTypes = [...byType.entries()]
        .map(([service_type, count]) => ({ service_type, count, percentage: percent(count, total) }))
        .sort((a, b) => b.count - a.count);
      const topAgents = agents.slice(0, query.limit ?? 20).map((a) => ({
        user_agent: String(a.value),
        service_type: classifyUserAgent(String(a.value)),
        count: a.count,
      }));
      return { status: 'success', data: { total_requests: total, service_types: serviceTypes, user_agents: topAgents } };
    },
    docs: { summary: 'Service-type breakdown by user agent', tags: ['analytics'] },
  });

  const fileExtensions = defineRoute({
    method: 'GET',
    path: '/api/analytics/file-extensions',
    auth,
    query: z.object({ hours: hoursParam(), limit: limitParam(20, 100) }),
    run: async ({ log, query }) => {
      const base = requests(windowOf(query.hours));
      const [total, rows] = await Promise.all([log.count(base), log.top({ by: 'file_extension', filter: base, limit: query.limit ?? 20 })]);
      return {
        status: 'success',
        data: rows.map((r: TopEntry) => ({
          extension: String(r.value),
          count: r.count,
          bytes: r.sums.bytes ?? 0,
          percentage: percent(r.count, total),
        })),
      };
    },
    docs: { summary: 'File-extension distribution of requested paths', tags: ['analytics'] },
  });

  const hookRoute = (path: string, hook: ProxyHook | undefined, summaryText: string): Route =>
    defineRoute({
      method: 'GET',
      path,
      auth,
      run: async ({ auth: user, request, log }) => {
        if (!hook) throw new HttpError('NOT_FOUND', `${path} is not available: this server serves the proxy's logs, not its settings.`);
        return { status: 'success', data: (await hook({ user, request, log })) ?? null };
      },
      docs: { summary: summaryText, tags: ['settings'] },
    });

  return defineProfile({
    name: 'proxyLogs',
    preset: proxyLogsPreset,
    prefixes: [
      '/api/logs',
      '/api/audit-log',
      '/api/dashboard',
      '/api/traffic',
      '/api/clients',
      '/api/domains',
      '/api/analytics',
      '/api/security',
      '/api/waf',
      '/api/auth',
    ],
    routes: [
      login,
      list,
      stats,
      timeline,
      clear,
      clearOld,
      auditLog,
      summary,
      traffic,
      clients,
      domains,
      topDomains,
      userAgents,
      fileExtensions,
      hookRoute('/api/security/score', hooks.securityScore, 'Security score (host hook)'),
      hookRoute('/api/analytics/shadow-it', hooks.shadowIt, 'Shadow-IT detection (host hook)'),
      hookRoute('/api/waf/stats', hooks.wafStats, 'WAF statistics (host hook)'),
      hookRoute('/api/waf/categories', hooks.wafCategories, 'WAF rule categories (host hook)'),
    ],
    success: (data) => json(data),
    failure: (error) => json({ status: 'error', detail: error.message }, error.status),
  });
}

function percent(part: number, whole: number): number {
  return whole > 0 ? Math.round((part / whole) * 10_000) / 100 : 0;
}

const USER_AGENT_KINDS: [string, RegExp][] = [
  ['Bot / Crawler', /bot\b|crawl|spider|slurp|bingpreview|facebookexternalhit/i],
  [
    'OS / Software Update',
    /windows-update-agent|microsoft-delivery-optimization|debian apt|apt-http|\bapt\/|\byum\/|\bdnf\/|softwareupdate|appstored/i,
  ],
  ['Command-Line Tool', /^(curl|wget|httpie|aria2|powershell)\b/i],
  [
    'Script / Library',
    /python-requests|python-urllib|aiohttp|go-http-client|\bjava\/|okhttp|axios|node-fetch|undici|libwww-perl|\bruby\b|apache-httpclient|\bdart\b/i,
  ],
  ['Mobile App', /cfnetwork|dalvik/i],
  ['Web Browser', /^mozilla\/\d.*(chrome|firefox|safari|edg|opr)\//i],
];

function classifyUserAgent(agent: string): string {
  if (agent.trim() === '') return 'Unknown';
  for (const [kind, pattern] of USER_AGENT_KINDS) if (pattern.test(agent)) return kind;
  return 'Other';
}
