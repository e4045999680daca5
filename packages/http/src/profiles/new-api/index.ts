import { json, type Profile } from '../../profile.js';
import type { NewApiAuthenticate, NewApiResolveTokenKey } from './auth.js';
import { type NewApiKind, newApiPreset } from './preset.js';
import { newApiRoutes } from './routes.js';

export {
  type NewApiAuthenticate,
  type NewApiCaller,
  type NewApiResolveTokenKey,
  type NewApiToken,
  staticTokenKeys,
  staticTokens,
} from './auth.js';
export { type NewApiLogInput, newApiEvent } from './events.js';
export { NEW_API_DOC_TYPE_CODES, NEW_API_KINDS, NEW_API_TYPE_CODES, type NewApiKind, newApiPreset } from './preset.js';

/** Options of {@link newApi}. */
export interface NewApiOptions {
  /** Resolves an access token and the `New-Api-User` header to a caller, or null. */
  authenticate: NewApiAuthenticate;
  /** Resolves an API key (without its `sk-` prefix) for `GET /api/log/token`; without it that endpoint answers 401. @default none */
  resolveTokenKey?: NewApiResolveTokenKey;
  /** Type code → kind. @default NEW_API_TYPE_CODES (the product's codes) */
  typeCodes?: Readonly<Record<number, NewApiKind>>;
  /** Page size when `page_size` is absent or 0. @default 20 */
  defaultPageSize?: number;
  /** Larger `page_size` values are lowered to this. @default 100 */
  maxPageSize?: number;
  /** Most rows of the search and token endpoints. @default 100 */
  listLimit?: number;
  /** Keys of `other` removed from `self` and token answers. @default ['admin_info'] */
  adminOnlyOtherKeys?: readonly string[];
  /** Mask `ip` in every answer (GDPR mode; the log's own `maskIp` option masks everywhere). @default false */
  maskIp?: boolean;
}

/**
 * new-api's log module, wire-exact: `GET /api/log/token` (CORS, key as `?key=` or Bearer),
 * `GET /api/log/self`, `/self/stat`, `/self/search` (scoped to the caller), and the admin
 * `GET /api/log/` (also `/api/log`), `DELETE /api/log/`, `GET /api/log/stat`, `/api/log/search`.
 * Answers are `{success, message, data}`; a user on an admin endpoint gets HTTP 200
 * `success:false` like the product, missing or wrong credentials 401.
 *
 * @example
 * ```ts
 * import { newApi, staticTokenKeys, staticTokens } from '@eventlog/http/new-api';
 * const profile = newApi({
 *   authenticate: staticTokens([{ token: 'admin-access-token', userId: 1, role: 'admin' }]),
 *   resolveTokenKey: staticTokenKeys([{ key: 'abc123', tokenId: 7, userId: 1 }]),
 * });
 * ```
 */
export function newApi(options: NewApiOptions): Profile {
  return {
    name: 'newApi',
    preset: newApiPreset,
    prefixes: ['/api/log'],
    routes: newApiRoutes(options),
    success: (data) => json({ success: true, message: '', data }),
    failure: (error) => json({ success: false, message: error.message }, error.code === 'FORBIDDEN' ? 200 : error.status),
  };
}
