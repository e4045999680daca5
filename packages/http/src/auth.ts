import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Compares two secrets in constant time. Both sides are hashed first, so neither the content nor
 * the length of the expected secret leaks through timing.
 *
 * @example
 * ```ts
 * import { safeEqual } from '@eventlog/http';
 * safeEqual('s3cret', 's3cret'); // true
 * ```
 */
export function safeEqual(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}

/**
 * Finds the entry whose secret equals `given`, comparing against every entry in constant time so
 * that the position of a match does not leak either.
 *
 * @example
 * ```ts
 * import { findBySecret } from '@eventlog/http';
 * findBySecret('k2', [{ secret: 'k1', who: 'a' }, { secret: 'k2', who: 'b' }], (e) => e.secret)?.who; // 'b'
 * ```
 */
export function findBySecret<T>(given: string, entries: readonly T[], secretOf: (entry: T) => string): T | undefined {
  let found: T | undefined;
  for (const entry of entries) if (safeEqual(given, secretOf(entry)) && found === undefined) found = entry;
  return found;
}

/**
 * A lookup over a fixed list of entries keyed by a secret field: refuses empty secrets up front,
 * compares in constant time ({@link findBySecret}) and returns the matching entry without its secret.
 *
 * @example
 * ```ts
 * import { secretTable } from '@eventlog/http';
 * const lookUp = secretTable([{ token: 't-1', role: 'admin' as const }], 'token', 'myTokens');
 * lookUp('t-1'); // { role: 'admin' }
 * ```
 */
export function secretTable<K extends string, E extends Record<K, string>>(
  entries: readonly E[],
  key: K,
  label: string,
): (given: string) => Omit<E, K> | null {
  for (const entry of entries) if (!entry[key]) throw new TypeError(`${label}: every entry needs a non-empty ${key}.`);
  return (given) => {
    const found = findBySecret(given, entries, (e) => e[key]);
    if (!found) return null;
    const { [key]: _secret, ...rest } = found;
    return rest as Omit<E, K>;
  };
}

/**
 * The token of an `Authorization: Bearer …` header, or null.
 *
 * @example
 * ```ts
 * import { bearerToken } from '@eventlog/http';
 * bearerToken(new Request('http://x/', { headers: { Authorization: 'Bearer abc' } })); // 'abc'
 * ```
 */
export function bearerToken(request: Request): string | null {
  const header = request.headers.get('authorization');
  if (!header) return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1] ?? null;
}

/**
 * The user name and password of an `Authorization: Basic …` header, or null.
 *
 * @example
 * ```ts
 * import { basicCredentials } from '@eventlog/http';
 * basicCredentials(new Request('http://x/', { headers: { Authorization: 'Basic YTpi' } })); // { username: 'a', password: 'b' }
 * ```
 */
export function basicCredentials(request: Request): { username: string; password: string } | null {
  const header = request.headers.get('authorization');
  const match = header ? /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header) : null;
  if (!match?.[1]) return null;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return null;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}
