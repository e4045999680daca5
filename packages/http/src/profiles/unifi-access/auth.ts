import type { Principal } from '@eventlog/core';
import { bearerToken, secretTable } from '../../auth.js';
import { type AnyErrorCode, HttpError, type HttpErrorOptions } from '../../errors.js';
import type { RequestContext } from '../../profile.js';
import { UNIFI_LOG_PERMISSION } from './preset.js';

/** Who is calling, as resolved from the Bearer token by the host. */
export interface UnifiAccessCaller {
  /** A name for audit and messages. */
  readonly name?: string;
  /** Permission keys of the token; the log endpoints need `view:system_log`. @default every permission */
  readonly permissions?: readonly string[];
  /** Narrows every read to a site or tenant, e.g. `{ role: 'user', id: 'site-1' }`. @default everything */
  readonly principal?: Principal;
}

/** Resolves a Bearer token to a caller, or `null` (answered 401). */
export type UnifiAuthenticate = (token: string, request: Request) => UnifiAccessCaller | null | Promise<UnifiAccessCaller | null>;

/** A token and the caller it stands for, for {@link unifiAccessTokens}. */
export type UnifiTokenEntry = { readonly token: string } & UnifiAccessCaller;

/**
 * An `authenticate` hook over a fixed list of API tokens, compared in constant time.
 *
 * @example
 * ```ts
 * import { unifiAccess, unifiAccessTokens } from '@eventlog/http/unifi-access';
 * const profile = unifiAccess({
 *   authenticate: unifiAccessTokens([
 *     { token: process.env.UNIFI_TOKEN ?? 'change-me', name: 'integration', permissions: ['view:system_log'] },
 *   ]),
 * });
 * ```
 */
export function unifiAccessTokens(entries: readonly UnifiTokenEntry[]): (token: string) => UnifiAccessCaller | null {
  return secretTable(entries, 'token', 'unifiAccessTokens') as (token: string) => UnifiAccessCaller | null;
}

/** UniFi Access's own error codes. @internal */
export type UnifiCode =
  | 'CODE_PARAMS_INVALID'
  | 'CODE_UNAUTHORIZED'
  | 'CODE_ACCESS_TOKEN_INVALID'
  | 'CODE_OPERATION_FORBIDDEN'
  | 'CODE_RESOURCE_NOT_FOUND'
  | 'CODE_SYSTEM_ERROR';

/** An HttpError that names the UniFi code to answer with. @internal */
export class UnifiError extends HttpError {
  readonly unifiCode: UnifiCode;
  constructor(code: AnyErrorCode, unifiCode: UnifiCode, message: string, options?: HttpErrorOptions) {
    super(code, message, options);
    this.unifiCode = unifiCode;
  }
}

/** The UniFi code of any failure. @internal */
export function unifiCodeOf(error: HttpError): UnifiCode {
  if (error instanceof UnifiError) return error.unifiCode;
  if (error.status >= 500) return 'CODE_SYSTEM_ERROR';
  switch (error.code) {
    case 'UNAUTHORIZED':
      return 'CODE_UNAUTHORIZED';
    case 'FORBIDDEN':
      return 'CODE_OPERATION_FORBIDDEN';
    case 'NOT_FOUND':
    case 'ROUTE_NOT_FOUND':
      return 'CODE_RESOURCE_NOT_FOUND';
    default:
      return 'CODE_PARAMS_INVALID';
  }
}

/** The route-group step: the Bearer token resolved by the host, with the log permission. @internal */
export function unifiAuthenticator(authenticate: UnifiAuthenticate): (context: RequestContext) => Promise<UnifiAccessCaller> {
  return async ({ request }) => {
    const challenge = { headers: { 'WWW-Authenticate': 'Bearer' } };
    const token = bearerToken(request);
    if (!token)
      throw new UnifiError('UNAUTHORIZED', 'CODE_UNAUTHORIZED', 'Send the API token as Authorization: Bearer <token>.', challenge);
    const caller = await authenticate(token, request);
    if (!caller) throw new UnifiError('UNAUTHORIZED', 'CODE_ACCESS_TOKEN_INVALID', 'The API token is not valid.', challenge);
    if (caller.permissions && !caller.permissions.includes(UNIFI_LOG_PERMISSION)) {
      throw new UnifiError('FORBIDDEN', 'CODE_OPERATION_FORBIDDEN', `This token lacks the ${UNIFI_LOG_PERMISSION} permission.`);
    }
    return caller;
  };
}
