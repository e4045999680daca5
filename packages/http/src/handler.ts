import { isEventLogError, type ValidationIssue } from '@eventlog/core';
import type { z } from 'zod';
import { withSignal } from './abortable-log.js';
import { DEFAULT_MAX_BODY_BYTES, readBody } from './body.js';
import { describeIssues, HttpError, toHttpError } from './errors.js';
import { isNodeRequest, parsedUrlOf } from './node-request.js';
import { parseQuery, type QueryParse, queryParser } from './params.js';
import { type AnyEventLog, type CorsOptions, json, type Profile, type RequestContext, type Route, type RouteContext } from './profile.js';
import { redactedRequest } from './redact.js';
import { createRouter, type Method } from './router.js';
import { createLimiter, type Limiter, type Release, type SheddingOptions, sheddingDefaults } from './shedding.js';
import { withDeferredBodies } from './static-body.js';

/** A web-standard request handler. */
export type Handler = (request: Request) => Promise<Response>;

/** Options of {@link createHandler}. */
export interface HandlerOptions {
  /** The event log to serve. */
  log: AnyEventLog;
  /** The APIs to serve; routes are tried profile by profile, in order. */
  profiles: readonly Profile[];
  /** A path prefix the handler is mounted under, e.g. `/logs`; requests outside it get 404. @default '' */
  basePath?: string;
  /** Largest request body, in bytes, unless a route says otherwise. @default 1048576 */
  maxBodyBytes?: number;
  /**
   * Told about every 5xx answer with its cause, for the host's own logging. It gets a copy of the
   * request with credentials redacted ({@link redactedRequest}), never the original. @default none
   */
  onError?: (error: unknown, request: Request) => void;
  /** Check that the log registers every event type (unless it accepts any), dimension and metric the profiles' presets declare. @default true */
  checkPresets?: boolean;
  /**
   * Load shedding of routes with `cost: 'expensive'`: at most `maxConcurrent` run at once, up to
   * `maxQueue` wait in line for at most `queueTimeoutMs`, and the rest are refused at once with
   * 503 and `Retry-After` in the profile's own error envelope. Pass a {@link Limiter} to share one
   * bound between handlers, or `false` to turn shedding off. Cheap routes are never limited.
   * @default {@link sheddingDefaults} of the log's store engine
   */
  shedding?: SheddingOptions | Limiter | false;
}

interface Entry {
  route: Route;
  profile: Profile;
}

/**
 * Creates a framework-free handler `(request) => Promise<Response>` serving the given profiles.
 * Bad input never yields a 5xx or a stack trace: every failure goes through the profile's envelope.
 *
 * @example
 * ```ts
 * import { createEventLog } from '@eventlog/core';
 * import { createSqliteStore } from '@eventlog/adapters/sqlite';
 * import { createHandler, defineProfile, json } from '@eventlog/http';
 *
 * const log = createEventLog({ store: createSqliteStore() });
 * const counts = defineProfile({
 *   name: 'counts',
 *   routes: [{ method: 'GET', path: '/count', run: async ({ log }) => ({ count: await log.count() }) }],
 *   failure: (error) => json({ error: error.message }, error.status),
 * });
 * const handler = createHandler({ log, profiles: [counts] });
 * const response = await handler(new Request('http://localhost/count'));
 * ```
 */
export function createHandler(options: HandlerOptions): Handler {
  const { log, profiles } = options;
  if (!log) throw new TypeError('createHandler needs a log, e.g. createHandler({ log, profiles: [native()] }).');
  if (!Array.isArray(profiles) || profiles.length === 0) throw new TypeError('createHandler needs at least one profile.');
  const basePath = normalizeBase(options.basePath ?? '');
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const limiter =
    options.shedding === false
      ? undefined
      : isLimiter(options.shedding)
        ? options.shedding
        : createLimiter(options.shedding, sheddingDefaults(log.store.engine));
  if (options.checkPresets !== false) for (const profile of profiles) checkPreset(log, profile);

  const router = createRouter<Entry>();
  for (const profile of profiles) for (const route of profile.routes) router.add(route.method, route.path, { route, profile });

  const owner = (path: string): Profile | undefined =>
    profiles.find((p: Profile) =>
      p.prefixes?.some((prefix: string) => path === prefix || path.startsWith(prefix.endsWith('/') ? prefix : `${prefix}/`)),
    );

  const fail = (error: unknown, context: RequestContext, profile: Profile | undefined, cors?: CorsOptions): Response => {
    const httpError = toHttpError(error);
    if (httpError.isServerError) options.onError?.(error, redactedRequest(context.request));
    let response: Response;
    try {
      response = profile
        ? profile.failure(httpError, context)
        : json({ error: { code: httpError.code, message: httpError.message } }, httpError.status);
    } catch (shapeError) {
      options.onError?.(shapeError, redactedRequest(context.request));
      response = json({ error: { code: 'INTERNAL', message: 'Internal error.' } }, 500);
    }
    for (const [name, value] of Object.entries(httpError.headers)) response.headers.set(name, value);
    if (cors) applyCors(response.headers, context.request, cors);
    return response;
  };

  return async function handler(request: Request): Promise<Response> {
    let url: URL;
    try {
      // The Node binding has parsed it already; it is this request's own, so it is not parsed again.
      url = parsedUrlOf(request) ?? new URL(request.url);
    } catch {
      return json({ error: { code: 'BAD_REQUEST', message: 'The request URL is malformed.' } }, 400);
    }
    const path = stripBase(url.pathname, basePath);
    // Reads through the route's log carry the request's signal: a client that leaves stops its query.
    const base: RequestContext = {
      request,
      url,
      path: path ?? url.pathname,
      log: withSignal(log, request.signal),
      signal: request.signal,
      basePath,
    };
    if (path === null) return fail(new HttpError('ROUTE_NOT_FOUND', `Nothing is served at ${url.pathname}.`), base, undefined);

    if (request.method === 'OPTIONS') {
      const entries = router.matchPath(path);
      const cors = entries.map((e) => corsOf(e.route)).find(Boolean);
      if (!cors) {
        const allow = [...new Set(entries.flatMap((e) => methodsOf(e.route)))];
        const error = entries.length
          ? new HttpError('METHOD_NOT_ALLOWED', `OPTIONS is not supported here; use ${allow.join(', ')}.`, {
              headers: { Allow: allow.join(', ') },
            })
          : new HttpError('ROUTE_NOT_FOUND', `Nothing is served at ${url.pathname}.`);
        return fail(error, base, entries[0]?.profile ?? owner(path));
      }
      const allow = [...new Set(entries.filter((e) => corsOf(e.route)).flatMap((e) => methodsOf(e.route)))];
      const headers = new Headers({ 'Access-Control-Allow-Methods': [...allow, 'OPTIONS'].join(', ') });
      applyCors(headers, request, cors, true);
      return new Response(null, { status: 204, headers });
    }

    const match = router.match(request.method, path);
    if (match.kind === 'not-found') {
      return fail(new HttpError('ROUTE_NOT_FOUND', `Nothing is served at ${url.pathname}.`), base, owner(path));
    }
    if (match.kind === 'method-not-allowed') {
      const allow = match.allow.join(', ');
      const error = new HttpError('METHOD_NOT_ALLOWED', `${request.method} is not supported on ${url.pathname}; use ${allow}.`, {
        headers: { Allow: allow },
      });
      const first = match.values[0];
      return fail(error, base, first?.profile ?? owner(path), first ? corsOf(first.route) : undefined);
    }

    const { route, profile } = match.value;
    const cors = corsOf(route);
    let release: Release | undefined;
    try {
      const auth = route.auth ? await route.auth(base) : undefined;
      const params = parseWith(route.params, match.params, 'path parameter');
      const query = route.query
        ? checked(queryParserOf(route.query)(parseQuery(url.searchParams)), 'query parameter')
        : parseQuery(url.searchParams);
      let body: unknown;
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        const raw = await readBody(request, route.maxBodyBytes ?? maxBodyBytes);
        if (route.body) body = parseWith(route.body, raw, 'body field');
        else if (raw !== undefined)
          throw new HttpError('UNSUPPORTED_MEDIA_TYPE', `${request.method} ${url.pathname} takes no request body.`);
      }
      if (limiter && route.cost === 'expensive') {
        // Queued only after auth and input checks: a bad or anonymous request never takes a place in line.
        release = await limiter.acquire(request.signal);
        if (request.signal.aborted) throw request.signal.reason;
      }
      const context: RouteContext = { ...base, auth, params, query, body };
      const result = await route.run(context);
      // Under the Node binding the answer's string is written as is: its web body is built only if read.
      let response =
        result instanceof Response
          ? result
          : withDeferredBodies(isNodeRequest(request), () => (profile.success ? profile.success(result, context) : json(result)));
      if (release) {
        // Data is complete once run returns; a Response of its own (an export) may still be producing rows.
        if (result instanceof Response) response = releaseAfterBody(response, release, request.signal);
        else release();
        release = undefined;
      }
      if (request.method === 'HEAD') {
        await response.body?.cancel().catch(() => undefined);
        response = new Response(null, { status: response.status, headers: response.headers });
      }
      if (cors) applyCors(response.headers, request, cors);
      return response;
    } catch (error) {
      release?.();
      if (request.signal.aborted) {
        // The client went away: nobody reads the answer. Work stopped by its abort is no failure to
        // report, but a genuine server error met on the way still reaches the host's onError.
        if (!isAbort(error, request.signal) && toHttpError(error).isServerError) options.onError?.(error, redactedRequest(request));
        return clientClosed();
      }
      return fail(error, base, profile, cors);
    }
  };
}

function isLimiter(value: SheddingOptions | Limiter | undefined): value is Limiter {
  return typeof (value as Limiter | undefined)?.acquire === 'function';
}

function isAbort(error: unknown, signal: AbortSignal): boolean {
  return error === signal.reason || isEventLogError(error, 'ABORTED') || (error instanceof Error && error.name === 'AbortError');
}

/** nginx's "client closed request": written to nobody, but visible to access logs and tests. */
function clientClosed(): Response {
  return new Response(null, { status: 499 });
}

/**
 * Keeps an expensive request's slot until its body is fully sent, cancelled or failed (a streamed
 * export works while the client reads), and cancels the body when the client goes away, which
 * stops the export's iteration.
 */
function releaseAfterBody(response: Response, release: Release, signal: AbortSignal): Response {
  const source = response.body;
  if (!source) {
    release();
    return response;
  }
  const reader = source.getReader();
  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    signal.removeEventListener('abort', onAbort);
    release();
  };
  const stop = (reason: unknown) => {
    // The slot is given back only once the source has stopped, so the bound counts work still running.
    void reader
      .cancel(reason)
      .catch(() => undefined)
      .finally(finish);
  };
  const onAbort = () => stop(signal.reason);
  const body = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const next = await reader.read();
          if (next.done) {
            finish();
            controller.close();
          } else controller.enqueue(next.value);
        } catch (error) {
          finish();
          controller.error(error);
        }
      },
      cancel(reason) {
        stop(reason);
      },
    },
    { highWaterMark: 0 },
  );
  signal.addEventListener('abort', onAbort, { once: true });
  if (signal.aborted) onAbort();
  return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
}

function parseWith(schema: z.ZodType | undefined, value: unknown, where: string): unknown {
  return schema ? checked(schema.safeParse(value), where) : value;
}

const queryParsers = new WeakMap<z.ZodType, QueryParse>();

function queryParserOf(schema: z.ZodType): QueryParse {
  let parse = queryParsers.get(schema);
  if (!parse) {
    parse = queryParser(schema);
    queryParsers.set(schema, parse);
  }
  return parse;
}

function checked(parsed: z.ZodSafeParseResult<unknown>, where: string): unknown {
  if (parsed.success) return parsed.data;
  const issues: ValidationIssue[] = parsed.error.issues.map((issue) => ({
    path: issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p)),
    message: issue.message,
  }));
  throw new HttpError('BAD_REQUEST', `Invalid ${describeIssues(issues, where)}.`, { issues });
}

function methodsOf(route: Route): Method[] {
  return typeof route.method === 'string' ? [route.method] : [...route.method];
}

function corsOf(route: Route): CorsOptions | undefined {
  if (!route.cors) return undefined;
  return route.cors === true ? {} : route.cors;
}

function applyCors(headers: Headers, request: Request, cors: CorsOptions, preflight = false): void {
  const origin = request.headers.get('origin');
  const allowed = cors.origin ?? '*';
  if (typeof allowed === 'function') {
    if (!origin || !allowed(origin)) return;
    headers.set('Access-Control-Allow-Origin', origin);
    headers.append('Vary', 'Origin');
  } else {
    headers.set('Access-Control-Allow-Origin', allowed);
    if (allowed !== '*') headers.append('Vary', 'Origin');
  }
  if (preflight) {
    const requested = request.headers.get('access-control-request-headers');
    headers.set('Access-Control-Allow-Headers', requested ?? (cors.allowHeaders ?? ['Authorization', 'Content-Type']).join(', '));
    headers.set('Access-Control-Max-Age', String(cors.maxAge ?? 600));
  }
}

function normalizeBase(basePath: string): string {
  if (basePath === '' || basePath === '/') return '';
  const trimmed = basePath.replace(/\/+$/, '');
  return trimmed.startsWith('/') ? trimmed : `/${trimmed}`;
}

function stripBase(pathname: string, basePath: string): string | null {
  if (basePath === '') return pathname;
  if (pathname === basePath) return '/';
  return pathname.startsWith(`${basePath}/`) ? pathname.slice(basePath.length) : null;
}

function checkPreset(log: AnyEventLog, profile: Profile): void {
  const preset = profile.preset;
  if (!preset) return;
  const missing = [
    ...(log.registry.allowUnknownTypes ? [] : preset.types.filter((t) => !log.registry.types.has(t.name)).map((t) => `type "${t.name}"`)),
    ...preset.dimensions.filter((d) => !log.registry.dimensions.has(d.name)).map((d) => `dimension "${d.name}"`),
    ...preset.metrics.filter((m) => !log.registry.metrics.has(m.name)).map((m) => `metric "${m.name}"`),
  ];
  if (missing.length) {
    throw new TypeError(
      `Profile "${profile.name}" reads ${missing.join(', ')}, which the log does not declare; pass its preset: createEventLog({ presets: [${preset.name}Preset] }).`,
    );
  }
}
