// Login tokens of the proxy profile. `jose` is imported lazily, on the first token issued or
// verified, so that hosts loading the package root without serving the proxy API never load it.
import { randomBytes } from 'node:crypto';

const ISSUER = 'eventlog-proxy-logs';

/** Issues and verifies the HS256 login tokens of one proxy profile. @internal */
export interface TokenService {
  readonly ttlSeconds: number;
  issue(subject: string, role: 'admin' | 'viewer', nowMs: number): Promise<string>;
  /** The token's subject and role, or null when it is invalid, expired or not ours. */
  verify(token: string, nowMs: number): Promise<{ username: string; role: 'admin' | 'viewer' } | null>;
}

/** Creates the token service, checking the secret and lifetime up front. @internal */
export function createTokenService(secretOption: string | Uint8Array | undefined, ttlOption: number | undefined): TokenService {
  const secret = typeof secretOption === 'string' ? new TextEncoder().encode(secretOption) : (secretOption ?? randomBytes(32));
  if (secret.byteLength < 32) throw new TypeError('proxyLogs: jwtSecret must be at least 32 bytes.');
  const ttl = ttlOption ?? 86_400;
  if (!Number.isInteger(ttl) || ttl < 1) throw new TypeError('proxyLogs: tokenTtlSeconds must be a positive whole number.');
  return {
    ttlSeconds: ttl,
    async issue(subject, role, nowMs) {
      const { SignJWT } = await import('jose');
      const now = Math.floor(nowMs / 1000);
      return new SignJWT({ role })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setSubject(subject)
        .setIssuer(ISSUER)
        .setAudience(ISSUER)
        .setIssuedAt(now)
        .setExpirationTime(now + ttl)
        .sign(secret);
    },
    async verify(token, nowMs) {
      const { jwtVerify } = await import('jose');
      try {
        const { payload } = await jwtVerify(token, secret, {
          algorithms: ['HS256'],
          issuer: ISSUER,
          audience: ISSUER,
          currentDate: new Date(nowMs),
        });
        const role = payload.role === 'viewer' ? 'viewer' : payload.role === 'admin' ? 'admin' : null;
        if (typeof payload.sub !== 'string' || !role) return null;
        return { username: payload.sub, role };
      } catch {
        return null;
      }
    },
  };
}
