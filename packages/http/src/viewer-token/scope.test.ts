// A reseller's viewer token against hand-edited URLs, over a real socket, on SQLite and PostgreSQL:
// no parameter reaches another tenant's rows or widens the token's fixed filter.
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createPostgresStore } from '@eventlog/adapters/postgres';
import { createSqliteStore } from '@eventlog/adapters/sqlite';
import { createEventLog, type EventLog, type EventStore, type StoredEvent } from '@eventlog/core';
import { createHandler } from '@eventlog/http';
import { native } from '@eventlog/http/native';
import { toNodeHandler } from '@eventlog/http/node';
import { createViewerToken, viewerTokenAuth } from '@eventlog/http/viewer-token';
import pg from 'pg';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';

const SECRET = 'scope-test-secret-0123456789abcdef-xyz';
const PG_URL = process.env.EVENTLOG_TEST_PG_URL || 'postgres://postgres@127.0.0.1:5432/test';
const run = `viewer_${randomBytes(4).toString('hex')}`;
const schemas: string[] = [];

const engines: [string, () => EventStore][] = [
  ['sqlite', () => createSqliteStore()],
  [
    'postgres',
    () => {
      const schema = `${run}_${schemas.length}`;
      schemas.push(schema);
      return createPostgresStore({ connectionString: PG_URL, schema, maxConnections: 2 });
    },
  ],
];

afterAll(async () => {
  if (!schemas.length) return;
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  for (const schema of schemas) await client.query(`drop schema if exists "${schema}" cascade`);
  await client.end();
});

describe.each(engines)('a reseller viewer token on %s', (_engine, makeStore) => {
  let log: EventLog;
  let server: Server;
  let base: string;
  let token: string;
  let stored: StoredEvent[];

  beforeEach(async () => {
    log = createEventLog({
      store: makeStore(),
      dimensions: [{ name: 'model', indexed: true }],
      metrics: [{ name: 'tokens', tokens: true }],
    });
    const now = Date.now();
    const seed = [];
    for (let i = 0; i < 18; i++) {
      seed.push({
        type: i % 2 === 0 ? 'app.error' : 'app.request',
        time: now - (18 - i) * 60_000,
        tenantId: ['alice', 'bob', 'carol'][i % 3],
        message: `event ${i}`,
        dimensions: { model: i % 4 === 0 ? 'big' : 'small' },
        metrics: { tokens: i },
      });
    }
    stored = await log.recordMany(seed);
    server = createServer(
      toNodeHandler(createHandler({ log, profiles: [native({ authenticate: viewerTokenAuth({ secret: SECRET }), heartbeatMs: 60_000 })] })),
    );
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/eventlog`;
    token = await createViewerToken({
      secret: SECRET,
      principal: { role: 'reseller', id: 'r1', tenantIds: ['alice', 'bob'] },
      ttl: '10m',
      filter: { type: 'app.error' },
    });
  });

  afterEach(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await log.close();
  });

  const auth = () => ({ authorization: `Bearer ${token}` });
  const get = async (path: string) => {
    const response = await fetch(`${base}${path}`, { headers: auth() });
    const text = await response.text();
    return { status: response.status, text, body: (response.headers.get('content-type') ?? '').includes('json') ? JSON.parse(text) : null };
  };
  const allowed = () => stored.filter((e) => e.type === 'app.error' && (e.tenantId === 'alice' || e.tenantId === 'bob'));

  it('lists, counts and aggregates only its tenants and its fixed filter, whatever the URL says', async () => {
    const expected = allowed().map((e) => e.id);
    expect(expected.length).toBe(6);
    const all = await get('/events?limit=100');
    expect(all.body.data.map((e: StoredEvent) => e.id).sort((a: number, b: number) => a - b)).toEqual(expected);
    for (const path of [
      '/events?tenantId=carol',
      '/events?tenantId=carol&type=app.error',
      '/events?type=app.request',
      '/events?type=app.request,app.error&tenantId=carol,dave',
      '/events?search=event&tenantId=carol',
      '/events?dim.model=big&tenantId=carol',
    ]) {
      const r = await get(path);
      expect(r.status, path).toBe(200);
      expect(r.body.data, path).toEqual([]);
    }
    const stats = await get('/stats');
    expect(stats.body.data.count).toBe(6);
    expect(stats.body.data.sums.tokens).toBe(allowed().reduce((s, e) => s + (e.metrics.tokens ?? 0), 0));
    expect((await get('/stats?tenantId=carol')).body.data.count).toBe(0);
    expect((await get('/stats?type=app.request')).body.data.count).toBe(0);
    const tenants = await get('/top?by=tenantId&tenantId=alice,bob,carol');
    expect(tenants.body.data.map((e: { value: string }) => e.value).sort()).toEqual(['alice', 'bob']);
    expect((await get('/top?by=type')).body.data).toEqual([expect.objectContaining({ value: 'app.error', count: 6 })]);
    const timeline = await get('/timeline?bucket=hour&tenantId=bob,carol');
    expect(timeline.body.data.points.reduce((s: number, p: { count: number }) => s + p.count, 0)).toBe(
      allowed().filter((e) => e.tenantId === 'bob').length,
    );
  });

  it("answers 404 for another tenant's event id and for an id outside the fixed filter", async () => {
    const carols = stored.find((e) => e.tenantId === 'carol' && e.type === 'app.error')!;
    const request = stored.find((e) => e.tenantId === 'alice' && e.type === 'app.request')!;
    const mine = allowed()[0]!;
    expect((await get(`/events/${carols.id}`)).status).toBe(404);
    expect((await get(`/events/${request.id}`)).status).toBe(404);
    const ok = await get(`/events/${mine.id}`);
    expect(ok.status).toBe(200);
    expect(ok.body.data.id).toBe(mine.id);
  });

  it('exports only what it may see', async () => {
    const csv = await get('/export.csv?columns=id,type,tenantId&order=asc&tenantId=alice,bob,carol&type=app.error,app.request');
    expect(csv.status).toBe(200);
    const rows = csv.text.trim().split('\r\n');
    expect(rows[0]).toBe('id,type,tenantId');
    expect(rows.slice(1)).toEqual(allowed().map((e) => `${e.id},app.error,${e.tenantId}`));
    expect((await get('/export.csv?columns=id&tenantId=carol')).text).toBe('id\r\n');
  });

  it('tails over fetch() with an Authorization header, and only what it may see', async () => {
    const abort = new AbortController();
    const response = await fetch(`${base}/tail?tenantId=bob,carol`, { headers: auth(), signal: abort.signal });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let received = decoder.decode((await reader.read()).value);
    await log.record({ type: 'app.error', tenantId: 'carol', message: 'carol error' });
    await log.record({ type: 'app.request', tenantId: 'bob', message: 'bob request' });
    await log.record({ type: 'app.error', tenantId: 'alice', message: 'alice error (not asked for)' });
    await log.record({ type: 'app.error', tenantId: 'bob', message: 'bob error' });
    while (!received.includes('bob error')) received += decoder.decode((await reader.read()).value);
    abort.abort();
    await reader.cancel().catch(() => undefined);
    const messages = [...received.matchAll(/^data: (.+)$/gm)].map((m) => JSON.parse(m[1]!).message);
    expect(messages).toEqual(['bob error']);
  });

  it('lists only the open sessions it may see', async () => {
    await log.sessions.open({ type: 'app.error', sessionId: 'c1', tenantId: 'carol' });
    await log.sessions.open({ type: 'app.request', sessionId: 'a1', tenantId: 'alice' });
    await log.sessions.open({ type: 'app.error', sessionId: 'b1', tenantId: 'bob' });
    const all = await get('/sessions?tenantId=alice,bob,carol');
    expect(all.body.data.map((s: { sessionId: string }) => s.sessionId)).toEqual(['b1']);
  });
});
