import type { Principal } from '@eventlog/core';
import { bearerToken, secretTable } from '../../auth.js';
import { HttpError } from '../../errors.js';
import type { RequestContext } from '../../profile.js';

/** Who is calling the MediaCP API, as resolved from the Bearer token by the host. */
export type MediaCpUser =
  /** Every service of the panel. */
  | { readonly role: 'admin'; readonly id?: string; readonly name?: string }
  /** Its own services and those of its customers. */
  | { readonly role: 'reseller'; readonly id: string; readonly customerIds: readonly string[]; readonly name?: string }
  /** Its own services only. */
  | { readonly role: 'customer'; readonly id: string; readonly name?: string };

/** Resolves a Bearer token to a user, or `null` (answered 401). */
export type MediaCpAuthenticate = (token: string, request: Request) => MediaCpUser | null | Promise<MediaCpUser | null>;

/** A token and the user it stands for, for {@link mediaCpTokens}. */
export type MediaCpTokenEntry = { readonly token: string } & MediaCpUser;

/**
 * An `authenticate` hook over a fixed list of role tokens, compared in constant time.
 *
 * @example
 * ```ts
 * import { mediaCp, mediaCpTokens } from '@eventlog/http/mediacp';
 * const profile = mediaCp({
 *   authenticate: mediaCpTokens([
 *     { token: 'admin-secret', role: 'admin' },
 *     { token: 'reseller-secret', role: 'reseller', id: '7', customerIds: ['40', '41'] },
 *     { token: 'customer-secret', role: 'customer', id: '40' },
 *   ]),
 * });
 * ```
 */
export function mediaCpTokens(entries: readonly MediaCpTokenEntry[]): (token: string) => MediaCpUser | null {
  return secretTable(entries, 'token', 'mediaCpTokens') as (token: string) => MediaCpUser | null;
}

/** The core principal of a MediaCP user (none for admins). @internal */
export function principalOf(user: MediaCpUser): Principal | undefined {
  switch (user.role) {
    case 'admin':
      return undefined;
    case 'reseller':
      return { role: 'reseller', id: String(user.id), tenantIds: [String(user.id), ...user.customerIds.map(String)] };
    case 'customer':
      return { role: 'user', id: String(user.id), tenantId: String(user.id) };
    default:
      throw new HttpError('FORBIDDEN', 'This token has no MediaCP role.');
  }
}

/** The route-group step: the Bearer token resolved by the host, else 401 with a challenge. @internal */
export function mediaCpAuthenticator(authenticate: MediaCpAuthenticate): (context: RequestContext) => Promise<MediaCpUser> {
  return async ({ request }) => {
    const token = bearerToken(request);
    const challenge = { headers: { 'WWW-Authenticate': 'Bearer realm="MediaCP"' } };
    if (!token) throw new HttpError('UNAUTHORIZED', 'Send your API token as Authorization: Bearer <token>.', challenge);
    const user = await authenticate(token, request);
    if (!user) throw new HttpError('UNAUTHORIZED', 'The API token is not valid.', challenge);
    return user;
  };
}
