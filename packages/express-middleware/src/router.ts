import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AnyEventLog } from '@eventlog/http';

import {
  createHandler,
  createLimiter,
  createRouter,
  type Handler,
  type HandlerOptions,
  type Limiter,
  type Profile,
  type SheddingOptions,
  sheddingDefaults,
} from '@eventlog/http';
import { toRequest, writeResponse } from '@eventlog/http/node';
import type { Request as ExpressRequest, Response as ExpressResponse, NextFunction, RequestHandler } from 'express';
import { markEventlogRequest } from './context.js';

/** Options of {@link eventlogRouter}. */
export interface EventlogRouterOptions {
  /** The event log to serve. */
  log: AnyEventLog;
  /** The APIs to serve, e.g. `[newApi({ … }), native({ … })]`; routes are tried profile by profile. */
  profiles: readonly Profile[];
  /**
   * What to do with a request that no profile serves (no route pattern matches and it is not below
   * a profile's `prefixes`): `'next'` passes it on to the app's later middleware, `'answer'` lets the
   * handler answer 404 itself. @default 'next'
   */
  unmatched?: 'next' | 'answer';
  /** Origin used to build request URLs, e.g. `https://logs.example.com`. @default the request's protocol and Host header */
  origin?: string;
  /** Largest request body, in bytes, unless a route says otherwise. @default 1048576 */
  maxBodyBytes?: number;
  /** Told about every 5xx answer with its cause, for the host's own logging. @default emits `error` on the log */
  onError?: (error: unknown, request: Request) => void;
  /** Check that the log registers every dimension and metric the profiles' presets declare. @default true */
  checkPresets?: boolean;
  /**
   * Load shedding of expensive routes (see `createHandler`'s `shedding`); one bound covers every
   * mount path of this router. `false` turns it off. @default the handler's defaults
   */
  shedding?: SheddingOptions | Limiter | false;
}

/** The middleware {@link eventlogRouter} returns; mount it with `app.use(path, router)`. */
export type EventlogRouter = RequestHandler & {
  /** The web-standard handler for a given mount path (what the router calls). */
  handlerFor(baseUrl: string): Handler;
};

/** Distinct mount paths (e.g. from `app.use('/t/:tenant', …)`) whose handlers are kept. */
const MAX_CACHED_HANDLERS = 64;

interface ParsedRequest extends IncomingMessage {
  body?: unknown;
  _body?: boolean;
}

/**
 * Mounts the `@eventlog/http` handler in Express, at any path and under any sub-router: the
 * handler sees the public URL (`req.originalUrl`) and the mount path (`req.baseUrl`) as its base
 * path. Bodies already parsed by `express.json()` or `express.urlencoded()` are passed on,
 * responses (CSV exports, server-sent events) are streamed with back-pressure, and the request's
 * `signal` aborts when the client disconnects. Works with Express 4 and 5.
 *
 * @example
 * ```ts
 * import express from 'express';
 * import { createEventLog } from '@eventlog/core';
 * import { createSqliteStore } from '@eventlog/adapters/sqlite';
 * import { native } from '@eventlog/http';
 * import { eventlogRouter } from '@eventlog/express';
 *
 * const log = createEventLog({ store: createSqliteStore({ filename: 'events.db' }) });
 * const app = express();
 * app.use(express.json());
 * app.use('/logs', eventlogRouter({ log, profiles: [native({ authenticate: () => ({ role: 'admin' }) })] }));
 * app.listen(3000);
 * ```
 */
export function eventlogRouter(options: EventlogRouterOptions): EventlogRouter {
  const { log, profiles } = options;
  if (!log) throw new TypeError('eventlogRouter needs a log, e.g. eventlogRouter({ log, profiles: [native({ … })] }).');
  if (!Array.isArray(profiles) || profiles.length === 0) throw new TypeError('eventlogRouter needs at least one profile.');
  const onError = options.onError ?? ((error: unknown) => log.emit('error', error));
  // One limiter for every mount path's handler, so that the bound is per router (per store), not per path.
  const shedding =
    options.shedding === false
      ? false
      : typeof (options.shedding as Limiter | undefined)?.acquire === 'function'
        ? (options.shedding as Limiter)
        : createLimiter(options.shedding as SheddingOptions | undefined, sheddingDefaults(log.store.engine));
  const handlerOptions: Omit<HandlerOptions, 'basePath'> = {
    log,
    profiles,
    onError,
    shedding,
    ...(options.maxBodyBytes !== undefined ? { maxBodyBytes: options.maxBodyBytes } : {}),
    ...(options.checkPresets !== undefined ? { checkPresets: options.checkPresets } : {}),
  };
  // Built once up front so that a misconfiguration (a missing preset) throws at startup, not per request.
  const handlers = new Map<string, Handler>([['', createHandler(handlerOptions)]]);
  const handlerFor = (baseUrl: string): Handler => {
    let handler = handlers.get(baseUrl);
    if (handler) {
      // Refresh its position so the map evicts the least recently used mount path first.
      handlers.delete(baseUrl);
      handlers.set(baseUrl, handler);
      return handler;
    }
    handler = createHandler({ ...handlerOptions, checkPresets: false, basePath: baseUrl });
    handlers.set(baseUrl, handler);
    if (handlers.size > MAX_CACHED_HANDLERS) {
      const oldest = handlers.keys().next().value;
      if (oldest !== undefined && oldest !== '') handlers.delete(oldest);
    }
    return handler;
  };

  const owned = createRouter<true>();
  for (const profile of profiles) for (const route of profile.routes) owned.add(route.method, route.path, true);
  const prefixes = profiles.flatMap((p) => p.prefixes ?? []);
  const serves = (path: string): boolean =>
    owned.matchPath(path).length > 0 ||
    prefixes.some((prefix) => path === prefix || path.startsWith(prefix.endsWith('/') ? prefix : `${prefix}/`));

  const middleware = (req: ExpressRequest, res: ExpressResponse, next: NextFunction): void => {
    const path = pathOf(req.url);
    if (options.unmatched !== 'answer' && !serves(path)) {
      next();
      return;
    }
    markEventlogRequest(req);
    let request: Request;
    try {
      request = toWebRequest(req, res, options.origin ?? originOf(req));
    } catch (error) {
      next(error);
      return;
    }
    handlerFor(req.baseUrl ?? '')(request)
      .then((response) => writeResponse(response, res))
      .catch((error: unknown) => {
        onError(error, request);
        if (!res.headersSent) next(error);
        else res.destroy();
      });
  };
  return Object.assign(middleware, { handlerFor }) as EventlogRouter;
}

function pathOf(url: string | undefined): string {
  const raw = url ?? '/';
  const end = raw.search(/[?#]/);
  const path = end === -1 ? raw : raw.slice(0, end);
  return path.startsWith('/') ? path : `/${path}`;
}

function originOf(req: ExpressRequest): string | undefined {
  // `req.protocol` honours the app's "trust proxy" setting; the host part is left to toRequest's checks.
  const protocol = typeof req.protocol === 'string' && /^https?$/.test(req.protocol) ? req.protocol : 'http';
  const host = req.headers.host;
  return host && /^[A-Za-z0-9.\-:[\]]+$/.test(host) ? `${protocol}://${host}` : undefined;
}

/**
 * Builds the web request for the handler. When a body parser already consumed the stream, the
 * parsed `req.body` is re-encoded: buffers and strings as sent, anything else as JSON.
 */
function toWebRequest(req: ExpressRequest, res: ExpressResponse, origin: string | undefined): Request {
  const node = req as unknown as ParsedRequest;
  const method = (req.method ?? 'GET').toUpperCase();
  const consumed = method !== 'GET' && method !== 'HEAD' && (node._body === true || node.readableEnded);
  if (!consumed) return toRequest(node, res as unknown as ServerResponse, origin ? { origin } : {}).request;
  // toRequest would wrap the spent stream, which undici refuses; rebuild the request around req.body.
  const { request } = toRequest(
    Object.assign(Object.create(node) as ParsedRequest, { method: 'GET' }),
    res as unknown as ServerResponse,
    origin ? { origin } : {},
  );
  const headers = new Headers(request.headers);
  headers.delete('content-length');
  headers.delete('transfer-encoding');
  headers.delete('content-encoding');
  let body: BodyInit | null = null;
  const parsed = node.body;
  if (Buffer.isBuffer(parsed)) body = new Uint8Array(parsed);
  else if (typeof parsed === 'string') body = parsed;
  else if (parsed !== undefined && parsed !== null && (node._body === true || !isEmptyObject(parsed))) {
    // Express 4 sets `req.body = {}` even when no parser ran, so an empty object counts only when a parser says so.
    body = JSON.stringify(parsed);
    headers.set('content-type', 'application/json; charset=utf-8');
  }
  return new Request(request.url, { method, headers, body, signal: request.signal });
}

function isEmptyObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length === 0;
}
