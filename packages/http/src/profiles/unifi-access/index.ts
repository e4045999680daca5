import { json, type Profile } from '../../profile.js';
import { type UnifiAccessCaller, type UnifiAuthenticate, unifiCodeOf } from './auth.js';
import { type UnifiTopic, unifiAccessPreset } from './preset.js';
import { BASE, unifiRoutes } from './routes.js';

export { type UnifiAccessCaller, type UnifiAuthenticate, type UnifiTokenEntry, unifiAccessTokens } from './auth.js';
export { UNIFI_LOG_PERMISSION, UNIFI_TOPICS, type UnifiTopic, unifiAccessPreset, unifiEventDataSchema } from './preset.js';

/** Input of the {@link UnifiAccessOptions.staticResource} hook. */
export interface UnifiStaticRequest {
  /** The path below `/static/` (or `/static-preview/`), e.g. `avatar/dala…` or `activities_resource/video/…mp4`. */
  readonly path: string;
  /** Whether it was asked through `/static-preview/`. */
  readonly preview: boolean;
  /** The authenticated caller. */
  readonly caller: UnifiAccessCaller;
  /** The web-standard request. */
  readonly request: Request;
}

/** Options of {@link unifiAccess}. */
export interface UnifiAccessOptions {
  /** Resolves the Bearer token to a caller, or `null` (answered 401); see {@link unifiAccessTokens}. */
  authenticate: UnifiAuthenticate;
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
 * import { createHandler } from '@eventlog/http';
 * import { unifiAccess, unifiAccessPreset, unifiAccessTokens } from '@eventlog/http/unifi-access';
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
  return {
    name: 'unifiAccess',
    preset: unifiAccessPreset,
    prefixes: [BASE],
    routes: unifiRoutes(options),
    success: (data) => json(data),
    failure: (error) => json({ code: unifiCodeOf(error), msg: error.message }, error.status),
  };
}
