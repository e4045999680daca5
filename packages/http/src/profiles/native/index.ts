import { eventlogAuditPreset, type Principal } from '@eventlog/core';
import { createOpenApiDocument, mountOpenApiDocument, type OpenApiDocument } from '../../openapi.js';
import { createRouteGroup, json, type Profile, type Route } from '../../profile.js';
import { type NativeAuthenticate, nativeAuthenticator } from './auth.js';
import { addNativeRoutes } from './routes.js';
import { errorSchema } from './schemas.js';

export type { NativeAuthenticate, NativeGrant } from './auth.js';

/** Options of {@link native}. */
export interface NativeOptions {
  /**
   * Resolves who is calling from the request (a principal, or a {@link NativeGrant} with a fixed
   * filter, an expiry and read-only flag, as `viewerTokenAuth` returns); `null` answers 401. Every
   * read and write goes through the log's view for that principal and filter.
   */
  authenticate: NativeAuthenticate;
  /** Path prefix of every route. @default '/eventlog' */
  prefix?: string;
  /** Whether a principal may record events; users and resellers only write into their own tenants. @default admins only */
  canWrite?: (principal: Principal) => boolean;
  /** Most events in one ingest request. @default 1000 */
  maxBatch?: number;
  /** Largest ingest body in bytes. @default 5242880 */
  maxIngestBytes?: number;
  /** Most rows one CSV export may hold. @default 1000000 */
  maxExportRows?: number;
  /** Keep-alive interval of the live tail. @default 15000 */
  heartbeatMs?: number;
  /** Serve `GET <prefix>/openapi.json` without credentials. @default true */
  publicDocs?: boolean;
  /** Title of the OpenAPI document. @default 'eventlog' */
  title?: string;
  /** Version of the OpenAPI document. @default '1.0.0' */
  version?: string;
}

/**
 * The native JSON API: ingest (single and batch, with per-event validation errors), keyset-paged
 * queries, stats, timelines, top-N, open sessions, streamed CSV export, a server-sent-events live
 * tail, `whoami` and `schema` for pages such as the viewer, and an OpenAPI 3.1 document at
 * `GET <prefix>/openapi.json`. Errors are `{ error: { code, message, issues? } }` with the status
 * of `HTTP_STATUS`. `whoami` and each export are recorded as `eventlog.viewed` /
 * `eventlog.exported` events (register `eventlogAuditPreset` in a log that registers types).
 *
 * @example
 * ```ts
 * import { createEventLog } from '@eventlog/core';
 * import { createSqliteStore } from '@eventlog/adapters/sqlite';
 * import { bearerToken, createHandler, safeEqual } from '@eventlog/http';
 * import { native } from '@eventlog/http/native';
 *
 * const log = createEventLog({ store: createSqliteStore() });
 * const handler = createHandler({
 *   log,
 *   profiles: [native({ authenticate: (request) => (safeEqual(bearerToken(request) ?? '', 'admin-token') ? { role: 'admin' } : null) })],
 * });
 * ```
 */
export function native(options: NativeOptions): Profile {
  const prefix = (options.prefix ?? '/eventlog').replace(/\/+$/, '');
  const authenticate = nativeAuthenticator(options.authenticate);
  const secured = createRouteGroup<Principal>({ authenticate });
  addNativeRoutes(options, prefix, secured);
  const routes: Route[] = [...secured.routes];
  let document: OpenApiDocument | undefined;
  routes.push({
    method: 'GET',
    path: `${prefix}/openapi.json`,
    ...(options.publicDocs === false ? { auth: authenticate } : {}),
    run: ({ basePath, url }) => {
      document ??= createOpenApiDocument(routes, {
        title: options.title ?? 'eventlog',
        version: options.version ?? '1.0.0',
        description: 'Record, query, aggregate, export and tail events.',
        errorSchema,
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      });
      return mountOpenApiDocument(document, { basePath, origin: url.origin });
    },
    docs: { summary: 'This document', secured: options.publicDocs === false },
  });

  return {
    name: 'native',
    // The audit events it records (`eventlog.viewed`, `eventlog.exported`): a log that registers
    // event types must register these too, which the handler checks at startup.
    preset: eventlogAuditPreset,
    prefixes: [prefix],
    routes,
    success: (data) => json(data),
    failure: (error) =>
      json(
        {
          error: {
            code: error.code,
            message: error.message,
            ...(error.issues.length ? { issues: error.issues.map((i) => ({ path: i.path, message: i.message })) } : {}),
          },
        },
        error.status,
      ),
  };
}
