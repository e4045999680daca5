// Load shedding and client aborts over a real socket: the node binding on 127.0.0.1, port 0.
import { once } from 'node:events';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { createSqliteStore } from '@eventlog/adapters/sqlite';
import { createEventLog } from '@eventlog/core';
import {
  createHandler,
  createLimiter,
  csvResponse,
  json,
  type Limiter,
  newApi,
  newApiEvent,
  newApiPreset,
  type Profile,
  proxyLogs,
  proxyLogsPreset,
  proxyRequestEvent,
  proxyUsers,
  type Route,
  staticTokens,
  withCost,
} from '@eventlog/http';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { listen } from './testing/profile-test-kit.js';

// Socket round trips on a busy machine can take longer than vi.waitFor's default second.
const WAIT = { timeout: 10_000 };

const NEW_API = { authorization: 'Bearer admin-token', 'New-Api-User': '1' };
const PROXY = { authorization: `Basic ${Buffer.from('admin:admin-password').toString('base64')}` };

const pathsOf = (route: Route) => (typeof route.path === 'string' ? [route.path] : [...route.path]);
const expensiveWhen =
  (...paths: string[]) =>
  (route: Route) =>
    pathsOf(route).some((p) => paths.includes(p)) ? ('expensive' as const) : undefined;

let gates: (() => void)[] = [];
let heldRuns = 0;
let exportChunks = 0;
let exportStopped: Promise<void>;
let markExportStopped: () => void;

async function* counted(chunks: AsyncIterable<string>): AsyncGenerator<string> {
  try {
    for await (const chunk of chunks) {
      exportChunks++;
      yield chunk;
    }
  } finally {
    markExportStopped();
  }
}

// A route that holds its slot until the test opens its gate, and an export whose iteration is observed.
const local: Profile = {
  name: 'local',
  routes: [
    {
      method: 'GET',
      path: '/hold',
      cost: 'expensive',
      run: () =>
        new Promise((resolve) => {
          heldRuns++;
          gates.push(() => resolve({ held: true }));
        }),
    },
    {
      method: 'GET',
      path: '/export.csv',
      cost: 'expensive',
      run: ({ log }) => csvResponse(counted(log.exportCsv({ order: 'asc' }))),
    },
  ],
  failure: (error) => json({ problem: error.message }, error.status),
};

let log: ReturnType<typeof makeLog>;
let limiter: Limiter;
let server: Awaited<ReturnType<typeof listen>>;

const makeLog = () => createEventLog({ store: createSqliteStore(), presets: [newApiPreset, proxyLogsPreset] });

beforeEach(async () => {
  gates = [];
  heldRuns = 0;
  exportChunks = 0;
  exportStopped = new Promise((resolve) => {
    markExportStopped = resolve;
  });
  log = makeLog();
  await log.recordMany([
    newApiEvent({ kind: 'consume', user_id: 1, username: 'alice', quota: 100, prompt_tokens: 5, completion_tokens: 7 }),
    proxyRequestEvent({ clientIp: '10.0.0.1', method: 'GET', destination: 'http://example.com/', status: 200, bytes: 10 }),
  ]);
  limiter = createLimiter({ maxConcurrent: 1, maxQueue: 3, retryAfterSeconds: 2 });
  const handler = createHandler({
    log,
    profiles: [
      local,
      withCost(
        newApi({ authenticate: staticTokens([{ token: 'admin-token', userId: 1, role: 'admin' }]) }),
        expensiveWhen('/api/log/stat', '/api/log/self/stat'),
      ),
      withCost(
        proxyLogs({
          authenticate: proxyUsers([{ username: 'admin', password: 'admin-password' }]),
          jwtSecret: 'a-test-secret-of-at-least-32-bytes!!',
        }),
        expensiveWhen('/api/logs/stats', '/api/logs/timeline'),
      ),
    ],
    shedding: limiter,
  });
  server = await listen(handler);
});

afterEach(async () => {
  for (const open of gates.splice(0)) open();
  await server.close();
  await log.close();
});

/** Holds the only slot with a request whose gate the test opens later. */
async function holdSlot(): Promise<{ held: Promise<Response> }> {
  const held = fetch(`${server.base}/hold`);
  await vi.waitFor(() => expect(limiter.running).toBe(1), WAIT);
  // Wrapped: an async function returning the promise itself would wait for the answer.
  return { held };
}

describe('load shedding over a socket', () => {
  it('refuses expensive requests beyond the queue at once, with 503 and Retry-After in each product envelope', async () => {
    const { held } = await holdSlot();
    const flood = Array.from({ length: 20 }, (_, i) =>
      i % 2
        ? fetch(`${server.base}/api/log/stat?type=2`, { headers: NEW_API })
        : fetch(`${server.base}/api/logs/stats`, { headers: PROXY }),
    );
    const answered: { status: number; retryAfter: string | null; body: unknown; product: string }[] = [];
    for (const [i, pending] of flood.entries()) {
      void pending.then(async (r) =>
        answered.push({
          status: r.status,
          retryAfter: r.headers.get('retry-after'),
          body: await r.json(),
          product: i % 2 ? 'new-api' : 'proxy',
        }),
      );
    }
    // Three wait in line; the other seventeen are answered without waiting for the slot.
    await vi.waitFor(() => expect(answered).toHaveLength(17), WAIT);
    expect(limiter.queued).toBe(3);
    for (const answer of answered) {
      expect(answer.status).toBe(503);
      expect(answer.retryAfter).toBe('2');
      if (answer.product === 'new-api') {
        expect(answer.body).toEqual({ success: false, message: 'The server is busy with other expensive requests; retry later.' });
      } else {
        expect(answer.body).toEqual({ status: 'error', detail: 'The server is busy with other expensive requests; retry later.' });
      }
    }
    expect(new Set(answered.map((a) => a.product))).toEqual(new Set(['new-api', 'proxy']));

    // Cheap endpoints of both products answer while every expensive slot and queue place is taken.
    const list = await fetch(`${server.base}/api/log/?p=1&page_size=10`, { headers: NEW_API });
    expect(list.status).toBe(200);
    expect(((await list.json()) as { success: boolean; data: { total: number } }).data.total).toBe(1);
    const logs = await fetch(`${server.base}/api/logs?limit=5`, { headers: PROXY });
    expect(logs.status).toBe(200);
    expect(((await logs.json()) as { status: string; total: number }).total).toBe(1);
    expect(limiter.running).toBe(1);

    // Once the slot frees, the queued ones run in turn and succeed.
    gates.shift()!();
    expect((await held).status).toBe(200);
    const all = await Promise.all(flood);
    expect(all.filter((r) => r.status === 200)).toHaveLength(3);
    expect(all.filter((r) => r.status === 503)).toHaveLength(17);
    await vi.waitFor(() => expect(limiter.running).toBe(0), WAIT);
    const stat = await fetch(`${server.base}/api/log/stat?type=2`, { headers: NEW_API });
    expect(await stat.json()).toMatchObject({ success: true, data: { quota: 100 } });
  });

  it('takes a queued request out of line when its client disconnects, and never runs it', async () => {
    const { held } = await holdSlot();
    const req = httpRequest(`${server.base}/hold`);
    req.on('error', () => undefined);
    req.end();
    await vi.waitFor(() => expect(limiter.queued).toBe(1), WAIT);
    req.destroy();
    await vi.waitFor(() => expect(limiter.queued).toBe(0), WAIT);
    gates.shift()!();
    expect((await held).status).toBe(200);
    // The next request gets the slot straight away: nothing ran for the client that left.
    const next = fetch(`${server.base}/hold`);
    await vi.waitFor(() => expect(heldRuns).toBe(2), WAIT);
    gates.shift()!();
    expect((await next).status).toBe(200);
    expect(heldRuns).toBe(2);
    expect(limiter.running).toBe(0);
  });

  it('stops a running export when its client disconnects, and gives its slot back', async () => {
    // About 22 MB of CSV: far more than the socket buffers take while the client does not read.
    await log.recordMany(
      Array.from({ length: 20_000 }, (_, i) => ({
        type: 'newapi.consume',
        message: `row ${i} ${'x'.repeat(1000)}`,
        time: 1_700_000_000_000 + i,
      })),
    );
    let total = 0;
    for await (const _ of log.exportCsv({ order: 'asc' })) total++;
    const req = httpRequest(`${server.base}/export.csv`);
    req.on('error', () => undefined);
    req.end();
    const [res] = (await once(req, 'response')) as [IncomingMessage];
    res.pause();
    expect(res.statusCode).toBe(200);
    expect(limiter.running).toBe(1);
    req.destroy();
    await exportStopped;
    await vi.waitFor(() => expect(limiter.running).toBe(0), WAIT);
    expect(exportChunks).toBeGreaterThan(0);
    expect(exportChunks).toBeLessThan(total / 2);
  });
});
