import type { EventLog, Preset } from '@eventlog/core';
import type { z } from 'zod';
import type { HttpError } from './errors.js';
import type { Method } from './router.js';
import { textResponse } from './static-body.js';

/**
 * An event log with any preset types. `EventLog<T>` with registered types is not assignable to the
 * default `EventLog`, so the HTTP layer accepts this instead.
 */
// biome-ignore lint/suspicious/noExplicitAny: `any` is the only type argument every EventLog<T> is assignable to.
export type AnyEventLog = EventLog<any>;

/** What every part of a profile gets to know about the request being served. */
export interface RequestContext {
  /** The web-standard request. */
  readonly request: Request;
  /** The parsed request URL. */
  readonly url: URL;
  /** The path below the handler's `basePath`, always starting with `/`. */
  readonly path: string;
  /** The event log the handler serves. */
  readonly log: AnyEventLog;
  /** Aborted when the client goes away; pass it on to long work. */
  readonly signal: AbortSignal;
  /** Where the handler is mounted (its `basePath`, or an Express mount path), `''` at the root. */
  readonly basePath: string;
}

/** The context a route's `run` receives: the request plus its validated inputs and its auth result. */
export interface RouteContext<Q = unknown, B = unknown, P = unknown, A = unknown> extends RequestContext {
  /** Query parameters parsed by the route's `query` schema. */
  readonly query: Q;
  /** The body parsed by the route's `body` schema (JSON or form-encoded). */
  readonly body: B;
  /** Path parameters parsed by the route's `params` schema. */
  readonly params: P;
  /** What the route's `auth` hook resolved. */
  readonly auth: A;
}

/** Cross-origin settings of a route. */
export interface CorsOptions {
  /** Allowed origin: `*`, one origin, or a predicate on the `Origin` header. @default '*' */
  origin?: string | ((origin: string) => boolean);
  /** Request headers a browser may send. @default ['Authorization', 'Content-Type'] */
  allowHeaders?: readonly string[];
  /** Seconds a browser may cache the preflight answer. @default 600 */
  maxAge?: number;
}

/** How a route is described in the generated OpenAPI document. */
export interface RouteDocs {
  /** One line shown in the operation list. */
  summary?: string;
  /** Longer prose. */
  description?: string;
  /** Groups operations. */
  tags?: readonly string[];
  /** Stable operation id. @default derived from method and path */
  operationId?: string;
  /** Schema of the success body (already enveloped), for the document. */
  response?: z.ZodType;
  /** Schema of the request body shown in the document when it differs from the route's `body`. */
  request?: z.ZodType;
  /** Whether the route needs credentials, for the document's `security`. @default true when the route has `auth` */
  secured?: boolean;
  /** Media type of the success body. @default 'application/json' */
  contentType?: string;
  /** Status of the success answer. @default 200 */
  status?: number;
  /** Leave the route out of the document. @default false */
  hidden?: boolean;
}

/**
 * One endpoint: where it lives, the zod schemas of its inputs, an auth hook, and the call into the
 * core. `run` returns either a `Response` (streams, CSV, SSE, special envelopes) or plain data that
 * the profile's `success` wraps into the product's envelope.
 */
// biome-ignore lint/suspicious/noExplicitAny: the defaults let one `Route[]` hold routes of any input types (run is contravariant in them).
export interface Route<Q = any, B = any, P = any, A = any> {
  /** Method or methods served. */
  readonly method: Method | readonly Method[];
  /** Path pattern or patterns (see {@link compilePath}), relative to the handler's `basePath`. */
  readonly path: string | readonly string[];
  /** Schema of the path parameters (an object of strings in). */
  readonly params?: z.ZodType<P>;
  /** Schema of the query (an object of strings, or string arrays for repeated keys, in). */
  readonly query?: z.ZodType<Q>;
  /** Schema of the body; without one a non-empty body is refused with 415. */
  readonly body?: z.ZodType<B>;
  /** Resolves who is calling, or throws an {@link HttpError}; runs before inputs are parsed. */
  readonly auth?: (context: RequestContext) => A | Promise<A>;
  /** Serve cross-origin requests, including the OPTIONS preflight. @default false */
  readonly cors?: boolean | CorsOptions;
  /** Largest body accepted, in bytes. @default the handler's `maxBodyBytes` */
  readonly maxBodyBytes?: number;
  /** The call into the core. */
  readonly run: (context: RouteContext<Q, B, P, A>) => unknown | Promise<unknown>;
  /** OpenAPI description. */
  readonly docs?: RouteDocs;
  /**
   * How heavy the route is for the store: `expensive` marks aggregations (stats, timelines, top-N,
   * dashboards, searches with totals) and CSV exports, which a handler may queue or shed under load.
   * @default 'cheap'
   */
  readonly cost?: 'cheap' | 'expensive';
}

/**
 * A product's HTTP API as data: its routes, the preset its events need, and two small functions
 * that shape the product's success and error envelopes.
 */
export interface Profile {
  /** Short name, e.g. `newApi`. */
  readonly name: string;
  /** Event types, dimensions and metrics the routes read; the host passes it to `createEventLog`. */
  readonly preset?: Preset;
  /** The endpoints, tried in order. */
  readonly routes: readonly Route[];
  /**
   * Path prefixes the product owns: an unknown path or wrong method below one is answered in this
   * profile's error envelope instead of the handler's plain one.
   */
  readonly prefixes?: readonly string[];
  /** Wraps what a route's `run` returned into the product's success answer. @default JSON, status 200 */
  readonly success?: (data: unknown, context: RouteContext) => Response;
  /** Shapes any failure into the product's error answer, with `error.status` unless the product says otherwise. */
  readonly failure: (error: HttpError, context: RequestContext) => Response;
}

/**
 * Declares a route with its input types inferred from its zod schemas.
 *
 * @example
 * ```ts
 * import { z } from 'zod';
 * import { defineRoute } from '@eventlog/http';
 * const countRoute = defineRoute({
 *   method: 'GET',
 *   path: '/count',
 *   query: z.object({ type: z.string().optional() }),
 *   run: async ({ log, query }) => ({ count: await log.count(query.type ? { type: query.type } : undefined) }),
 * });
 * ```
 */
export function defineRoute<Q = Record<string, never>, B = undefined, P = Record<string, never>, A = undefined>(
  route: Route<Q, B, P, A>,
): Route<Q, B, P, A> {
  return route;
}

/**
 * Declares a profile. It returns its argument unchanged: annotate the value as {@link Profile} instead.
 *
 * @deprecated Write `const profile: Profile = { … }`; this identity wrapper will be removed.
 * @example
 * ```ts
 * import { json, type Profile } from '@eventlog/http';
 * const health: Profile = {
 *   name: 'health',
 *   routes: [{ method: 'GET', path: '/health', run: () => ({ ok: true }) }],
 *   failure: (error) => json({ error: error.message }, error.status),
 * };
 * ```
 */
export function defineProfile(profile: Profile): Profile {
  return profile;
}

/** What a {@link createRouteGroup} call shares between its routes. */
export interface RouteGroupOptions<A> {
  /** Resolves who is calling, or throws an {@link HttpError}; runs once per request, before the route's inputs are parsed. */
  readonly authenticate: (context: RequestContext) => A | Promise<A>;
}

/** Routes that share one `authenticate` step; see {@link createRouteGroup}. */
export interface RouteGroup<A> {
  /** Declares a route of the group (inputs inferred from its schemas, `auth` typed as the group's caller) and adds it to {@link RouteGroup.routes}. */
  route<Q = Record<string, never>, B = undefined, P = Record<string, never>>(
    route: Route<Q, B, P, A> & { readonly auth?: never },
  ): Route<Q, B, P, A>;
  /** Every route declared so far, in order, each authenticated by the group. */
  readonly routes: readonly Route[];
}

/**
 * A route group: the middleware step that authenticates a request is written once for the group
 * instead of on every route, and each route's `run` gets the group's caller as `auth`.
 *
 * @example
 * ```ts
 * import { bearerToken, createRouteGroup, HttpError } from '@eventlog/http';
 * const admin = createRouteGroup({
 *   authenticate: ({ request }) => {
 *     if (bearerToken(request) !== 'secret') throw new HttpError('UNAUTHORIZED', 'Send Authorization: Bearer <token>.');
 *     return { role: 'admin' as const };
 *   },
 * });
 * admin.route({ method: 'GET', path: '/count', run: async ({ log }) => ({ count: await log.count() }) });
 * const routes = admin.routes;
 * ```
 */
export function createRouteGroup<A>(options: RouteGroupOptions<A>): RouteGroup<A> {
  const routes: Route[] = [];
  return {
    route(route) {
      const grouped = { ...route, auth: options.authenticate };
      routes.push(grouped);
      return grouped;
    },
    get routes() {
      return [...routes];
    },
  };
}

/**
 * A JSON response with `charset=utf-8`.
 *
 * @example
 * ```ts
 * import { json } from '@eventlog/http';
 * const response = json({ success: true }, 200, { 'Cache-Control': 'no-store' });
 * ```
 */
export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return textResponse(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json; charset=utf-8', ...headers },
  });
}
