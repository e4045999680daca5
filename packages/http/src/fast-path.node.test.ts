// The Node binding's shortcuts (a Request carrying its own abort signal, JSON answers whose web
// body is built only when read, query schemas narrowed to the parameters a request names) must
// not change what a client or a route sees.
import { createServer, request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { createSqliteStore } from '@eventlog/adapters/sqlite';
import { createEventLog, type EventLog } from '@eventlog/core';
import { createHandler, defineProfile, json, parseQuery, queryInt, queryList } from '@eventlog/http';
import { toNodeHandler } from '@eventlog/http/node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { listen } from './testing/profile-test-kit.js';

let log: EventLog;
let served: Awaited<ReturnType<typeof listen>>;
let base: string;
let requestAborted: Promise<void>;
let markRequestAborted: () => void;
let started: Promise<void>;
let markStarted: () => void;
let seen: Record<string, unknown> | undefined;

const query = z.looseObject({
  type: queryList({ max: 10 }),
  limit: queryInt({ min: 1, max: 100, default: 20 }),
  page: queryInt({ min: 1 }),
});

const profile = defineProfile({
  name: 'fast-path',
  routes: [
    { method: 'GET', path: '/query', query, run: ({ query }) => ({ query, keys: Object.keys(query as object).sort() }) },
    {
      method: 'GET',
      path: '/wait',
      run: ({ request }) =>
        new Promise((resolve) => {
          markStarted();
          request.signal.addEventListener('abort', () => {
            markRequestAborted();
            resolve({ late: true });
          });
        }),
    },
    { method: 'GET', path: '/plain', run: () => ({ text: 'hé ✓' }) },
    {
      method: 'GET',
      path: ['/', '/*rest'],
      run: ({ request, url, path }) => {
        // What a route sees of the request, and of the copies undici makes from its internal state.
        const entries = (r: Request) => [...r.headers].map(([name, value]) => `${name}: ${value}`);
        seen = {
          url: request.url,
          href: url.href,
          path,
          method: request.method,
          headers: entries(request),
          cookies: request.headers.getSetCookie(),
          copied: entries(new Request(request)),
          cloned: entries(request.clone()),
        };
        return { ok: true };
      },
    },
    { method: 'GET', path: '/head', run: () => ({ big: 'x'.repeat(1000) }) },
  ],
  // A success shape that reads the body of the answer json() built and re-wraps it, as a host's
  // profile may: it must get the body, not an empty one.
  success: (data, context) => {
    const inner = json({ data });
    if (context.path === '/plain') return inner;
    return new Response(inner.body, { status: 200, headers: { 'content-type': 'application/json', 'x-wrapped': '1' } });
  },
  failure: (error) => json({ error: { code: error.code, message: error.message, issues: error.issues } }, error.status),
});

beforeEach(async () => {
  started = new Promise((resolve) => {
    markStarted = resolve;
  });
  requestAborted = new Promise((resolve) => {
    markRequestAborted = resolve;
  });
  log = createEventLog({ store: createSqliteStore() });
  served = await listen(createHandler({ log, profiles: [profile] }));
  base = served.base;
});

afterEach(async () => {
  await served.close();
  await log.close();
});

describe('the Node binding', () => {
  it('writes JSON answers with their type and UTF-8 body, also when the profile re-wraps their body', async () => {
    const plain = await fetch(`${base}/plain`);
    expect(plain.status).toBe(200);
    expect(plain.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(await plain.json()).toEqual({ data: { text: 'hé ✓' } });
    const wrapped = await fetch(`${base}/query?type=a`);
    expect(wrapped.headers.get('x-wrapped')).toBe('1');
    expect(await wrapped.json()).toEqual({ data: { query: { type: ['a'], limit: 20 }, keys: ['limit', 'type'] } });
  });

  it('answers HEAD with the headers and no body', async () => {
    const head = await fetch(`${base}/head`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
  });

  it("aborts the route's request.signal when the client disconnects", async () => {
    const req = httpRequest(`${base}/wait`);
    req.on('error', () => undefined);
    req.end();
    await started;
    req.destroy();
    await requestAborted;
  });

  it('gives routes the URL and headers of the request as sent, whatever its target', async () => {
    const targets = ['/', '/a/../b?x=1&y=%20z', '/a/./b/%2e%2e/c', '/%zz?q=%', '//evil.example/x?q', '/\\evil.example/x'];
    const origin = new URL(base).host;
    for (const target of targets) {
      seen = undefined;
      const head = await rawRequest(
        Number(new URL(base).port),
        `GET ${target} HTTP/1.1\r\nHost: ${origin}\r\nX-Multi: a\r\nX-Multi: b\r\nSet-Cookie: s=1\r\nSet-Cookie: s=2\r\nConnection: close\r\n\r\n`,
      );
      expect(head, target).toMatch(/^HTTP\/1\.1 200 /);
      const expected = new URL(target, base);
      expect(seen, target).toEqual({
        url: expected.href,
        href: expected.href,
        path: expected.pathname,
        method: 'GET',
        headers: ['connection: close', `host: ${origin}`, 'set-cookie: s=1', 'set-cookie: s=2', 'x-multi: a, b'],
        cookies: ['s=1', 's=2'],
        copied: ['connection: close', `host: ${origin}`, 'set-cookie: s=1', 'set-cookie: s=2', 'x-multi: a, b'],
        cloned: ['connection: close', `host: ${origin}`, 'set-cookie: s=1', 'set-cookie: s=2', 'x-multi: a, b'],
      });
    }
    seen = undefined;
    expect(await rawRequest(Number(new URL(base).port), `HEAD /h?x=1 HTTP/1.1\r\nHost: ${origin}\r\nConnection: close\r\n\r\n`)).toMatch(
      /^HTTP\/1\.1 200 /,
    );
    expect(seen).toMatchObject({ method: 'HEAD', url: `${base}/h?x=1` });
  });

  it('resolves request targets against a configured origin that has a path', async () => {
    const server = createServer(toNodeHandler(createHandler({ log, profiles: [profile] }), { origin: 'https://logs.example.com/base/' }));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as { port: number }).port;
      for (const target of ['/x?y=1', '/']) {
        seen = undefined;
        await rawRequest(port, `GET ${target} HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n`);
        expect((seen as Record<string, unknown> | undefined)?.url, target).toBe(new URL(target, 'https://logs.example.com/base/').href);
      }
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('parses the parameters a request names as the whole schema would: defaults, lists, extra keys, absent keys left out', async () => {
    const cases: [string, unknown][] = [
      ['', { limit: 20 }],
      ['?limit=5', { limit: 5 }],
      ['?type=a,b&type=c&page=2', { type: ['a', 'b', 'c'], page: 2, limit: 20 }],
      ['?dim.model=x&type=', { 'dim.model': 'x', limit: 20 }],
      ['?page=&limit=', { limit: 20 }],
      ['?page=2&type=a&limit=3', { type: ['a'], page: 2, limit: 3 }],
      ['?limit=3&type=a&page=2', { type: ['a'], page: 2, limit: 3 }],
    ];
    for (const [search, expected] of cases) {
      const body = (await (await fetch(`${base}/query${search}`)).json()) as { data: { query: unknown; keys: string[] } };
      expect(body.data.query, search).toEqual(expected);
      // Keys the whole schema keeps (one named but blank stays, as undefined), no more and no fewer.
      expect(body.data.keys, search).toEqual(Object.keys(query.parse(parseQuery(new URLSearchParams(search.slice(1))))).sort());
      expect(body.data.query, search).toEqual(query.parse(parseQuery(new URLSearchParams(search.slice(1)))));
    }
  });

  it('refuses bad parameters with the issues of the whole schema', async () => {
    for (const search of ['?limit=0', '?page=x&limit=500', '?type=aaaaaaaaaaaa']) {
      const response = await fetch(`${base}/query${search}`);
      expect(response.status, search).toBe(400);
      const body = (await response.json()) as { error: { code: string; issues: { path: unknown[]; message: string }[] } };
      expect(body.error.code).toBe('BAD_REQUEST');
      const whole = query.safeParse(parseQuery(new URLSearchParams(search.slice(1))));
      expect(whole.success).toBe(false);
      expect(body.error.issues).toEqual(whole.error?.issues.map((i) => ({ path: i.path, message: i.message })));
    }
  });
});

/** Sends raw bytes (targets no client library would send as they are) and reads the answer's head. */
function rawRequest(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      answer += chunk;
    });
    socket.on('end', () => resolve(answer.slice(0, answer.indexOf('\r\n\r\n'))));
    socket.on('error', reject);
    socket.write(text);
  });
}
