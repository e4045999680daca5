/**
 * Query parameters that carry credentials and are never passed on to logs with their values:
 * the handler's `onError` and the Express request logger replace them whatever a host configures.
 *
 * @example
 * ```ts
 * import { CREDENTIAL_QUERY_PARAMS } from '@eventlog/http';
 * CREDENTIAL_QUERY_PARAMS.includes('access_token'); // true
 * ```
 */
export const CREDENTIAL_QUERY_PARAMS = ['token', 'access_token'] as const;

/**
 * Request headers that carry credentials and are never passed on to logs with their values.
 *
 * @example
 * ```ts
 * import { CREDENTIAL_HEADERS } from '@eventlog/http';
 * CREDENTIAL_HEADERS.includes('authorization'); // true
 * ```
 */
export const CREDENTIAL_HEADERS = ['authorization', 'proxy-authorization', 'cookie', 'set-cookie'] as const;

/** What replaces a redacted value. */
const REDACTED = '[REDACTED]';

/**
 * A URL with the values of the named query parameters (matched case-insensitively, after
 * decoding) replaced by `[REDACTED]`, and without its fragment.
 *
 * @example
 * ```ts
 * import { redactUrl } from '@eventlog/http';
 * redactUrl('/eventlog/events?token=abc&type=x#token=def', ['token']); // '/eventlog/events?token=%5BREDACTED%5D&type=x'
 * ```
 */
export function redactUrl(url: string, names: Iterable<string>): string {
  const hash = url.indexOf('#');
  const bare = hash === -1 ? url : url.slice(0, hash);
  const q = bare.indexOf('?');
  const lower = new Set([...names].map((n) => n.toLowerCase()));
  if (q === -1 || lower.size === 0) return bare;
  const parts = bare
    .slice(q + 1)
    .split('&')
    .map((part) => {
      const eq = part.indexOf('=');
      const rawName = eq === -1 ? part : part.slice(0, eq);
      let name: string;
      try {
        name = decodeURIComponent(rawName.replace(/\+/g, ' '));
      } catch {
        name = rawName;
      }
      return lower.has(name.toLowerCase()) && eq !== -1 ? `${rawName}=${encodeURIComponent(REDACTED)}` : part;
    });
  return `${bare.slice(0, q)}?${parts.join('&')}`;
}

/**
 * A copy of a request that is safe to log: credential headers ({@link CREDENTIAL_HEADERS}) and
 * credential query values ({@link CREDENTIAL_QUERY_PARAMS}) replaced by `[REDACTED]`, no body.
 * The handler gives this copy, never the original, to its `onError` hook.
 *
 * @example
 * ```ts
 * import { redactedRequest } from '@eventlog/http';
 * const safe = redactedRequest(new Request('http://x/a?token=t', { headers: { authorization: 'Bearer t' } }));
 * safe.url; // 'http://x/a?token=%5BREDACTED%5D'
 * safe.headers.get('authorization'); // '[REDACTED]'
 * ```
 */
export function redactedRequest(request: Request): Request {
  const headers = new Headers(request.headers);
  for (const name of CREDENTIAL_HEADERS) if (headers.has(name)) headers.set(name, REDACTED);
  return new Request(redactUrl(request.url, CREDENTIAL_QUERY_PARAMS), { method: request.method, headers });
}
