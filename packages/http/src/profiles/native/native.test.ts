import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { EventLog, Principal } from '@eventlog/core';
import { bearerToken, createHandler, findBySecret, type Handler, native } from '@eventlog/http';
import { toNodeHandler } from '@eventlog/http/node';
import { compileErrors, validate } from '@readme/openapi-parser';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestLog, ENVELOPES, expectRefusal, send } from '../../testing/profile-test-kit.js';

const T0 = Date.UTC(2026, 2, 25, 12, 0, 0);
const MIN = 60_000;

const tokens: { token: string; principal: Principal }[] = [
  { token: 'admin-token', principal: { role: 'admin' } },
  { token: 'alice-token', principal: { role: 'user', id: 'alice' } },
  { token: 'reseller-token', principal: { role: 'reseller', id: 'r1', tenantIds: ['alice', 'bob'] } },
];

let log: EventLog;
let handler: Handler;

beforeEach(async () => {
  log = createTestLog({
    clock: () => T0,
    dimensions: [{ name: 'model_name', indexed: true }],
    metrics: [{ name: 'prompt_tokens', tokens: true }, { name: 'quota' }],
  });
  handler = createHandler({
    log,
    profiles: [native({ authenticate: (request) => findBySecret(bearerToken(request) ?? '', tokens, (t) => t.token)?.principal ?? null })],
  });
  const seed = [];
  for (let i = 0; i < 30; i++) {
    seed.push({
      type: i % 3 === 0 ? 'app.error' : 'app.request',
      time: T0 - (30 - i) * MIN,
      message: `request ${i}${i === 7 ? ' 100%_done' : ''}`,
      tenantId: i % 2 === 0 ? 'alice' : 'bob',
      actor: { id: i % 2 === 0 ? 'alice' : 'bob', type: 'user' },
      ip: `203.0.113.${i}`,
      dimensions: { model_name: i % 4 === 0 ? 'gpt-4' : 'claude' },
      metrics: { prompt_tokens: 10, quota: i },
    });
  }
  seed.push({ type: 'app.request', time: T0 - 30_000, tenantId: 'carol', metrics: { prompt_tokens: 5, quota: 1 } });
  await log.recordMany(seed);
});

afterEach(async () => {
  await log.close();
});

const call = async (path: string, token?: string, init: RequestInit = {}) => {
  const headers = new Headers(init.headers);
  if (token) headers.set('authorization', `Bearer ${token}`);
  return send(handler, `http://test${path}`, { ...init, headers });
};
const admin = (path: string, init?: RequestInit) => call(path, 'admin-token', init);
const post = (path: string, body: unknown, token = 'admin-token') =>
  call(path, token, {
    method: 'POST',
    body: typeof body === 'string' ? body : JSON.stringify(body),
    headers: { 'content-type': 'application/json' },
  });

describe('native ingest', () => {
  it('records one event and answers 201 with the stored event', async () => {
    const r = await post('/eventlog/events', { type: 'app.request', message: 'hi', metrics: { quota: 3 } });
    expect(r.status).toBe(201);
    expect(r.body.data).toMatchObject({ type: 'app.request', message: 'hi', time: T0, metrics: { quota: 3 } });
    expect(typeof r.body.data.id).toBe('number');
  });

  it('records a batch in both forms', async () => {
    expect((await post('/eventlog/events', [{ type: 'a' }, { type: 'b' }])).body.data).toHaveLength(2);
    expect((await post('/eventlog/events', { events: [{ type: 'c' }] })).body.data).toHaveLength(1);
    expect(await log.count({ type: ['a', 'b', 'c'] })).toBe(3);
  });

  it('lists every invalid event of a batch by index and stores none', async () => {
    const before = await log.count();
    const r = await post('/eventlog/events', [
      { type: 'ok' },
      { type: 'ok', actor: 5 },
      { type: 'ok', time: 'yesterday' },
      { type: 'ok', metrics: { nope: 1 } },
      'x',
    ]);
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('VALIDATION_FAILED');
    expect(r.body.error.message).toBe('4 of 5 events are invalid; nothing was stored.');
    expect(r.body.error.events.map((e: { index: number }) => e.index)).toEqual([1, 2, 3, 4]);
    expect(r.body.error.events[1].issues[0].path).toEqual(['time']);
    expect(await log.count()).toBe(before);
  });

  it('keeps writers inside their tenants', async () => {
    const user = (await post('/eventlog/events', { type: 'app.note', tenantId: 'bob' }, 'alice-token')).status;
    expect(user).toBe(403);
    const writer = createHandler({
      log,
      profiles: [native({ authenticate: () => ({ role: 'user', id: 'alice' }), canWrite: () => true })],
    });
    const r = await writer(
      new Request('http://test/eventlog/events', {
        method: 'POST',
        body: '{"type":"app.note","tenantId":"bob"}',
        headers: { 'content-type': 'application/json' },
      }),
    );
    expect(r.status).toBe(201);
    expect((await r.json()).data.tenantId).toBe('alice');
    const reseller = await post('/eventlog/events', { type: 'app.note', tenantId: 'carol' }, 'reseller-token');
    expect(reseller.status).toBe(403);
    // A reseller allowed to write still only writes into its own tenants: 403, and nothing stored.
    const resellerWriter = createHandler({
      log,
      profiles: [native({ authenticate: () => ({ role: 'reseller', id: 'r', tenantIds: ['t1', 't2'] }), canWrite: () => true })],
    });
    const before = await log.count();
    const foreign = await resellerWriter(
      new Request('http://test/eventlog/events', {
        method: 'POST',
        body: '[{"type":"app.note","tenantId":"t1"},{"type":"app.note","tenantId":"carol"}]',
        headers: { 'content-type': 'application/json' },
      }),
    );
    expect(foreign.status).toBe(403);
    expect((await foreign.json()).error).toMatchObject({ code: 'FORBIDDEN', message: 'events[1].tenantId: must name one of your tenants' });
    expect(await log.count()).toBe(before);
  });
});

describe('native reads', () => {
  it('pages with cursors until the end, newest first', async () => {
    const seen: number[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const r = await admin(`/eventlog/events?limit=7&type=app.request${cursor ? `&cursor=${cursor}` : ''}`);
      expect(r.status).toBe(200);
      seen.push(...r.body.data.map((e: { time: number }) => e.time));
      cursor = r.body.nextCursor;
      pages++;
    } while (cursor);
    expect(seen).toHaveLength(21);
    expect(pages).toBe(3);
    expect([...seen].sort((a, b) => b - a)).toEqual(seen);
  });

  it('filters by lists, dimensions, time and literal wildcard text', async () => {
    expect((await admin('/eventlog/events?dim.model_name=gpt-4&limit=100')).body.data).toHaveLength(8);
    expect((await admin(`/eventlog/events?since=${T0 - 5 * MIN}&until=${new Date(T0).toISOString()}`)).body.data).toHaveLength(6);
    expect((await admin('/eventlog/events?search=100%25_')).body.data.map((e: { message: string }) => e.message)).toEqual([
      'request 7 100%_done',
    ]);
    expect((await admin('/eventlog/events?search=%25')).body.data).toHaveLength(1);
    expect((await admin('/eventlog/events?tenantId=alice,carol&limit=100')).body.data).toHaveLength(16);
  });

  it('gets one event, scoped', async () => {
    const first = (await admin('/eventlog/events?tenantId=bob&limit=1')).body.data[0];
    expect((await admin(`/eventlog/events/${first.id}`)).body.data.id).toBe(first.id);
    expect((await call(`/eventlog/events/${first.id}`, 'alice-token')).status).toBe(404);
  });

  it('answers stats with rpm and tpm over the last minute', async () => {
    const r = await admin('/eventlog/stats');
    // The newest seeded row sits exactly 60 s back, on the window's edge; only carol's is inside it.
    expect(r.body.data).toEqual({ count: 31, sums: { prompt_tokens: 305, quota: 436 }, rpm: 1, tpm: 5 });
    const alice = await call('/eventlog/stats', 'alice-token');
    expect(alice.body.data.count).toBe(15);
  });

  it('answers timelines and top-N', async () => {
    const t = await admin(`/eventlog/timeline?bucket=minute&since=${T0 - 3 * MIN}&until=${T0}&metrics=quota`);
    expect(t.body.data.points).toHaveLength(3);
    expect(t.body.data.points[0]).toMatchObject({ count: 1, sums: { quota: 27 } });
    const top = await admin('/eventlog/top?by=model_name&limit=2');
    expect(top.body.data).toEqual([
      expect.objectContaining({ value: 'claude', count: 22 }),
      expect.objectContaining({ value: 'gpt-4', count: 8 }),
    ]);
  });

  it('lists open sessions within scope', async () => {
    await log.sessions.open({ type: 'conn.open', sessionId: 's1', tenantId: 'alice', time: T0 - 5 * MIN });
    await log.sessions.open({ type: 'conn.open', sessionId: 's2', tenantId: 'bob', time: T0 - MIN });
    expect((await admin('/eventlog/sessions')).body.data.map((s: { sessionId: string }) => s.sessionId)).toEqual(['s1', 's2']);
    const alice = (await call('/eventlog/sessions', 'alice-token')).body.data;
    expect(alice).toEqual([expect.objectContaining({ sessionId: 's1', durationMs: 5 * MIN })]);
  });

  it('exports CSV in a time zone', async () => {
    const r = await admin('/eventlog/export.csv?tenantId=carol&columns=time,type,quota&timeZone=America/New_York');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(r.headers.get('content-disposition')).toBe('attachment; filename="events.csv"');
    expect(r.text).toBe('time,type,quota\r\n2026-03-25T07:59:30.000-04:00,app.request,1\r\n');
  });
});

describe('native live tail', () => {
  it('streams new events that match the filter and scope, and stops on abort', async () => {
    const abort = new AbortController();
    const response = await handler(
      new Request('http://test/eventlog/tail?type=app.error', { headers: { authorization: 'Bearer alice-token' }, signal: abort.signal }),
    );
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    expect(decoder.decode((await reader.read()).value)).toBe(': connected\n\n');
    await log.record({ type: 'app.error', tenantId: 'bob', message: 'not for alice' });
    await log.record({ type: 'app.request', tenantId: 'alice', message: 'wrong type' });
    const mine = await log.record({ type: 'app.error', tenantId: 'alice', message: 'for alice' });
    const chunk = decoder.decode((await reader.read()).value);
    expect(chunk).toMatch(new RegExp(`^id: ${mine.id}\nevent: event\ndata: `));
    expect(JSON.parse(chunk.split('data: ')[1]!)).toMatchObject({ message: 'for alice' });
    abort.abort();
    expect((await reader.read()).done).toBe(true);
  });
});

describe('native OpenAPI document', () => {
  it('is a valid OpenAPI 3.1 document covering every route', async () => {
    const r = await call('/eventlog/openapi.json');
    expect(r.status).toBe(200);
    expect(r.body.openapi).toBe('3.1.0');
    expect(Object.keys(r.body.paths).sort()).toEqual(
      [
        '/eventlog/events',
        '/eventlog/events/{id}',
        '/eventlog/export.csv',
        '/eventlog/openapi.json',
        '/eventlog/schema',
        '/eventlog/sessions',
        '/eventlog/stats',
        '/eventlog/tail',
        '/eventlog/timeline',
        '/eventlog/top',
        '/eventlog/whoami',
      ].sort(),
    );
    const limit = r.body.paths['/eventlog/events'].get.parameters.find((p: { name: string }) => p.name === 'limit');
    expect(limit.schema).toMatchObject({ type: 'integer', minimum: 1, maximum: 1000, default: 50 });
    const result = await validate(structuredClone(r.body));
    expect(result.valid ? [] : compileErrors(result)).toEqual([]);
    expect(result.warnings).toEqual([]);
    // The validator does catch a broken document.
    const broken = structuredClone(r.body);
    broken.paths['/eventlog/events'].get.parameters[0].in = 'nowhere';
    expect((await validate(broken)).valid).toBe(false);
  });
});

describe('native authorization and bad input', () => {
  const endpoints = [
    '/eventlog/events',
    '/eventlog/events/1',
    '/eventlog/stats',
    '/eventlog/timeline',
    '/eventlog/top?by=ip',
    '/eventlog/sessions',
    '/eventlog/export.csv',
  ];

  it('refuses anonymous and wrong keys with 401 on every endpoint', async () => {
    for (const path of [...endpoints, '/eventlog/tail']) {
      for (const token of [undefined, 'wrong']) {
        const r = await call(path, token);
        expect(r.status, `${path} ${token}`).toBe(401);
        expect(r.body.error.code).toBe('UNAUTHORIZED');
        expect(r.headers.get('www-authenticate')).toBe('Bearer');
      }
    }
  });

  it('never shows a user another tenant, even when asked for it', async () => {
    const list = await call('/eventlog/events?tenantId=bob&limit=100', 'alice-token');
    expect(list.body.data).toEqual([]);
    const all = await call('/eventlog/events?limit=100', 'alice-token');
    expect(new Set(all.body.data.map((e: { tenantId: string }) => e.tenantId))).toEqual(new Set(['alice']));
    const csv = await call('/eventlog/export.csv?columns=tenantId', 'alice-token');
    expect(new Set(csv.text.trim().split('\r\n').slice(1))).toEqual(new Set(['alice']));
    const top = await call('/eventlog/top?by=tenantId', 'alice-token');
    expect(top.body.data.map((e: { value: string }) => e.value)).toEqual(['alice']);
    const reseller = await call('/eventlog/top?by=tenantId', 'reseller-token');
    expect(reseller.body.data.map((e: { value: string }) => e.value).sort()).toEqual(['alice', 'bob']);
  });

  it('answers hostile input with a 4xx error envelope', async () => {
    const cases: [string, number][] = [
      ['/eventlog/events?limit=abc', 400],
      ['/eventlog/events?limit=-1', 400],
      ['/eventlog/events?limit=99999999999999999999', 400],
      ['/eventlog/events?limit=1.5', 400],
      ['/eventlog/events?cursor=not-a-cursor', 400],
      ['/eventlog/events?cursor=%00%27', 400],
      ['/eventlog/events?sort=message', 400],
      ['/eventlog/events?order=sideways', 400],
      ['/eventlog/events?since=yesterday', 400],
      ['/eventlog/events?since=99999999999999999999', 400],
      ['/eventlog/events?dim.nope=1', 400],
      [`/eventlog/events?type=${'x'.repeat(300)}`, 400],
      [`/eventlog/events?search=${'x'.repeat(300)}`, 400],
      ["/eventlog/events?type=x' OR 1=1 --", 200],
      ['/eventlog/events?search=%25%25_%5C', 200],
      ['/eventlog/events/0', 400],
      ['/eventlog/events/abc', 400],
      ['/eventlog/events/99999999999999999999', 400],
      ['/eventlog/events/999', 404],
      ['/eventlog/timeline?bucket=week', 400],
      ['/eventlog/timeline?timeZone=Mars/Olympus', 400],
      ['/eventlog/timeline?bucket=minute&since=0', 400],
      ['/eventlog/timeline?metrics=nope', 400],
      ['/eventlog/top', 400],
      ['/eventlog/top?by=message', 400],
      ['/eventlog/top?by=ip&orderBy=nope', 400],
      ['/eventlog/top?by=ip&limit=0', 400],
      ['/eventlog/sessions?offset=-5', 400],
      ['/eventlog/sessions?limit=100000', 400],
      ['/eventlog/export.csv?columns=password', 400],
      ['/eventlog/export.csv?timeZone=nowhere', 400],
      ['/eventlog/tail?dim.nope=x', 400],
      ['/eventlog/nope', 404],
    ];
    for (const [path, status] of cases) {
      const r = await admin(path);
      expect(r.status, path).toBe(status);
      if (status >= 400) {
        expectRefusal(r, ENVELOPES.native, path);
        expect(typeof r.body.error.message, path).toBe('string');
        expect(r.text, path).not.toMatch(/\bat .+\.(ts|js):\d+/);
      }
    }
    const wrongMethod = await admin('/eventlog/stats', { method: 'DELETE' });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.body.error.code).toBe('METHOD_NOT_ALLOWED');
    expect((await post('/eventlog/events', '{"type":')).status).toBe(400);
    expect((await post('/eventlog/events', 42)).status).toBe(400);
    expect((await post('/eventlog/events', [])).status).toBe(400);
    expect(
      (
        await post(
          '/eventlog/events',
          Array.from({ length: 1001 }, () => ({ type: 'x' })),
        )
      ).status,
    ).toBe(413);
    expect((await post('/eventlog/events', { type: 'x', message: 'y'.repeat(6 * 1_048_576) })).status).toBe(413);
    expect((await post('/eventlog/events', { type: 'x' }, 'alice-token')).status).toBe(403);
  });
});

describe('native over a real socket', () => {
  let server: Server;
  let base: string;
  beforeEach(async () => {
    server = createServer(toNodeHandler(handler));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterEach(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('ingests, queries and exports through node:http', async () => {
    const auth = { authorization: 'Bearer admin-token' };
    const created = await fetch(`${base}/eventlog/events`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'net.test', tenantId: 'net' }),
    });
    expect(created.status).toBe(201);
    const list = await (await fetch(`${base}/eventlog/events?tenantId=net`, { headers: auth })).json();
    expect(list.data).toHaveLength(1);
    const csv = await (await fetch(`${base}/eventlog/export.csv?columns=type`, { headers: auth })).text();
    expect(csv.split('\r\n')).toHaveLength(34);
  });

  it('tails over SSE and releases the subscription on disconnect', async () => {
    const abort = new AbortController();
    const response = await fetch(`${base}/eventlog/tail`, { headers: { authorization: 'Bearer admin-token' }, signal: abort.signal });
    const reader = response.body!.getReader();
    await reader.read();
    await log.record({ type: 'net.live', message: 'over the wire' });
    let received = '';
    while (!received.includes('over the wire')) received += new TextDecoder().decode((await reader.read()).value);
    abort.abort();
    await reader.cancel().catch(() => undefined);
  });
});
