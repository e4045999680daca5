import type { Principal } from '@eventlog/core';
import { findBySecret } from '../../auth.js';

/** Resolves an `api_key` to a principal (admin, or reseller with its tenants), or null. */
export type XuiAuthenticate = (apiKey: string, request: Request) => Principal | null | Promise<Principal | null>;

/**
 * An `authenticate` hook for {@link xuiOne} over a fixed list of API keys, compared in constant time.
 *
 * @example
 * ```ts
 * import { xuiApiKeys } from '@eventlog/http/xui-one';
 * const authenticate = xuiApiKeys([
 *   { key: 'ADMINKEY', principal: { role: 'admin' } },
 *   { key: 'RESELLERKEY', principal: { role: 'reseller', id: '5', tenantIds: ['5'] } },
 * ]);
 * ```
 */
export function xuiApiKeys(entries: readonly { key: string; principal: Principal }[]): XuiAuthenticate {
  return (apiKey) => findBySecret(apiKey, entries, (e) => e.key)?.principal ?? null;
}
