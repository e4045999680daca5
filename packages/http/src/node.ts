import { setMaxListeners } from 'node:events';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import type { Handler } from './handler.js';
import { NodeRequest } from './node-request.js';
import { staticText } from './static-body.js';

/** Options of {@link toNodeHandler} and {@link toRequest}. */
export interface NodeHandlerOptions {
  /** Origin used to build request URLs, e.g. `https://logs.example.com`. @default from the Host header, `http://localhost` without one */
  origin?: string;
  /** Told about failures the binding itself meets (e.g. the handler threw). @default none */
  onError?: (error: unknown) => void;
}

/** A `node:http` request listener. */
export type NodeListener = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * Converts a Node request into a web-standard `Request` whose `signal` aborts when the client
 * disconnects before the answer is complete. `req.originalUrl` (set by Express under a
 * sub-router) is preferred over `req.url`.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * import { toRequest } from '@eventlog/http/node';
 * createServer((req, res) => {
 *   const { request } = toRequest(req, res);
 *   res.end(request.url);
 * });
 * ```
 */
export function toRequest(
  req: IncomingMessage,
  res: ServerResponse,
  options: NodeHandlerOptions = {},
): { request: Request; abort: AbortController } {
  const abort = new AbortController();
  // One request's reads each listen on its signal (the core and the store, per read), and an
  // endpoint may run ten reads at once: more than Node's default of ten listeners is expected here.
  setMaxListeners(0, abort.signal);
  res.once('close', () => {
    if (!res.writableFinished) abort.abort();
  });
  const origin = options.origin ?? `http://${safeHost(req.headers.host)}`;
  const target = (req as IncomingMessage & { originalUrl?: string }).originalUrl ?? req.url ?? '/';
  const method = req.method ?? 'GET';
  let url: URL;
  try {
    // A path under a bare origin, parsed as one string, gives the URL that resolving it against the
    // origin gives, and several times faster.
    url = SAME_AS_BASE.test(target) && BARE_ORIGIN.test(origin) ? new URL(origin + target) : new URL(target, origin);
  } catch {
    url = new URL('/', origin);
  }
  if (method !== 'GET' && method !== 'HEAD') {
    const init: RequestInit & { duplex?: 'half' } = {
      method,
      headers: requestHeaders(req.headers),
      body: Readable.toWeb(req) as ReadableStream<Uint8Array>,
      duplex: 'half',
    };
    return { request: new NodeRequest(url, init, abort.signal), abort };
  }
  // Without a body the headers are appended to the built request: the same validation and list as
  // the init's, without the Request constructor's generic conversion of a header record.
  const request = new NodeRequest(url, method === 'GET' ? undefined : { method }, abort.signal);
  appendHeaders(request.headers, req.headers);
  return { request, abort };
}

/**
 * Node's parsed headers as the Request's init: a plain record when every value is a string (Node
 * joins repeated headers, all but `set-cookie`), else a Headers object with each value appended.
 */
function requestHeaders(incoming: IncomingHttpHeaders): Record<string, string> | Headers {
  const plain: Record<string, string> = {};
  for (const name in incoming) {
    const value = incoming[name];
    if (value === undefined || name.startsWith(':')) continue;
    if (typeof value !== 'string') return headersOf(incoming);
    plain[name] = value;
  }
  return plain;
}

function headersOf(incoming: IncomingHttpHeaders): Headers {
  const headers = new Headers();
  appendHeaders(headers, incoming);
  return headers;
}

/** Appends Node's parsed headers (every value of a repeated `set-cookie`) to `headers`. */
function appendHeaders(headers: Headers, incoming: IncomingHttpHeaders): void {
  for (const name in incoming) {
    const value = incoming[name];
    if (value === undefined || name.startsWith(':')) continue;
    if (Array.isArray(value)) for (const v of value) headers.append(name, v);
    else headers.append(name, value);
  }
}

/**
 * A request target that is a path (not `//host…` or `/\host…`, which a base would read as an
 * authority; tabs and newlines are dropped by the URL parser first) …
 */
const SAME_AS_BASE = /^\/(?:$|[^/\\\t\n\r])/;
/** … under an origin with no path, so that `origin + target` is the URL that resolving would give. */
const BARE_ORIGIN = /^https?:\/\/[A-Za-z0-9.\-:[\]]+$/;

function safeHost(host: string | undefined): string {
  // A Host header that is not a plain host[:port] would let a client steer the URL; fall back.
  return host && /^[A-Za-z0-9.\-:[\]]+$/.test(host) ? host : 'localhost';
}

/**
 * Writes a web-standard `Response` to a Node response, streaming its body with back-pressure (it
 * waits for `drain`) and cancelling the body when the client disconnects.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * import { writeResponse } from '@eventlog/http/node';
 * createServer((_req, res) => {
 *   void writeResponse(new Response('ok'), res);
 * });
 * ```
 */
export async function writeResponse(response: Response, res: ServerResponse): Promise<void> {
  if (res.destroyed) {
    // The client left before the answer was ready: stop the body's producer (an export's query) now.
    await response.body?.cancel().catch(() => undefined);
    return;
  }
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((value, name) => {
    if (name === 'set-cookie') return;
    headers[name] = value;
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length) headers['set-cookie'] = cookies;
  const text = staticText(response);
  if (text !== undefined) {
    res.writeHead(response.status, headers);
    res.end(text);
    return;
  }
  res.writeHead(response.status, headers);
  if (!response.body) {
    res.end();
    return;
  }
  const reader = response.body.getReader();
  let gone = false;
  const onClose = () => {
    gone = true;
    void reader.cancel().catch(() => undefined);
  };
  res.once('close', onClose);
  try {
    // Flush headers now: a streamed body (SSE) may not produce its first chunk for a while.
    res.flushHeaders();
    while (!gone) {
      const { done, value } = await reader.read();
      if (done) break;
      if (!res.write(value)) {
        await new Promise<void>((resolve) => {
          const resume = () => {
            res.off('drain', resume);
            res.off('close', resume);
            resolve();
          };
          res.on('drain', resume);
          res.on('close', resume);
        });
      }
    }
  } catch {
    // The body failed after the status was sent: end the connection so the client sees truncation.
    res.destroy();
    return;
  } finally {
    res.off('close', onClose);
  }
  if (!gone) res.end();
}

/**
 * Binds a handler to `node:http` (or anything with the same request listener signature).
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * import { createEventLog } from '@eventlog/core';
 * import { createSqliteStore } from '@eventlog/adapters/sqlite';
 * import { createHandler, defineProfile, json } from '@eventlog/http';
 * import { toNodeHandler } from '@eventlog/http/node';
 *
 * const log = createEventLog({ store: createSqliteStore() });
 * const counts = defineProfile({
 *   name: 'counts',
 *   routes: [{ method: 'GET', path: '/count', run: async ({ log }) => ({ count: await log.count() }) }],
 *   failure: (error) => json({ error: error.message }, error.status),
 * });
 * const handler = createHandler({ log, profiles: [counts] });
 * createServer(toNodeHandler(handler)).listen(3000);
 * ```
 */
export function toNodeHandler(handler: Handler, options: NodeHandlerOptions = {}): NodeListener {
  return (req, res) => {
    const { request } = toRequest(req, res, options);
    handler(request)
      .then((response) => writeResponse(response, res))
      .catch((error) => {
        options.onError?.(error);
        if (!res.headersSent) {
          res.writeHead(500, { 'content-type': 'application/json; charset=utf-8' });
          res.end('{"error":{"code":"INTERNAL","message":"Internal error."}}');
        } else res.destroy();
      });
  };
}
