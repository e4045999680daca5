import { STATUS_CODES } from 'node:http';
import { type ActorInput, type EventInput, HTTP_REQUEST_TYPE, httpRequestEvent } from '@eventlog/core';
import { CREDENTIAL_HEADERS, CREDENTIAL_QUERY_PARAMS, redactUrl } from '@eventlog/http';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { recordInBackground } from './background.js';
import { type AnyEventLog, isEventlogRequest, setRequestContext } from './context.js';

/** Query parameters whose values {@link requestLogger} replaces by default. */
export const DEFAULT_REDACTED_QUERY = [
  'access_token',
  'api_key',
  'apikey',
  'auth',
  'code',
  'key',
  'password',
  'secret',
  'signature',
  'sig',
  'token',
] as const;

/** Headers whose values {@link requestLogger} replaces by default when asked to keep them. */
export const DEFAULT_REDACTED_HEADERS = [
  'authorization',
  'cookie',
  'proxy-authorization',
  'set-cookie',
  'x-api-key',
  'x-auth-token',
] as const;

/** The replacement for redacted values. */
export const REDACTED = '[REDACTED]';

/** What {@link requestLogger} measured about one finished request; `toEvent` turns it into an event. */
export interface RequestRecord {
  /** Request method, upper case. */
  method: string;
  /** The route pattern (`req.baseUrl` + `req.route.path`, e.g. `/api/users/:id`) when a route matched, else the path. */
  path: string;
  /** The route pattern alone, or null when no route matched. */
  route: string | null;
  /** Path and query as requested, with the redacted query values replaced and no fragment. */
  url: string;
  /** The `Host` header, or null. */
  host: string | null;
  /** Response status; 499 when the client went away before the response was complete. */
  status: number;
  /** Milliseconds from the request's arrival to the end of the response. */
  durationMs: number;
  /** Response body bytes written. */
  bytes: number;
  /** Client address (`req.ip`, which honours Express's "trust proxy"), or null. */
  ip: string | null;
  /** `User-Agent` header, or null. */
  userAgent: string | null;
  /** The authenticated user as the `user` option resolved it, or null. */
  user: ActorInput | null;
  /** Tenant as the `tenant` option resolved it, or null. */
  tenantId: string | null;
  /** The headers named in `headers`, with redacted values replaced. */
  headers: Record<string, string>;
  /** Whether the client disconnected before the response was complete. */
  aborted: boolean;
  /** Epoch milliseconds of the request's arrival. */
  startedAt: number;
}

/** Options of {@link requestLogger}. */
export interface RequestLoggerOptions {
  /** The log that stores the request events. */
  log: AnyEventLog;
  /** Event type of the request events. @default HTTP_REQUEST_TYPE of `@eventlog/core` ('proxy.request', what the `proxyLogs()` profile serves) */
  type?: string;
  /** Paths not to record: a string matches that path and everything below it, a RegExp tests the path. @default [] */
  skipPaths?: readonly (string | RegExp)[];
  /**
   * Leave out the requests an `eventlogRouter` answers (the log API's own reads), so that reading
   * the access log does not add to it. @default true
   */
  skipEventlog?: boolean;
  /** Decides per request whether to skip it, after it finished. @default never */
  skip?: (req: Request, res: Response) => boolean;
  /** Fraction of requests recorded, from 0 to 1. @default 1 */
  sample?: number;
  /** Record every response with status 400 or more even when sampling would drop it. @default true */
  keepErrors?: boolean;
  /** Source of randomness for sampling, returning [0, 1). @default Math.random */
  random?: () => number;
  /**
   * Who made the request. Return an id, an actor, or nothing.
   * @default `req.user` (its `id`, `username`, `name`), then `res.locals.user`, then `req.auth.sub`
   */
  user?: (req: Request, res: Response) => ActorInput | string | number | null | undefined;
  /** Tenant of the request, for scoped reads. @default none */
  tenant?: (req: Request, res: Response) => string | number | null | undefined;
  /**
   * Query parameters whose values are replaced by `[REDACTED]`, matched case-insensitively;
   * `token` and `access_token` always are. @default DEFAULT_REDACTED_QUERY
   */
  redactQuery?: readonly string[];
  /** Request headers to keep in the event's data (lower case). @default [] */
  headers?: readonly string[];
  /** Headers among `headers` whose values are replaced by `[REDACTED]`; `authorization`, `proxy-authorization`, `cookie` and `set-cookie` always are. @default DEFAULT_REDACTED_HEADERS */
  redactHeaders?: readonly string[];
  /**
   * Client address, read when the response is done. When it throws (Express's `req.ip` does once
   * the socket is gone, e.g. after a 413 or a client reset) the address seen on arrival is used.
   * @default `req.ip`, else the socket's remote address, without an IPv4-mapped `::ffff:` prefix
   */
  ip?: (req: Request) => string | null | undefined;
  /**
   * Turns a record into the event to store; return null to store nothing. Compose with
   * {@link toRequestEvent}, whose signature is `(record, type?)`, to change what it builds.
   * @default `(record) => toRequestEvent(record, type)`
   */
  toEvent?: (record: RequestRecord, req: Request, res: Response) => EventInput | null;
  /**
   * Most request events waiting for the store at once; past it new ones are dropped (and counted in
   * one `error` event) so that a stalled store cannot grow the host's memory without bound. @default 10000
   */
  maxPending?: number;
  /** Source of "now" in epoch ms. @default Date.now */
  clock?: () => number;
}

/**
 * The event {@link requestLogger} stores by default for a request: the core's generic HTTP request
 * event (`httpRequestEvent`, type `proxy.request`), which the `proxyLogs()` profile's logs, stats,
 * timeline and analytics serve unchanged. The destination is `host` + route pattern (e.g.
 * `app.local:3000/api/users/:id`); the user becomes the actor, the redacted URL, the route and the
 * kept headers go into `data`.
 *
 * @example
 * ```ts
 * import { toRequestEvent } from '@eventlog/express';
 * const event = toRequestEvent({
 *   method: 'GET', path: '/api/users/:id', route: '/api/users/:id', url: '/api/users/7', host: 'app.local',
 *   status: 200, durationMs: 12, bytes: 512, ip: '203.0.113.9', userAgent: 'curl/8', user: { id: '7' },
 *   tenantId: null, headers: {}, aborted: false, startedAt: Date.now(),
 * });
 * ```
 */
export function toRequestEvent(record: RequestRecord, type: string = HTTP_REQUEST_TYPE): EventInput {
  const statusText = record.aborted ? 'Client Closed Request' : (STATUS_CODES[record.status] ?? '');
  const event: EventInput = httpRequestEvent({
    time: record.startedAt,
    clientIp: record.ip,
    method: record.method,
    destination: `${record.host ?? 'localhost'}${record.path}`,
    path: record.path,
    status: statusText ? `${record.status} ${statusText}` : String(record.status),
    bytes: record.bytes,
    durationMs: Math.round(record.durationMs * 1000) / 1000,
    userAgent: record.userAgent,
    tenantId: record.tenantId,
  });
  return {
    ...event,
    type,
    severity: record.status >= 500 ? 'error' : record.status >= 400 ? 'warning' : 'info',
    ...(record.user ? { actor: { type: 'user', ...record.user } } : {}),
    data: {
      url: record.url.length > 4096 ? record.url.slice(0, 4096) : record.url,
      ...(record.route ? { route: record.route } : {}),
      ...(Object.keys(record.headers).length ? { headers: record.headers } : {}),
    },
  };
}

/**
 * Express middleware that records each request of the host app as an event once its response is
 * finished: method, route pattern, status, duration, bytes, client IP, user agent and the
 * authenticated user. Recording never delays or breaks the response: events are written in the
 * background and store failures reach the log's `error` event. Install it before the routes.
 *
 * @example
 * ```ts
 * import express from 'express';
 * import { createEventLog } from '@eventlog/core';
 * import { createSqliteStore } from '@eventlog/adapters/sqlite';
 * import { requestLogger } from '@eventlog/express';
 *
 * const log = createEventLog({ store: createSqliteStore({ filename: 'events.db' }) });
 * log.on('error', (error) => console.error('eventlog:', error));
 * const app = express();
 * app.use(requestLogger({ log, skipPaths: ['/health'], sample: 0.5, headers: ['referer'] }));
 * app.get('/api/users/:id', (req, res) => {
 *   res.json({ id: req.params.id });
 * });
 * ```
 */
export function requestLogger(options: RequestLoggerOptions): RequestHandler {
  const { log } = options;
  if (!log) throw new TypeError('requestLogger needs a log, e.g. requestLogger({ log }).');
  const type = options.type ?? HTTP_REQUEST_TYPE;
  const skipEventlog = options.skipEventlog !== false;
  const sample = options.sample ?? 1;
  if (!(sample >= 0 && sample <= 1)) throw new TypeError('requestLogger: sample must be a number from 0 to 1.');
  const keepErrors = options.keepErrors !== false;
  const random = options.random ?? Math.random;
  const clock = options.clock ?? Date.now;
  const skipPaths = options.skipPaths ?? [];
  // Credentials (tokens, Authorization, cookies) are redacted whatever the host's lists say.
  const redactQuery = new Set([...(options.redactQuery ?? DEFAULT_REDACTED_QUERY), ...CREDENTIAL_QUERY_PARAMS].map((q) => q.toLowerCase()));
  const keptHeaders = (options.headers ?? []).map((h) => h.toLowerCase());
  const redactHeaders = new Set(
    [...(options.redactHeaders ?? DEFAULT_REDACTED_HEADERS), ...CREDENTIAL_HEADERS].map((h) => h.toLowerCase()),
  );
  const userOf = options.user ?? defaultUser;
  const ipOf = options.ip ?? defaultIp;
  const toEvent = options.toEvent ?? ((record: RequestRecord) => toRequestEvent(record, type));
  const record = recordInBackground(log, options.maxPending ?? 10_000, 'request events');

  const skipped = (path: string) =>
    skipPaths.some((p) => (typeof p === 'string' ? path === p || path.startsWith(p.endsWith('/') ? p : `${p}/`) : p.test(path)));

  return function eventlogRequestLogger(req: Request, res: Response, next: NextFunction): void {
    const original = req.originalUrl ?? req.url ?? '/';
    const requestPath = pathOnly(original);
    setRequestContext(req, { log, user: () => resolveUser(userOf, req, res) });
    if (skipped(requestPath)) {
      next();
      return;
    }
    const startedAt = clock();
    const started = process.hrtime.bigint();
    // Read while the socket is attached: once it is gone (a 413 that closed the connection, a client
    // reset) Express's `req.ip` getter throws, and the request must still be recorded.
    const arrivedFrom = attempt(() => ipOf(req)) ?? null;
    let bytes = 0;
    const write = res.write;
    const end = res.end;
    // Count what the app writes; Express's send() and streams all end up in write()/end().
    res.write = function countingWrite(this: Response, chunk: unknown, ...rest: unknown[]) {
      bytes += byteLength(chunk, rest[0]);
      return (write as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
    } as Response['write'];
    res.end = function countingEnd(this: Response, ...args: unknown[]) {
      if (typeof args[0] !== 'function') bytes += byteLength(args[0], args[1]);
      return (end as (...args: unknown[]) => Response).apply(this, args);
    } as Response['end'];

    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      res.off('finish', finish);
      res.off('close', finish);
      try {
        const aborted = !res.writableFinished;
        const status = aborted ? 499 : res.statusCode;
        if (skipEventlog && isEventlogRequest(req)) return;
        if (options.skip?.(req, res)) return;
        if (sample < 1 && !(keepErrors && status >= 400) && random() >= sample) return;
        const route = routePattern(req);
        const recordInfo: RequestRecord = {
          method: (req.method ?? 'GET').toUpperCase(),
          path: route ?? requestPath,
          route,
          url: redactUrl(original, redactQuery),
          host: hostOf(req),
          status,
          durationMs: Number(process.hrtime.bigint() - started) / 1e6,
          bytes,
          ip: cleanIp(attempt(() => ipOf(req), arrivedFrom)),
          userAgent: headerValue(req.headers['user-agent']),
          user: resolveUser(userOf, req, res),
          tenantId: stringOrNull(attempt(() => options.tenant?.(req, res))),
          headers: pickHeaders(req, keptHeaders, redactHeaders),
          aborted,
          startedAt,
        };
        const event = toEvent(recordInfo, req, res);
        if (event) record(event);
      } catch (error) {
        log.emit('error', error);
      }
    };
    res.once('finish', finish);
    res.once('close', finish);
    next();
  };
}

function pathOnly(url: string): string {
  const end = url.search(/[?#]/);
  return end === -1 ? url : url.slice(0, end);
}

/** The matched route as a pattern: the mount path of its router joined with the route's own path. */
function routePattern(req: Request): string | null {
  const route = (req as Request & { route?: { path?: unknown } }).route;
  if (!route || route.path === undefined) return null;
  const own = typeof route.path === 'string' ? route.path : String(route.path);
  const base = req.baseUrl ?? '';
  if (!base) return own;
  return own === '/' ? base : `${base}${own}`;
}

function pickHeaders(req: Request, names: readonly string[], redact: ReadonlySet<string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of names) {
    const value = headerValue(req.headers[name]);
    if (value !== null) out[name] = redact.has(name) ? REDACTED : value;
  }
  return out;
}

function headerValue(value: string | string[] | undefined): string | null {
  if (value === undefined) return null;
  const text = Array.isArray(value) ? value.join(', ') : value;
  return text.length > 1024 ? text.slice(0, 1024) : text;
}

function hostOf(req: Request): string | null {
  const host = headerValue(req.headers.host);
  return host && /^[A-Za-z0-9.\-:[\]]+$/.test(host) ? host : null;
}

function defaultIp(req: Request): string | null {
  return req.ip ?? req.socket?.remoteAddress ?? null;
}

/** The value, or `fallback` when reading it throws (a getter of a request whose socket is gone). */
function attempt<T, F = undefined>(read: () => T, fallback?: F): T | F {
  try {
    return read();
  } catch {
    return fallback as F;
  }
}

function cleanIp(ip: string | null | undefined): string | null {
  if (!ip) return null;
  return ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip;
}

function stringOrNull(value: string | number | null | undefined): string | null {
  return value === null || value === undefined || value === '' ? null : String(value);
}

function byteLength(chunk: unknown, encoding: unknown): number {
  if (chunk === undefined || chunk === null || typeof chunk === 'function') return 0;
  if (typeof chunk === 'string') return Buffer.byteLength(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
  if (chunk instanceof Uint8Array) return chunk.byteLength;
  return 0;
}

type UserResolver = NonNullable<RequestLoggerOptions['user']>;

/** Resolves the user option into an actor; a failing resolver means "no user", never a failed request. @internal */
export function resolveUser(userOf: UserResolver, req: Request, res: Response): ActorInput | null {
  let value: ReturnType<UserResolver>;
  try {
    value = userOf(req, res);
  } catch {
    return null;
  }
  if (value === null || value === undefined || value === '') return null;
  if (typeof value === 'string' || typeof value === 'number') return { id: String(value) };
  return value.id === undefined && value.name === undefined ? null : value;
}

interface UserLike {
  id?: unknown;
  _id?: unknown;
  username?: unknown;
  name?: unknown;
  email?: unknown;
}

/** `req.user`, then `res.locals.user`, then `req.auth.sub`. @internal */
export function defaultUser(req: Request, res: Response): ActorInput | null {
  const candidate = (req as Request & { user?: unknown }).user ?? res.locals?.user;
  if (candidate !== undefined && candidate !== null) {
    if (typeof candidate === 'string' || typeof candidate === 'number') return { id: String(candidate) };
    if (typeof candidate === 'object') {
      const u = candidate as UserLike;
      const id = scalar(u.id) ?? scalar(u._id) ?? scalar(u.username) ?? scalar(u.email);
      const name = scalar(u.username) ?? scalar(u.name) ?? scalar(u.email);
      if (id !== null || name !== null) return { id: id ?? name, ...(name !== null ? { name } : {}) };
    }
  }
  const auth = (req as Request & { auth?: { sub?: unknown } }).auth;
  const sub = scalar(auth?.sub);
  return sub === null ? null : { id: sub };
}

function scalar(value: unknown): string | null {
  if (typeof value === 'string' && value !== '') return value.slice(0, 255);
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'object' && value !== null && typeof (value as { toHexString?: unknown }).toHexString === 'function') {
    return String((value as { toHexString: () => string }).toHexString());
  }
  return null;
}
