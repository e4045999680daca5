import { bearerToken, secretTable } from '../../auth.js';
import { HttpError } from '../../errors.js';
import type { RequestContext } from '../../profile.js';

/** Who is calling, as the host's `authenticate` hook resolves it. */
export interface NewApiCaller {
  /** The user id; must equal the `New-Api-User` header. */
  userId: number | string;
  /** `admin` and `root` may use the site-wide endpoints. */
  role: 'user' | 'admin' | 'root';
}

/** What the host's `resolveTokenKey` hook returns for a valid API key. */
export interface NewApiToken {
  /** The token's id (the `token_id` dimension of its rows). */
  tokenId: number;
  /** The token's owner. */
  userId: number | string;
}

/** Resolves an access token and the `New-Api-User` header to a caller, or null. */
export type NewApiAuthenticate = (credentials: {
  token: string;
  userId: string;
  request: Request;
}) => NewApiCaller | null | Promise<NewApiCaller | null>;

/** Resolves an API key (without its `sk-` prefix) to its token, or null. */
export type NewApiResolveTokenKey = (key: string) => NewApiToken | null | Promise<NewApiToken | null>;

/** The route-group step of the `self` endpoints: a Bearer access token plus a matching `New-Api-User`. @internal */
export function newApiCaller(authenticate: NewApiAuthenticate): (context: RequestContext) => Promise<NewApiCaller> {
  return async ({ request }) => {
    const token = bearerToken(request);
    if (!token)
      throw new HttpError('UNAUTHORIZED', 'Not logged in: send Authorization: Bearer <access token> and New-Api-User: <user id>.');
    const userId = request.headers.get('new-api-user')?.trim();
    if (!userId) throw new HttpError('UNAUTHORIZED', 'Send the New-Api-User header with your user id.');
    const found = await authenticate({ token, userId, request });
    if (!found) throw new HttpError('UNAUTHORIZED', 'The access token is invalid or expired.');
    if (String(found.userId) !== userId) throw new HttpError('UNAUTHORIZED', 'New-Api-User does not match the user of the access token.');
    return found;
  };
}

/** The route-group step of the site-wide endpoints: a caller with the admin or root role. @internal */
export function newApiAdmin(authenticate: NewApiAuthenticate): (context: RequestContext) => Promise<NewApiCaller> {
  const caller = newApiCaller(authenticate);
  return async (context) => {
    const found = await caller(context);
    if (found.role !== 'admin' && found.role !== 'root')
      throw new HttpError('FORBIDDEN', 'Insufficient privileges: this endpoint needs an administrator.');
    return found;
  };
}

/**
 * An `authenticate` hook for `newApi()` over a fixed list of access tokens, compared in constant time.
 *
 * @example
 * ```ts
 * import { staticTokens } from '@eventlog/http/new-api';
 * const authenticate = staticTokens([{ token: 'secret-admin-token', userId: 1, role: 'admin' }]);
 * ```
 */
export function staticTokens(entries: readonly (NewApiCaller & { token: string })[]): NewApiAuthenticate {
  const lookUp = secretTable(entries, 'token', 'staticTokens');
  return ({ token }) => {
    const found = lookUp(token);
    return found ? { userId: found.userId, role: found.role } : null;
  };
}

/**
 * A `resolveTokenKey` hook for `newApi()` over a fixed list of API keys (without `sk-`), compared in constant time.
 *
 * @example
 * ```ts
 * import { staticTokenKeys } from '@eventlog/http/new-api';
 * const resolveTokenKey = staticTokenKeys([{ key: 'abc123', tokenId: 7, userId: 1 }]);
 * ```
 */
export function staticTokenKeys(entries: readonly (NewApiToken & { key: string })[]): NewApiResolveTokenKey {
  const lookUp = secretTable(entries, 'key', 'staticTokenKeys');
  return (key) => {
    const found = lookUp(key);
    return found ? { tokenId: found.tokenId, userId: found.userId } : null;
  };
}
