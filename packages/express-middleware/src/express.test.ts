import { createSqliteStore } from '@eventlog/adapters/sqlite';
import { createEventLog, type StorageAdapter } from '@eventlog/core';
import { defineProfile, json, native, proxyLogs, proxyUsers } from '@eventlog/http';
import Database from 'better-sqlite3';
import type express from 'express';
import { describe, expect, it } from 'vitest';
import { audit, createAudit, eventlogRouter, requestLogger } from './index.js';
import { accessPreset, cleanup, flavours, listen, newLog, until } from './test-support.js';

const admin = native({ authenticate: () => ({ role: 'admin' }) });

describe.each(flavours)('eventlogRouter on %s', (_name, express) => {
  it('serves a profile under a sub-router, with express.json() before it, and passes unknown paths on', async () => {
    const log = newLog();
    const app = express();
    app.use(express.json());
    const adminRouter = express.Router();
    adminRouter.use('/logs', eventlogRouter({ log, profiles: [admin] }));
    app.use('/admin', adminRouter);
    app.use((_req, res) => {
      res.status(404).json({ host: 'not found' });
    });
    const base = await listen(app);

    const created = await fetch(`${base}/admin/logs/eventlog/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([
        { type: 'app.signup', actor: { id: 'u1' }, message: 'first' },
        { type: 'app.signup', actor: { id: 'u2' }, message: 'second' },
      ]),
    });
    expect(created.status).toBe(201);
    expect((await created.json()).data).toHaveLength(2);

    const listed = await fetch(`${base}/admin/logs/eventlog/events?actorId=u2`);
    expect(listed.status).toBe(200);
    const body = await listed.json();
    expect(body.data.map((e: { message: string }) => e.message)).toEqual(['second']);

    // Below the profile's prefix: the profile's own envelope; elsewhere: the host's next handler.
    const missing = await fetch(`${base}/admin/logs/eventlog/nope`);
    expect(missing.status).toBe(404);
    expect((await missing.json()).error.code).toBe('ROUTE_NOT_FOUND');
    const host = await fetch(`${base}/admin/logs/other`);
    expect(await host.json()).toEqual({ host: 'not found' });
    // The mount path is not served at the root.
    expect(await (await fetch(`${base}/eventlog/events`)).json()).toEqual({ host: 'not found' });
  });

  it('accepts bodies from express.urlencoded() and raw streams alike', async () => {
    const log = newLog();
    const echo = defineProfile({
      name: 'echo',
      routes: [
        { method: 'POST', path: '/echo', body: (await import('zod')).z.unknown(), run: ({ body, url }) => ({ body, path: url.pathname }) },
      ],
      failure: (error) => json({ error: error.message }, error.status),
    });
    const app = express();
    app.use('/form', express.urlencoded({ extended: false }), eventlogRouter({ log, profiles: [echo] }));
    app.use('/raw', eventlogRouter({ log, profiles: [echo] }));
    const base = await listen(app);
    const form = await fetch(`${base}/form/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'a=1&b=two',
    });
    expect(await form.json()).toEqual({ body: { a: '1', b: 'two' }, path: '/form/echo' });
    const raw = await fetch(`${base}/raw/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"x":[1,2]}' });
    expect(await raw.json()).toEqual({ body: { x: [1, 2] }, path: '/raw/echo' });
  });

  it('streams a CSV export chunk by chunk instead of buffering it', async () => {
    const log = newLog();
    const rows = 10_000;
    await log.recordMany(Array.from({ length: rows }, (_, i) => ({ type: 'app.tick', time: 1_700_000_000_000 + i, message: `tick ${i}` })));
    const app = express();
    app.use('/logs', eventlogRouter({ log, profiles: [admin] }));
    const base = await listen(app);
    const response = await fetch(`${base}/logs/eventlog/export.csv?columns=id,time,message`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(response.headers.get('content-length')).toBeNull();
    expect(response.headers.get('transfer-encoding')).toBe('chunked');
    let chunks = 0;
    let text = '';
    const decoder = new TextDecoder();
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      chunks++;
      text += decoder.decode(chunk, { stream: true });
    }
    expect(text.trim().split('\n')).toHaveLength(rows + 1);
    expect(chunks).toBeGreaterThan(3);
  });

  it('aborts the handler when the client disconnects, and delivers a live tail', async () => {
    const log = newLog();
    let cancelled = false;
    let aborted = false;
    const slow = defineProfile({
      name: 'slow',
      routes: [
        {
          method: 'GET',
          path: '/forever',
          run: ({ signal }) => {
            signal.addEventListener('abort', () => {
              aborted = true;
            });
            let n = 0;
            return new Response(
              new ReadableStream<Uint8Array>({
                async pull(controller) {
                  await new Promise((r) => setTimeout(r, 5));
                  controller.enqueue(new TextEncoder().encode(`line ${n++}\n`));
                },
                cancel() {
                  cancelled = true;
                },
              }),
            );
          },
        },
      ],
      failure: (error) => json({ error: error.message }, error.status),
    });
    const app = express();
    app.use(eventlogRouter({ log, profiles: [slow, admin] }));
    const base = await listen(app);

    const controller = new AbortController();
    const response = await fetch(`${base}/forever`, { signal: controller.signal });
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    await reader.read();
    controller.abort();
    await until(() => (cancelled && aborted ? true : undefined));

    const tail = new AbortController();
    const live = await fetch(`${base}/eventlog/tail?type=app.live`, { signal: tail.signal });
    expect(live.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const liveReader = (live.body as ReadableStream<Uint8Array>).getReader();
    await liveReader.read(); // ": connected"
    await log.record({ type: 'app.live', message: 'hello' });
    let received = '';
    while (!received.includes('hello')) received += new TextDecoder().decode((await liveReader.read()).value);
    expect(received).toContain('event: event');
    tail.abort();
  });

  it('refuses a log without the presets its profiles read, at startup', () => {
    const log = newLog();
    const needy = defineProfile({
      name: 'needy',
      preset: { name: 'needy', types: [], dimensions: [{ name: 'model_name' }], metrics: [] },
      routes: [],
      failure: (error) => json({}, error.status),
    });
    expect(() => eventlogRouter({ log, profiles: [needy] })).toThrow(/model_name/);
  });
});

describe.each(flavours)('requestLogger on %s', (_name, express) => {
  it('records route patterns, status, bytes, duration, ip, user agent and user', async () => {
    const log = newLog();
    const app = express();
    app.use((req, _res, next) => {
      const user = req.get('x-user');
      if (user) (req as express.Request & { user?: unknown }).user = { id: user, username: `name-${user}` };
      next();
    });
    app.use(requestLogger({ log, headers: ['authorization', 'referer'] }));
    const api = express.Router();
    api.get('/users/:id', (req, res) => {
      res.json({ id: req.params.id, padding: 'x'.repeat(100) });
    });
    api.post('/fail', (_req, res) => {
      res.status(403).send('no');
    });
    app.use('/api', api);
    app.get('/', (_req, res) => {
      res.send('home');
    });
    const base = await listen(app);

    const ok = await fetch(`${base}/api/users/42?token=secret&page=2`, {
      headers: { 'user-agent': 'test-agent/1.0', 'x-user': '7', authorization: 'Bearer abc', referer: 'http://ref/' },
    });
    const okBody = await ok.text();
    await (await fetch(`${base}/api/fail`, { method: 'POST' })).text();
    await (await fetch(`${base}/nowhere/5`)).text();
    await (await fetch(`${base}/`)).text();

    const events = await until(async () => {
      await log.flush();
      const page = await log.query({ filter: { type: 'proxy.request' }, pageSize: 10, sort: { field: 'id', direction: 'asc' } });
      return page.total === 4 ? page.items : undefined;
    });
    const [user, fail, missing, home] = events;
    expect(user).toMatchObject({
      category: 'proxy',
      action: 'GET',
      outcome: 'ALLOWED',
      severity: 'info',
      ip: '127.0.0.1',
      userAgent: 'test-agent/1.0',
      actor: { id: '7', name: 'name-7', type: 'user' },
      dimensions: {
        method: 'GET',
        host: '127.0.0.1',
        path: '/api/users/:id',
        status_code: 200,
        status_text: '200 OK',
        destination_is_ip: 1,
      },
      metrics: { bytes: Buffer.byteLength(okBody) },
      data: {
        url: '/api/users/42?token=%5BREDACTED%5D&page=2',
        route: '/api/users/:id',
        headers: { authorization: '[REDACTED]', referer: 'http://ref/' },
      },
    });
    expect(String(user!.dimensions.destination)).toMatch(/^127\.0\.0\.1:\d+\/api\/users\/:id$/);
    expect(user!.durationMs).toBeGreaterThanOrEqual(0);
    expect(user!.durationMs).toBeLessThan(5000);
    expect(fail).toMatchObject({
      outcome: 'BLOCKED',
      severity: 'warning',
      dimensions: { status_code: 403, status_text: '403 Forbidden', path: '/api/fail' },
    });
    expect(missing).toMatchObject({
      outcome: 'ALLOWED',
      dimensions: { status_code: 404, status_text: '404 Not Found', path: '/nowhere/5' },
    });
    expect(missing!.actor.id).toBeNull();
    expect(home).toMatchObject({ dimensions: { path: '/' }, metrics: { bytes: 4 } });
  });

  it('feeds the proxy profile: two lines give an Express app a working access-log API', async () => {
    const log = newLog();
    const app = express();
    app.use(requestLogger({ log }));
    app.use(eventlogRouter({ log, profiles: [proxyLogs({ authenticate: proxyUsers([{ username: 'admin', password: 'pw' }]) })] }));
    app.get('/files/report.pdf', (_req, res) => {
      res.send('%PDF');
    });
    app.get('/admin', (_req, res) => {
      res.status(403).send('forbidden');
    });
    const base = await listen(app);
    for (let i = 0; i < 3; i++) await (await fetch(`${base}/files/report.pdf`, { headers: { 'user-agent': 'curl/8.5.0' } })).text();
    await (await fetch(`${base}/admin`)).text();
    await until(async () => {
      await log.flush();
      return (await log.count({ type: 'proxy.request' })) >= 4 ? true : undefined;
    });
    const auth = { Authorization: `Basic ${Buffer.from('admin:pw').toString('base64')}` };
    const logs = await (await fetch(`${base}/api/logs?limit=10&sort=timestamp&order=asc`, { headers: auth })).json();
    expect(logs).toMatchObject({ status: 'success', limit: 10, offset: 0 });
    expect(logs.data[0]).toMatchObject({
      id: expect.any(Number),
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/),
      client_ip: '127.0.0.1',
      method: 'GET',
      destination: expect.stringMatching(/^127\.0\.0\.1:\d+\/files\/report\.pdf$/),
      status: '200 OK',
      bytes: 4,
    });
    const stats = await (await fetch(`${base}/api/logs/stats`, { headers: auth })).json();
    expect(stats.data).toMatchObject({ total_count: expect.any(Number), blocked_count: 1 });
    expect(stats.data.total_count).toBeGreaterThanOrEqual(4);
    const timeline = await (await fetch(`${base}/api/logs/timeline?hours=24`, { headers: auth })).json();
    const totals = timeline.data.reduce((sum: number, point: { total: number }) => sum + point.total, 0);
    expect(totals).toBeGreaterThanOrEqual(4);
    expect(timeline.data.reduce((sum: number, point: { blocked: number }) => sum + point.blocked, 0)).toBe(1);
    const extensions = await (await fetch(`${base}/api/analytics/file-extensions`, { headers: auth })).json();
    expect(JSON.stringify(extensions.data)).toContain('pdf');
  });

  it('skips paths, samples (keeping errors) and honours skip()', async () => {
    const log = newLog();
    const app = express();
    app.use(
      requestLogger({
        log,
        skipPaths: ['/health', /^\/static\//],
        sample: 0,
        skip: (req) => req.path === '/ignored-error',
      }),
    );
    app.get('/health', (_req, res) => {
      res.send('ok');
    });
    app.get('/static/app.js', (_req, res) => {
      res.send('js');
    });
    app.get('/page', (_req, res) => {
      res.send('page');
    });
    app.get('/boom', (_req, res) => {
      res.status(500).send('boom');
    });
    app.get('/ignored-error', (_req, res) => {
      res.status(500).send('boom');
    });
    const base = await listen(app);
    for (const path of ['/health', '/health/deep', '/static/app.js', '/page', '/boom', '/ignored-error'])
      await (await fetch(base + path)).text();
    await new Promise((r) => setTimeout(r, 50));
    await log.flush();
    const page = await log.query({ pageSize: 10 });
    expect(page.items.map((e) => e.dimensions.path)).toEqual(['/boom']);
    expect(page.items[0]).toMatchObject({ severity: 'error', dimensions: { status_code: 500, status_text: '500 Internal Server Error' } });
  });

  it('records a client that went away as 499 with the bytes sent so far', async () => {
    const log = newLog();
    const app = express();
    app.use(requestLogger({ log }));
    app.get('/stream', (_req, res) => {
      res.write('first chunk');
      // never ends
    });
    const base = await listen(app);
    const controller = new AbortController();
    const response = await fetch(`${base}/stream`, { signal: controller.signal });
    await (response.body as ReadableStream<Uint8Array>).getReader().read();
    controller.abort();
    const event = await until(async () => {
      await log.flush();
      return (await log.query({ pageSize: 1 })).items[0];
    });
    expect(event).toMatchObject({ dimensions: { status_code: 499, status_text: '499 Client Closed Request' }, metrics: { bytes: 11 } });
  });

  it('never breaks or delays the host when the store fails or stalls', async () => {
    const database = new Database(':memory:');
    const log = newLog(createSqliteStore({ database }));
    await log.ready();
    database.close(); // every later insert fails inside the real driver
    const errors: unknown[] = [];
    log.on('error', (error) => errors.push(error));

    const stalled = createSqliteStore();
    const slowStore: StorageAdapter = Object.create(stalled, {
      insert: {
        value: (rows: Parameters<StorageAdapter['insert']>[0]) => new Promise((r) => setTimeout(r, 3000)).then(() => stalled.insert(rows)),
      },
    });
    const slowLog = createEventLog({ store: slowStore, ...accessPreset, closeStore: false });
    await slowLog.ready();

    const app = express();
    app.use('/failing', requestLogger({ log }));
    app.use('/slow', requestLogger({ log: slowLog }));
    app.get(['/failing/hello', '/slow/hello'], (req, res) => {
      void audit(req, { action: 'say_hello' });
      res.send('hello');
    });
    const base = await listen(app);
    for (const prefix of ['/failing', '/slow']) {
      const started = Date.now();
      const responses = await Promise.all(Array.from({ length: 20 }, () => fetch(`${base}${prefix}/hello`)));
      for (const r of responses) {
        expect(r.status).toBe(200);
        expect(await r.text()).toBe('hello');
      }
      expect(Date.now() - started).toBeLessThan(1500);
    }
    await until(() => (errors.length >= 40 ? true : undefined));
    expect(String(errors[0])).toMatch(/database connection is not open|STORE|store/i);
    await slowLog.close(); // drains the stalled writes before it resolves
    const verify = createEventLog({ store: stalled, ...accessPreset });
    cleanup.push(() => verify.close());
    expect(await verify.count({ type: 'proxy.request' })).toBe(20);
    expect(await verify.count({ type: 'proxy.audit' })).toBe(20);
  });

  it('records audit entries for the request actor', async () => {
    const log = newLog();
    const app = express();
    app.use(requestLogger({ log, user: (req) => req.get('x-user') }));
    app.delete('/users/:id', async (req, res) => {
      const stored = await audit(req, { action: 'delete_user', target: req.params.id, details: 'removed' });
      res.json({ stored: stored?.id ?? null });
    });
    const detached = createAudit({ log, type: 'app.audit', user: () => ({ id: 'svc', name: 'service' }) });
    app.post('/jobs', async (req, res) => {
      await detached(req, { action: 'run_job', target: { type: 'job', id: 'nightly' } });
      res.end();
    });
    const base = await listen(app);
    const answer = await (await fetch(`${base}/users/9`, { method: 'DELETE', headers: { 'x-user': 'alice' } })).json();
    expect(answer.stored).toBeGreaterThan(0);
    await (await fetch(`${base}/jobs`, { method: 'POST' })).text();
    const entry = await log.get(answer.stored);
    expect(entry).toMatchObject({
      type: 'proxy.audit',
      category: 'audit',
      action: 'delete_user',
      message: 'removed',
      actor: { id: 'alice', type: 'user' },
      target: { id: '9', name: '9' },
      ip: '127.0.0.1',
    });
    const job = (await log.query({ filter: { type: 'app.audit' } })).items[0];
    expect(job).toMatchObject({ actor: { id: 'svc', name: 'service' }, target: { type: 'job', id: 'nightly' } });
  });
});
