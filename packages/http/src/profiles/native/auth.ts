import type { Principal } from '@eventlog/core';
import { HttpError } from '../../errors.js';
import type { RequestContext } from '../../profile.js';

/** Resolves who is calling from the request; `null` answers 401. */
export type NativeAuthenticate = (request: Request) => Principal | null | Promise<Principal | null>;

/** The route-group step: the host's hook, and 401 with a Bearer challenge when it finds nobody. @internal */
export function nativeAuthenticator(authenticate: NativeAuthenticate): (context: RequestContext) => Promise<Principal> {
  return async ({ request }) => {
    const principal = await authenticate(request);
    if (!principal) {
      throw new HttpError('UNAUTHORIZED', 'Missing or invalid credentials.', { headers: { 'WWW-Authenticate': 'Bearer' } });
    }
    return principal;
  };
}
