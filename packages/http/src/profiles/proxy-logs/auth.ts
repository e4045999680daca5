import { basicCredentials, bearerToken, findBySecret } from '../../auth.js';
import { HttpError } from '../../errors.js';
import type { RequestContext } from '../../profile.js';
import type { TokenService } from './jwt.js';

/** A user of the proxy's admin API. */
export interface ProxyUser {
  /** The user name, shown in the audit log. */
  readonly username: string;
  /** Viewers read logs and analytics; only admins clear logs and read the audit log. @default 'admin' */
  readonly role?: 'admin' | 'viewer';
}

/** Checks a user name and password; `null` answers 401. */
export type ProxyAuthenticate = (
  credentials: { username: string; password: string },
  request: Request,
) => ProxyUser | null | Promise<ProxyUser | null>;

/** A user name, password and role, for {@link proxyUsers}. */
export interface ProxyUserEntry {
  /** The user name. */
  readonly username: string;
  /** The password, compared in constant time. */
  readonly password: string;
  /** The user's role. @default 'admin' */
  readonly role?: 'admin' | 'viewer';
}

/**
 * An `authenticate` hook over a fixed list of users, comparing name and password in constant time.
 *
 * @example
 * ```ts
 * import { proxyLogs, proxyUsers } from '@eventlog/http/proxy-logs';
 * const profile = proxyLogs({
 *   authenticate: proxyUsers([
 *     { username: 'admin', password: process.env.PROXY_ADMIN_PASSWORD ?? 'change-me' },
 *     { username: 'noc', password: 'read-only', role: 'viewer' },
 *   ]),
 *   jwtSecret: process.env.PROXY_JWT_SECRET ?? 'a development secret of at least 32 bytes',
 * });
 * ```
 */
export function proxyUsers(entries: readonly ProxyUserEntry[]): (credentials: { username: string; password: string }) => ProxyUser | null {
  for (const entry of entries)
    if (!entry.username || !entry.password) throw new TypeError('proxyUsers: every entry needs a username and a password.');
  // NUL cannot appear in a Basic user name, so it separates name from password unambiguously.
  return ({ username, password }) => {
    const found = findBySecret(`${username}\0${password}`, entries, (e) => `${e.username}\0${e.password}`);
    return found ? { username: found.username, role: found.role ?? 'admin' } : null;
  };
}

/** The route-group step: Basic credentials or a login token, else 401 with a challenge. @internal */
export function proxyAuthenticator(
  authenticate: ProxyAuthenticate,
  tokens: TokenService,
  clock: () => number,
): (context: RequestContext) => Promise<ProxyUser> {
  return async ({ request }) => {
    const header = request.headers.get('authorization');
    if (!header) throw new HttpError('UNAUTHORIZED', 'Not authenticated', { headers: { 'WWW-Authenticate': 'Bearer' } });
    if (/^Basic\s/i.test(header)) {
      const credentials = basicCredentials(request);
      const user = credentials ? await authenticate(credentials, request) : null;
      if (!user)
        throw new HttpError('UNAUTHORIZED', 'Invalid username or password', { headers: { 'WWW-Authenticate': 'Basic realm="proxy"' } });
      return { username: user.username, role: user.role ?? 'admin' };
    }
    const token = bearerToken(request);
    if (!token)
      throw new HttpError('UNAUTHORIZED', 'Use Basic credentials or a Bearer token from POST /api/auth/login', {
        headers: { 'WWW-Authenticate': 'Bearer' },
      });
    const user = await tokens.verify(token, clock());
    if (!user)
      throw new HttpError('UNAUTHORIZED', 'Invalid or expired token', { headers: { 'WWW-Authenticate': 'Bearer error="invalid_token"' } });
    return user;
  };
}

/** Refuses viewers. @internal */
export function adminOnly(user: ProxyUser): void {
  if ((user.role ?? 'admin') !== 'admin') throw new HttpError('FORBIDDEN', 'Admin rights are required');
}
