import { isValidTimeZone } from '@eventlog/core';
import { json, type Profile } from '../../profile.js';
import type { MediaCpAuthenticate, MediaCpUser } from './auth.js';
import { mediaCpPreset } from './preset.js';
import { mediaCpRoutes, PER_SERVICE_ROOT } from './routes.js';

export { type MediaCpAuthenticate, type MediaCpTokenEntry, type MediaCpUser, mediaCpTokens } from './auth.js';
export {
  MEDIACP_CATEGORIES,
  type MediaCpCategory,
  type MediaCpEventType,
  mediaCpEventDataSchema,
  mediaCpPreset,
  mediaCpRetentionPolicy,
} from './preset.js';

/** Options of {@link mediaCp}. */
export interface MediaCpOptions {
  /** Resolves the Bearer token to a user, or `null` (answered 401); see {@link mediaCpTokens}. */
  authenticate: MediaCpAuthenticate;
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
  /** Mask `ip_address` in answers and exports through the core's masked view (GDPR mode; the log's own `maskIp` option masks everywhere). @default false */
  maskIp?: boolean;
}

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
 * import { createHandler } from '@eventlog/http';
 * import { mediaCp, mediaCpPreset, mediaCpTokens } from '@eventlog/http/mediacp';
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
  return {
    name: 'mediaCp',
    preset: mediaCpPreset,
    prefixes: [PER_SERVICE_ROOT],
    routes: mediaCpRoutes(options, timeZone),
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
  };
}
