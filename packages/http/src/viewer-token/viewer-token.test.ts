import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { EventLog } from '@eventlog/core';
import { bearerToken, createHandler, safeEqual } from '@eventlog/http';
import { native } from '@eventlog/http/native';
import { toNodeHandler } from '@eventlog/http/node';
import { createViewerToken, MAX_VIEWER_TOKEN_TTL, viewerTokenAuth } from '@eventlog/http/viewer-token';
import { decodeJwt, decodeProtectedHeader, SignJWT } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestLog } from '../testing/profile-test-kit.js';

const SECRET = 'viewer-token-test-secret-0123456789abcdef';
const T0 = Date.UTC(2026, 11, 7, 6, 0, 0);
const user = { role: 'user', id: 'alice' } as const;

describe('createViewerToken', () => {
  it('signs an HS256 JWT of our type with the principal, the filter and the expiry', async () => {
    const token = await createViewerToken({ secret: SECRET, principal: user, ttl: '15m', filter: { type: 'login' }, clock: () => T0 });
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'HS256', typ: 'eventlog-viewer+jwt' });
    const claims = decodeJwt(token);
    expect(claims).toMatchObject({ principal: user, filter: { type: 'login' }, sub: 'alice', iat: T0 / 1000, exp: T0 / 1000 + 900 });
    expect(typeof claims.jti).toBe('string');
    // Two links for the same person are two different tokens.
    expect(await createViewerToken({ secret: SECRET, principal: user, ttl: 60, clock: () => T0 })).not.toBe(
      await createViewerToken({ secret: SECRET, principal: user, ttl: 60, clock: () => T0 }),
    );
    for (const [ttl, seconds] of [
      [90, 90],
      ['30s', 30],
      ['2h', 7200],
      ['1d', 86_400],
    ] as const) {
      const t = decodeJwt(await createViewerToken({ secret: SECRET, principal: user, ttl, clock: () => T0 }));
      expect(Number(t.exp) - Number(t.iat), String(ttl)).toBe(seconds);
    }
  });

  it('refuses a ttl beyond 24 hours, a malformed ttl, a short secret and a malformed principal', async () => {
    const make = (overrides: Record<string, unknown>) => createViewerToken({ secret: SECRET, principal: user, ttl: 60, ...overrides });
    await expect(make({ ttl: MAX_VIEWER_TOKEN_TTL + 1 })).rejects.toThrow('ttl must be at most 24 h (86400 s); got 86401 s');
    await expect(make({ ttl: '25h' })).rejects.toThrow(RangeError);
    await expect(make({ ttl: '2d' })).rejects.toThrow(/at most 24 h/);
    for (const ttl of [0, -5, 1.5, '15 minutes', '', 'm', Number.NaN, null]) {
      await expect(make({ ttl }), String(ttl)).rejects.toThrow(/ttl must be a whole number of seconds/);
    }
    await expect(make({ secret: 'short' })).rejects.toThrow('secret must be at least 32 bytes');
    await expect(make({ principal: { role: 'root' } })).rejects.toThrow(/principal must be/);
    await expect(make({ principal: { role: 'reseller', id: 'r1' } })).rejects.toThrow(/principal must be/);
    await expect(make({ filter: 'login' })).rejects.toThrow(/filter must be a filter object/);
    expect(() => viewerTokenAuth({ secret: new Uint8Array(8) })).toThrow('viewerTokenAuth: secret must be at least 32 bytes');
  });
});

describe('viewerTokenAuth over a real socket', () => {
  let log: EventLog;
  let server: Server;
  let base: string;

  beforeEach(async () => {
    log = createTestLog();
    await log.recordMany([
      { type: 'login', tenantId: 'alice', message: 'alice logs in' },
      { type: 'login', tenantId: 'bob', message: 'bob logs in' },
    ]);
    const handler = createHandler({
      log,
      profiles: [
        native({
          authenticate: viewerTokenAuth({
            secret: SECRET,
            fallback: (request) => (safeEqual(bearerToken(request) ?? '', 'host-admin-token') ? { role: 'admin', id: 'host' } : null),
          }),
        }),
      ],
    });
    server = createServer(toNodeHandler(handler));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/eventlog`;
  });

  afterEach(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await log.close();
  });

  const get = async (path: string, token?: string) => {
    const response = await fetch(`${base}${path}`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
    return { status: response.status, headers: response.headers, body: await response.json() };
  };

  it('reads as the token principal, and the host hook still works alongside', async () => {
    const token = await createViewerToken({ secret: SECRET, principal: user, ttl: '5m' });
    const mine = await get('/events', token);
    expect(mine.status).toBe(200);
    expect(mine.body.data.map((e: { message: string }) => e.message)).toEqual(['alice logs in']);
    const host = await get('/events', 'host-admin-token');
    expect(host.body.data).toHaveLength(2);
    expect((await get('/events', 'someone-else')).status).toBe(401);
    const anonymous = await get('/events');
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.error.code).toBe('UNAUTHORIZED');
  });

  it('answers 401 TOKEN_EXPIRED for an expired token and INVALID_TOKEN for a tampered or foreign one, never data', async () => {
    const expired = await createViewerToken({ secret: SECRET, principal: user, ttl: 60, clock: () => Date.now() - 61_000 });
    const r = await get('/events', expired);
    expect(r.status).toBe(401);
    expect(r.body).toEqual({ error: { code: 'TOKEN_EXPIRED', message: 'The viewer token has expired; ask for a new link.' } });
    expect(r.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token"/);

    const good = await createViewerToken({ secret: SECRET, principal: user, ttl: 60 });
    const [header, payload, signature] = good.split('.') as [string, string, string];
    // Widen the principal to an admin and keep the old signature.
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    const widened = Buffer.from(JSON.stringify({ ...claims, principal: { role: 'admin' } })).toString('base64url');
    const forged = await new SignJWT({ principal: { role: 'admin' }, filter: null })
      .setProtectedHeader({ alg: 'HS256', typ: 'eventlog-viewer+jwt' })
      .setIssuer('eventlog')
      .setAudience('eventlog-viewer')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode('another-secret-of-at-least-32-bytes!!!!'));
    const unsigned = `${Buffer.from('{"alg":"none","typ":"eventlog-viewer+jwt"}').toString('base64url')}.${widened}.`;
    const badClaims = await new SignJWT({ principal: { role: 'superuser' }, filter: null })
      .setProtectedHeader({ alg: 'HS256', typ: 'eventlog-viewer+jwt' })
      .setIssuer('eventlog')
      .setAudience('eventlog-viewer')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(SECRET));
    for (const token of [
      `${header}.${widened}.${signature}`,
      `${header}.${payload}.${signature.slice(0, -2)}AA`,
      forged,
      unsigned,
      badClaims,
    ]) {
      const answer = await get('/events', token);
      expect(answer.status, token).toBe(401);
      expect(answer.body.error.code, token).toBe('INVALID_TOKEN');
      expect(answer.body.data, token).toBeUndefined();
    }
  });

  it('is read-only: a write with a viewer token is 403 and stores nothing', async () => {
    const token = await createViewerToken({ secret: SECRET, principal: { role: 'admin', id: 'auditor' }, ttl: 60 });
    const before = await log.count();
    const response = await fetch(`${base}/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'login', tenantId: 'alice' }),
    });
    expect(response.status).toBe(403);
    expect((await response.json()).error.code).toBe('FORBIDDEN');
    expect(await log.count({ type: 'login' })).toBe(before);
    // The host's own admin credential still writes.
    const host = await fetch(`${base}/events`, {
      method: 'POST',
      headers: { authorization: 'Bearer host-admin-token', 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'login', tenantId: 'alice' }),
    });
    expect(host.status).toBe(201);
  });
});
