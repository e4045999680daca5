import { json, type Profile, type RequestContext } from '@eventlog/http';
import { type Asset, etagOf, loadUiAssets, type UiAssets } from './assets.js';
import { renderIndex } from './html.js';

/** Options of {@link viewer}. */
export interface ViewerOptions {
  /** Where the page is served, relative to the handler's base path. @default '/eventlog/viewer' */
  path?: string;
  /** The prefix of the native API the page reads, relative to the handler's base path (the native profile's `prefix`). @default '/eventlog' */
  api?: string;
  /** The page title. @default 'Event log' */
  title?: string;
}

/**
 * The Content-Security-Policy of the page: scripts and styles from its own origin only (no inline
 * script or style markup), requests to its own origin only, never framed by another site.
 */
export const VIEWER_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'self'";

const SECURITY_HEADERS = {
  'Content-Security-Policy': VIEWER_CSP,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
} as const;

/**
 * The log viewer page as a profile: mount it next to the native API and open
 * `<path>#token=<bearer token>`. It serves one HTML page, one JavaScript bundle and one stylesheet
 * built into the package (no CDN, nothing fetched at run time) under a strict CSP; the page reads
 * and exports events through the native API only, sending the token as `Authorization: Bearer`.
 *
 * @example
 * ```ts
 * import { createEventLog } from '@eventlog/core';
 * import { createSqliteStore } from '@eventlog/adapters/sqlite';
 * import { bearerToken, createHandler, safeEqual } from '@eventlog/http';
 * import { native } from '@eventlog/http/native';
 * import { viewer } from '@eventlog/viewer';
 *
 * const log = createEventLog({ store: createSqliteStore() });
 * const handler = createHandler({
 *   log,
 *   profiles: [
 *     native({ authenticate: (request) => (safeEqual(bearerToken(request) ?? '', 'admin-token') ? { role: 'admin' } : null) }),
 *     viewer({ title: 'Audit log' }),
 *   ],
 * });
 * // Open http://host/eventlog/viewer#token=admin-token
 * ```
 */
export function viewer(options: ViewerOptions = {}): Profile {
  const path = normalizePath(options.path ?? '/eventlog/viewer', 'path');
  const api = normalizePath(options.api ?? '/eventlog', 'api');
  const title = options.title ?? 'Event log';
  let assets: UiAssets | undefined;
  // Loaded on first use, so that a host whose page is not built yet still starts; the answer then says how to build it.
  const load = () => {
    assets ??= loadUiAssets();
    return assets;
  };

  const page = ({ basePath, request }: RequestContext): Response => {
    let manifest: UiAssets['manifest'];
    try {
      manifest = load().manifest;
    } catch (error) {
      return plain(503, error instanceof Error ? error.message : 'The viewer page is not available.');
    }
    const html = renderIndex({ title, api: `${basePath}${api}`, assets: `${basePath}${path}/assets`, manifest });
    // The page is tiny and names the current hashed assets: revalidate it every time.
    return respond(request, { body: html, type: 'text/html; charset=utf-8', etag: etagOf(html) }, 'no-cache');
  };

  return {
    name: 'viewer',
    prefixes: [path],
    routes: [
      { method: 'GET', path, run: page, docs: { hidden: true } },
      { method: 'GET', path: `${path}/`, run: page, docs: { hidden: true } },
      {
        method: 'GET',
        path: `${path}/assets/:file`,
        run: ({ request, params }) => {
          let files: UiAssets['files'];
          try {
            files = load().files;
          } catch (error) {
            return plain(503, error instanceof Error ? error.message : 'The viewer page is not available.');
          }
          const file = files.get((params as { file: string }).file);
          if (!file) return plain(404, 'Not found.');
          // Names carry a content hash: a new build is a new URL, so the old one can be kept forever.
          return respond(request, file, 'public, max-age=31536000, immutable');
        },
        docs: { hidden: true },
      },
    ],
    failure: (error) =>
      json({ error: { code: error.code, message: error.message } }, error.status, { 'X-Content-Type-Options': 'nosniff' }),
  };
}

function respond(
  request: Request,
  asset: Omit<Asset, 'body'> & { body: Uint8Array<ArrayBuffer> | string },
  cacheControl: string,
): Response {
  const headers = { ...SECURITY_HEADERS, 'Cache-Control': cacheControl, ETag: asset.etag };
  if (ifNoneMatch(request, asset.etag)) return new Response(null, { status: 304, headers });
  return new Response(request.method === 'HEAD' ? null : asset.body, { status: 200, headers: { ...headers, 'Content-Type': asset.type } });
}

function ifNoneMatch(request: Request, etag: string): boolean {
  const header = request.headers.get('if-none-match');
  if (!header) return false;
  return header.trim() === '*' || header.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag);
}

function plain(status: number, message: string): Response {
  return new Response(message, {
    status,
    headers: { ...SECURITY_HEADERS, 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' },
  });
}

function normalizePath(value: string, name: string): string {
  if (typeof value !== 'string' || !value.startsWith('/')) throw new TypeError(`viewer({ ${name} }) must be a path starting with "/".`);
  const trimmed = value.replace(/\/+$/, '');
  if (!/^[\w\-./~]*$/.test(trimmed)) throw new TypeError(`viewer({ ${name} }) may hold only letters, digits and - . _ ~ /.`);
  return trimmed;
}
