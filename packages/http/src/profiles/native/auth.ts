import type { EventLogView, FilterInput, Principal } from '@eventlog/core';
import { HttpError } from '../../errors.js';
import type { AnyEventLog, RequestContext } from '../../profile.js';

/**
 * What a credential grants beyond its principal: a fixed filter AND-ed into every read, an expiry,
 * and whether it may only read. `viewerTokenAuth` (from `@eventlog/http/viewer-token`) resolves
 * viewer tokens to one; a host's own hook may return one too.
 */
export interface NativeGrant {
  /** Who is calling; every read and write is limited to its tenants. */
  readonly principal: Principal;
  /** A filter AND-ed into every read (see the core's `log.view({ filter })`); no URL parameter widens it. @default none */
  readonly filter?: FilterInput | null;
  /** When the credential stops working, epoch ms, as `whoami` reports it. @default null (no expiry) */
  readonly expiresAt?: number | null;
  /** Refuse every write with 403, whatever `canWrite` says. @default false */
  readonly readOnly?: boolean;
}

/**
 * Resolves who is calling from the request: a principal, a {@link NativeGrant}, or `null` for
 * 401. It may also throw an `HttpError` (e.g. `TOKEN_EXPIRED`) to answer with that code.
 */
export type NativeAuthenticate = (request: Request) => Principal | NativeGrant | null | Promise<Principal | NativeGrant | null>;

/** A grant with its defaults filled in. @internal */
export interface ResolvedGrant {
  readonly filter: FilterInput | null;
  readonly expiresAt: number | null;
  readonly readOnly: boolean;
}

const NO_GRANT: ResolvedGrant = Object.freeze({ filter: null, expiresAt: null, readOnly: false });

// The principal object a request authenticated with → its grant. Each grant gets a fresh principal
// object, so a principal a host shares between requests never picks up another request's grant.
const grants = new WeakMap<object, ResolvedGrant>();

function isGrant(value: Principal | NativeGrant): value is NativeGrant {
  return typeof value === 'object' && value !== null && 'principal' in value;
}

/** The route-group step: the host's hook, and 401 with a Bearer challenge when it finds nobody. @internal */
export function nativeAuthenticator(authenticate: NativeAuthenticate): (context: RequestContext) => Promise<Principal> {
  return async ({ request }) => {
    const found = await authenticate(request);
    if (!found || (isGrant(found) && !found.principal)) {
      throw new HttpError('UNAUTHORIZED', 'Missing or invalid credentials.', { headers: { 'WWW-Authenticate': 'Bearer' } });
    }
    if (!isGrant(found)) return found;
    const principal = { ...found.principal } as Principal;
    grants.set(principal, {
      filter: found.filter ?? null,
      expiresAt: found.expiresAt ?? null,
      readOnly: found.readOnly === true,
    });
    return principal;
  };
}

/** The grant a request's principal came with; none for a plain principal. @internal */
export function grantOf(principal: Principal): ResolvedGrant {
  return grants.get(principal) ?? NO_GRANT;
}

/**
 * The view every native route reads and writes through: the principal's tenants and its grant's
 * fixed filter, both enforced by the core. Routes added to the native group must use it. @internal
 */
export function nativeView(log: AnyEventLog, principal: Principal): EventLogView {
  const { filter } = grantOf(principal);
  return log.view(filter ? { principal, filter } : { principal });
}
