// Scoped viewer tokens: HS256 JWTs (through `jose`, imported lazily so that CommonJS hosts and hosts
// that never check a token do not load it) bound to a principal and an optional fixed filter.
import { randomBytes } from 'node:crypto';
import type { FilterInput, Principal } from '@eventlog/core';
import { z } from 'zod';
import { bearerToken } from '../auth.js';
import { HttpError } from '../errors.js';
import type { NativeAuthenticate, NativeGrant } from '../profiles/native/auth.js';

/** The longest a viewer token may live, in seconds (24 hours). */
export const MAX_VIEWER_TOKEN_TTL = 86_400;

/** The JWT `typ` header that marks a viewer token; a bearer without it is left to the fallback hook. */
const TOKEN_TYPE = 'eventlog-viewer+jwt';
const ISSUER = 'eventlog';
const AUDIENCE = 'eventlog-viewer';

/** A signing secret: a string or bytes, at least 32 bytes long. */
export type ViewerTokenSecret = string | Uint8Array;

/** Options of {@link createViewerToken}. */
export interface ViewerTokenOptions {
  /** The HS256 signing secret, at least 32 bytes; the same one goes to {@link viewerTokenAuth}. */
  secret: ViewerTokenSecret;
  /** Who the token reads as: its role and tenants limit every read. */
  principal: Principal;
  /** How long the token works: seconds, or a string such as `'90s'`, `'15m'`, `'2h'`, `'1d'`; at most 24 hours. */
  ttl: number | string;
  /** A filter AND-ed into every read made with the token (it may not bound time). @default none */
  filter?: FilterInput;
  /** The current time in epoch ms, for tests and hosts with their own clock. @default Date.now */
  clock?: () => number;
}

/** Options of {@link viewerTokenAuth}. */
export interface ViewerTokenAuthOptions {
  /** The secret the tokens were signed with. */
  secret: ViewerTokenSecret;
  /** The host's own hook, tried when the request carries no viewer token. @default none (401) */
  fallback?: NativeAuthenticate;
  /** The current time in epoch ms. @default Date.now */
  clock?: () => number;
}

const principalSchema = z.discriminatedUnion('role', [
  z.strictObject({ role: z.literal('admin'), id: z.string().min(1).max(128).optional() }),
  z.strictObject({
    role: z.literal('reseller'),
    id: z.string().min(1).max(128),
    tenantIds: z.array(z.string().min(1).max(128)).max(500),
  }),
  z.strictObject({ role: z.literal('user'), id: z.string().min(1).max(128), tenantId: z.string().min(1).max(128).optional() }),
]);
const filterSchema = z.record(z.string(), z.unknown());
const claimsSchema = z.object({ principal: principalSchema, filter: filterSchema.nullable() });

function secretBytes(secret: ViewerTokenSecret, caller: string): Uint8Array {
  const bytes = typeof secret === 'string' ? new TextEncoder().encode(secret) : secret;
  if (!(bytes instanceof Uint8Array) || bytes.byteLength < 32) {
    throw new TypeError(`${caller}: secret must be at least 32 bytes (a string or a Uint8Array).`);
  }
  return bytes;
}

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** Seconds of a ttl given as a number of seconds or as `<n><s|m|h|d>`; throws a RangeError when it is not one or is too long. */
function ttlSeconds(ttl: number | string): number {
  let seconds = Number.NaN;
  if (typeof ttl === 'number') seconds = ttl;
  else if (typeof ttl === 'string') {
    const match = /^\s*(\d{1,6})\s*([smhd])\s*$/.exec(ttl);
    if (match) seconds = Number(match[1]) * UNITS[match[2]!]!;
  }
  if (!Number.isInteger(seconds) || seconds < 1) {
    throw new RangeError(
      `createViewerToken: ttl must be a whole number of seconds or a string such as '15m', '2h' or '1d'; got ${JSON.stringify(ttl)}.`,
    );
  }
  if (seconds > MAX_VIEWER_TOKEN_TTL) {
    throw new RangeError(
      `createViewerToken: ttl must be at most 24 h (${MAX_VIEWER_TOKEN_TTL} s); got ${seconds} s. Hand out a new link instead.`,
    );
  }
  return seconds;
}

/**
 * Signs a short-lived, read-only viewer token bound to a principal (its role and tenants) and an
 * optional fixed filter. Hand it to a person as a link with the token in the URL fragment
 * (`https://host/viewer#token=…`), which browsers never send to a server; the page sends it back as
 * `Authorization: Bearer …` and {@link viewerTokenAuth} checks it.
 *
 * @example
 * ```ts
 * import { createViewerToken } from '@eventlog/http/viewer-token';
 * const token = await createViewerToken({
 *   secret: process.env.VIEWER_SECRET ?? 'a-secret-of-at-least-thirty-two-bytes!!',
 *   principal: { role: 'reseller', id: 'r1', tenantIds: ['acme', 'globex'] },
 *   ttl: '15m',
 *   filter: { category: 'login' },
 * });
 * const link = `https://example.com/logs/viewer#token=${token}`;
 * ```
 */
export async function createViewerToken(options: ViewerTokenOptions): Promise<string> {
  if (!options || typeof options !== 'object') throw new TypeError('createViewerToken needs { secret, principal, ttl }.');
  const secret = secretBytes(options.secret, 'createViewerToken');
  const seconds = ttlSeconds(options.ttl);
  const principal = principalSchema.safeParse(options.principal);
  if (!principal.success) {
    throw new TypeError(
      'createViewerToken: principal must be { role: "admin", id? }, { role: "reseller", id, tenantIds } or { role: "user", id, tenantId? } with string ids.',
    );
  }
  const filter = options.filter === undefined ? null : filterSchema.safeParse(options.filter);
  if (filter && !filter.success) throw new TypeError('createViewerToken: filter must be a filter object such as { type: "login" }.');
  const now = Math.floor((options.clock ?? Date.now)() / 1000);
  const { SignJWT } = await import('jose');
  return new SignJWT({ principal: principal.data, filter: filter ? filter.data : null })
    .setProtectedHeader({ alg: 'HS256', typ: TOKEN_TYPE })
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setSubject(principal.data.id ?? principal.data.role)
    .setJti(randomBytes(12).toString('base64url'))
    .setIssuedAt(now)
    .setExpirationTime(now + seconds)
    .sign(secret);
}

/** Whether a bearer value is meant as a viewer token (a JWS whose header names our type). */
function isViewerToken(token: string, decodeHeader: (token: string) => { typ?: string | undefined }): boolean {
  try {
    return decodeHeader(token).typ === TOKEN_TYPE;
  } catch {
    return false;
  }
}

const challenge = (error: string, description: string) => ({
  'WWW-Authenticate': `Bearer error="${error}", error_description="${description}"`,
});

/**
 * The native API's `authenticate` hook for viewer tokens: a valid token resolves to a read-only
 * grant of its principal and fixed filter; an expired one answers 401 `TOKEN_EXPIRED`, a tampered
 * or otherwise invalid one 401 `INVALID_TOKEN`. A request without a viewer token goes to
 * `fallback`, so a host keeps its own credentials alongside.
 *
 * @example
 * ```ts
 * import { createEventLog } from '@eventlog/core';
 * import { createSqliteStore } from '@eventlog/adapters/sqlite';
 * import { bearerToken, createHandler, safeEqual } from '@eventlog/http';
 * import { native } from '@eventlog/http/native';
 * import { viewerTokenAuth } from '@eventlog/http/viewer-token';
 *
 * const log = createEventLog({ store: createSqliteStore() });
 * const handler = createHandler({
 *   log,
 *   profiles: [
 *     native({
 *       authenticate: viewerTokenAuth({
 *         secret: process.env.VIEWER_SECRET ?? 'a-secret-of-at-least-thirty-two-bytes!!',
 *         fallback: (request) => (safeEqual(bearerToken(request) ?? '', 'admin-token') ? { role: 'admin' } : null),
 *       }),
 *     }),
 *   ],
 * });
 * ```
 */
export function viewerTokenAuth(options: ViewerTokenAuthOptions): NativeAuthenticate {
  if (!options || typeof options !== 'object') throw new TypeError('viewerTokenAuth needs { secret }.');
  const secret = secretBytes(options.secret, 'viewerTokenAuth');
  const { fallback } = options;
  const clock = options.clock ?? Date.now;
  return async (request): Promise<NativeGrant | Principal | null> => {
    const token = bearerToken(request);
    const { decodeProtectedHeader, errors, jwtVerify } = await import('jose');
    if (!token || !isViewerToken(token, decodeProtectedHeader)) return fallback ? fallback(request) : null;
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, secret, {
        algorithms: ['HS256'],
        typ: TOKEN_TYPE,
        issuer: ISSUER,
        audience: AUDIENCE,
        requiredClaims: ['exp', 'iat'],
        currentDate: new Date(clock()),
      }));
    } catch (error) {
      if (error instanceof errors.JWTExpired) {
        throw new HttpError('TOKEN_EXPIRED', 'The viewer token has expired; ask for a new link.', {
          headers: challenge('invalid_token', 'The token expired'),
        });
      }
      throw new HttpError('INVALID_TOKEN', 'The viewer token is not valid.', {
        headers: challenge('invalid_token', 'The token is invalid'),
      });
    }
    const claims = claimsSchema.safeParse(payload);
    if (!claims.success) {
      throw new HttpError('INVALID_TOKEN', 'The viewer token is not valid.', {
        headers: challenge('invalid_token', 'The token is invalid'),
      });
    }
    return {
      principal: claims.data.principal as Principal,
      filter: (claims.data.filter as FilterInput | null) ?? null,
      expiresAt: Number(payload.exp) * 1000,
      readOnly: true,
    };
  };
}
