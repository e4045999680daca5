import { createSqliteStore } from '@eventlog/adapters/sqlite';
import { createEventLog, type EventLog, ValidationError } from '@eventlog/core';
import { createHandler, createRouter, defineProfile, defineRoute, HttpError, json, native, queryInt, queryString } from '@eventlog/http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';

const T0 = Date.UTC(2026, 2, 25, 12, 0, 0);

const echo = defineRoute({
  method: ['POST', 'PUT'],
  path: '/echo/:name',
  params: z.object({ name: z.string().max(5) }),
  query: z.object({ n: queryInt({ min: 1, max: 10 }), q: queryString() }),
  body: z.object({ value: z.number() }),
  maxBodyBytes: 64,
  run: ({ params, query, body }) => ({ params, query, body }),
});

const demo = defineProfile({
  name: 'demo',
  prefixes: ['/demo'],
  routes: [
    { method: 'GET', path: ['/demo/count', '/demo/count/'], run: async ({ log }) => ({ count: await log.count() }) },
    { ...echo, path: '/demo/echo/:name' },
    { method: 'GET', path: '/demo/core-error', run: () => Promise.reject(new ValidationError([{ path: ['x'], message: 'is wrong' }])) },
    { method: 'GET', path: '/demo/crash', run: () => Promise.reject(new Error('secret detail at /etc/passwd')) },
    {
      method: 'GET',
      path: '/demo/private',
      auth: ({ request }) => {
        if (request.headers.get('x-key') !== 'k') throw new HttpError('UNAUTHORIZED', 'Send x-key.');
        return { who: 'me' };
      },
      run: ({ auth }) => auth,
    },
    { method: 'GET', path: '/demo/open', cors: true, run: () => ({ open: true }) },
    { method: 'GET', path: '/demo/files/*rest', run: ({ params }) => params },
  ],
  success: (data) => json({ ok: true, data }),
  failure: (error) => json({ ok: false, why: error.message, code: error.code }, error.status),
});

let log: EventLog;
beforeEach(() => {
  log = createEventLog({ store: createSqliteStore(), clock: () => T0 });
});
afterEach(async () => {
  await log.close();
});

const call = async (path: string, init?: RequestInit) => {
  const handler = createHandler({ log, profiles: [demo], onError: () => undefined });
  const response = await handler(new Request(`http://test${path}`, init));
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, body: text ? JSON.parse(text) : null };
};

describe('router', () => {
  it('matches params, rest segments and tells 405 from 404', () => {
    const router = createRouter<string>();
    router.add('GET', '/a/:id', 'a');
    router.add(['GET', 'DELETE'], ['/b', '/b/'], 'b');
    router.add('GET', '/s/*path', 's');
    expect(router.match('GET', '/a/x%20y')).toEqual({ kind: 'found', value: 'a', params: { id: 'x y' } });
    expect(router.match('HEAD', '/b/').kind).toBe('found');
    expect(router.match('POST', '/b')).toMatchObject({ kind: 'method-not-allowed', allow: ['GET', 'DELETE'] });
    expect(router.match('GET', '/a/')).toEqual({ kind: 'not-found' });
    expect(router.match('GET', '/a/1/2')).toEqual({ kind: 'not-found' });
    expect(router.match('GET', '/s/x/y.png')).toEqual({ kind: 'found', value: 's', params: { path: 'x/y.png' } });
    expect(() => router.add('GET', 'nope', 'x')).toThrow(TypeError);
  });
});

describe('createHandler', () => {
  it('serves a route through the profile envelope', async () => {
    await log.record({ type: 'a' });
    expect(await call('/demo/count')).toMatchObject({ status: 200, body: { ok: true, data: { count: 1 } } });
    expect((await call('/demo/count/')).status).toBe(200);
  });

  it('parses params, query and body with the route schemas', async () => {
    const r = await call('/demo/echo/bob?n=3&q=&extra=1', {
      method: 'POST',
      body: JSON.stringify({ value: 2 }),
      headers: { 'content-type': 'application/json' },
    });
    expect(r.body).toEqual({ ok: true, data: { params: { name: 'bob' }, query: { n: 3 }, body: { value: 2 } } });
  });

  it('answers bad input with a 4xx in the profile envelope', async () => {
    const post = (path: string, body: string, type = 'application/json') =>
      call(path, { method: 'POST', body, headers: { 'content-type': type } });
    const cases = [
      [await post('/demo/echo/bob?n=x', '{"value":1}'), 400, /query parameter "n" must be a whole number/],
      [await post('/demo/echo/bob?n=11', '{"value":1}'), 400, /at most 10/],
      [await post('/demo/echo/bob?n=-1', '{"value":1}'), 400, /at least 1/],
      [await post('/demo/echo/bob?n=1&n=2', '{"value":1}'), 400, /query parameter "n"/],
      [await post('/demo/echo/toolongname', '{"value":1}'), 400, /path parameter "name"/],
      [await post('/demo/echo/bob', '{"value":'), 400, /not valid JSON/],
      [await post('/demo/echo/bob', '{"value":"1"}'), 400, /body field "value"/],
      [await post('/demo/echo/bob', JSON.stringify({ value: 1, pad: 'x'.repeat(100) })), 413, /larger than 64 bytes/],
      [await post('/demo/echo/bob', '<xml/>', 'application/xml'), 415, /application\/json/],
      [await call('/demo/core-error'), 400, /x: is wrong/],
      [await call('/demo/nope'), 404, /Nothing is served/],
      [await call('/demo/count', { method: 'DELETE' }), 405, /use GET/],
      [await call('/demo/private'), 401, /Send x-key/],
    ] as const;
    for (const [response, status, message] of cases) {
      expect(response.status).toBe(status);
      expect(response.body.ok).toBe(false);
      expect(response.body.why).toMatch(message);
    }
    expect((await call('/demo/count', { method: 'DELETE' })).headers.get('allow')).toBe('GET');
  });

  it('hides the details of unexpected failures', async () => {
    const seen: unknown[] = [];
    const handler = createHandler({ log, profiles: [demo], onError: (e) => seen.push(e) });
    const response = await handler(new Request('http://test/demo/crash'));
    expect(response.status).toBe(500);
    const text = await response.text();
    expect(text).not.toMatch(/passwd|at .*\.ts/);
    expect(seen).toHaveLength(1);
  });

  it('answers unknown paths outside every profile with a plain 404 and honours basePath', async () => {
    const handler = createHandler({ log, profiles: [demo], basePath: '/logs/' });
    expect((await handler(new Request('http://test/logs/demo/count'))).status).toBe(200);
    const outside = await handler(new Request('http://test/demo/count'));
    expect(outside.status).toBe(404);
    expect(await outside.json()).toEqual({ error: { code: 'ROUTE_NOT_FOUND', message: 'Nothing is served at /demo/count.' } });
  });

  it('answers CORS preflights only for CORS routes', async () => {
    const pre = await call('/demo/open', {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example', 'access-control-request-headers': 'authorization' },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe('*');
    expect(pre.headers.get('access-control-allow-methods')).toBe('GET, OPTIONS');
    expect(pre.headers.get('access-control-allow-headers')).toBe('authorization');
    const get = await call('/demo/open', { headers: { origin: 'https://app.example' } });
    expect(get.headers.get('access-control-allow-origin')).toBe('*');
    expect((await call('/demo/count', { method: 'OPTIONS' })).status).toBe(405);
    expect((await call('/demo/count')).headers.get('access-control-allow-origin')).toBeNull();
  });

  it('serves HEAD from GET routes without a body and keeps rest segments', async () => {
    const head = await call('/demo/count', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.text).toBe('');
    expect((await call('/demo/files/a/b.png')).body).toEqual({ ok: true, data: { rest: 'a/b.png' } });
  });

  it('refuses a profile whose preset the log does not declare', async () => {
    const needs = defineProfile({
      name: 'needs',
      preset: { name: 'needs', types: [], dimensions: [{ name: 'model_name' }], metrics: [] },
      routes: [],
      failure: (error) => json({}, error.status),
    });
    expect(() => createHandler({ log, profiles: [needs] })).toThrow(/dimension "model_name"/);
  });
});

describe('the last line of defence', () => {
  const waiting = (outcome: (signal: AbortSignal) => unknown) => ({
    method: 'GET' as const,
    path: '/demo/wait',
    run: ({ signal }: { signal: AbortSignal }) =>
      new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(outcome(signal)))),
  });

  it('answers work stopped by a client abort with 499, without reporting it as a server failure', async () => {
    for (const outcome of [(s: AbortSignal) => s.reason, () => new DOMException('The operation was aborted.', 'AbortError')]) {
      const seen: unknown[] = [];
      const profile = { ...demo, routes: [waiting(outcome)] };
      const handler = createHandler({ log, profiles: [profile], onError: (e) => seen.push(e) });
      const abort = new AbortController();
      const answer = handler(new Request('http://test/demo/wait', { signal: abort.signal }));
      abort.abort();
      const response = await answer;
      expect(response.status).toBe(499);
      expect(await response.text()).toBe('');
      expect(seen).toEqual([]);
    }
  });

  it('still tells the host about a genuine server failure met after the client left', async () => {
    const seen: unknown[] = [];
    const crash = new Error('the store broke');
    const profile = { ...demo, routes: [waiting(() => crash)] };
    const handler = createHandler({ log, profiles: [profile], onError: (e) => seen.push(e) });
    const abort = new AbortController();
    const answer = handler(new Request('http://test/demo/wait', { signal: abort.signal }));
    abort.abort();
    expect((await answer).status).toBe(499);
    expect(seen).toEqual([crash]);
  });

  it('serves string payloads through queries, exports and the live tail without a 5xx (issue 16)', async () => {
    const handler = createHandler({ log, profiles: [native({ authenticate: () => ({ role: 'admin' }) })] });
    const payloads = ['hello', '123', 'true', 'null', '', '{"a":1}', '[1]'];
    const abort = new AbortController();
    const tail = await handler(new Request('http://test/eventlog/tail?type=app.text', { signal: abort.signal }));
    expect(tail.status).toBe(200);
    const stored = await log.recordMany(payloads.map((data) => ({ type: 'app.text', data })));
    const list = await handler(new Request('http://test/eventlog/events?type=app.text&order=asc'));
    expect(list.status).toBe(200);
    expect(((await list.json()) as { data: { data: unknown }[] }).data.map((e) => e.data)).toEqual(payloads);
    const one = await handler(new Request(`http://test/eventlog/events/${stored[0]!.id}`));
    expect(((await one.json()) as { data: { data: unknown } }).data.data).toBe('hello');
    const csv = await handler(new Request('http://test/eventlog/export.csv?type=app.text&columns=data&order=asc'));
    expect(csv.status).toBe(200);
    expect((await csv.text()).split('\r\n').length).toBeGreaterThan(payloads.length);
    const reader = tail.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    while ((text.match(/^data: /gm) ?? []).length < payloads.length) text += decoder.decode((await reader.read()).value);
    const seen = text
      .split('\n')
      .filter((line) => line.startsWith('data: '))
      .map((line) => (JSON.parse(line.slice(6)) as { data: unknown }).data);
    expect(seen).toEqual(payloads);
    abort.abort();
    await reader.cancel();
  });
});
