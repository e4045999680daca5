import { json, type Profile } from '../../profile.js';
import type { XuiAuthenticate } from './auth.js';
import { xuiOnePreset } from './preset.js';
import { xuiRoute } from './routes.js';

export { type XuiAuthenticate, xuiApiKeys } from './auth.js';
export { XUI_ONE_TYPES, xuiOnePreset } from './preset.js';

/** Options of {@link xuiOne}. */
export interface XuiOneOptions {
  /** The access-code path segment, e.g. `cSbuFLhp` for `http://host/cSbuFLhp/?api_key=…`. */
  accessCode: string;
  /** Resolves an `api_key` to a principal (admin, or reseller with its tenants), or null. */
  authenticate: XuiAuthenticate;
  /** Largest `limit`. @default 1000 */
  maxLimit?: number;
  /** Largest `offset`. @default the log's `limits.maxOffset` */
  maxOffset?: number;
  /** Mask `ip_address` in every answer through the core's masked view (GDPR mode; the log's own `maskIp` option masks everywhere). @default false */
  maskIp?: boolean;
}

/**
 * XUI.ONE's logs & events API under `/<access_code>/?api_key=…&action=…` (GET, or POST with a
 * form body): activity_logs, live_connections, credit_logs, client_logs, user_logs, stream_errors,
 * watch_output, system_logs, login_logs, restream_logs, mag_events. Answers are
 * `{"status":"STATUS_SUCCESS","data":…}` with every value a string; every failure is
 * `{"status":"STATUS_FAILURE","error":"…"}` with a 4xx status. `limit`/`offset` default to 100/0
 * and `start` is accepted for `offset`.
 *
 * Where the document shows no example the rows follow their siblings: `user_logs` rows are shaped
 * like `activity_logs` (`id, user_id, username, action, details, ip_address, timestamp`),
 * `restream_logs` rows are `id, user_id, username, stream_id, stream_name, ip_address, action,
 * timestamp`, and `system_logs` rows are `id, level, action, details, timestamp`.
 *
 * @example
 * ```ts
 * import { xuiApiKeys, xuiOne } from '@eventlog/http/xui-one';
 * const profile = xuiOne({ accessCode: 'cSbuFLhp', authenticate: xuiApiKeys([{ key: '8D3135D30437F86EAE2FA4A2A8345000', principal: { role: 'admin' } }]) });
 * ```
 */
export function xuiOne(options: XuiOneOptions): Profile {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(options.accessCode ?? ''))
    throw new TypeError('xuiOne needs an accessCode of letters, digits, "_" or "-".');
  const base = `/${options.accessCode}`;
  return {
    name: 'xuiOne',
    preset: xuiOnePreset,
    prefixes: [base],
    routes: [xuiRoute(options, base)],
    success: (data) => json({ status: 'STATUS_SUCCESS', data }),
    failure: (error) => json({ status: 'STATUS_FAILURE', error: error.message }, error.status),
  };
}
