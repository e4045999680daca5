// eventlogRouter: OpenAPI under an Express mount path, load shedding shared by mount paths, and
// client disconnects reaching the handler, on Express 5 and Express 4 over real sockets.
import { request as httpRequest } from 'node:http';
import { createSqliteStore } from '@eventlog/adapters/sqlite';
import { createEventLog } from '@eventlog/core';
import { createLimiter, json, type Limiter, native, type OpenApiDocument, type Profile } from '@eventlog/http';
import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { eventlogRouter } from './index.js';
import { cleanup, flavours, listen } from './test-support.js';

// Socket round trips on a busy machine can take longer than vi.waitFor's default second.
const WAIT = { timeout: 10_000 };

function newLog() {
  const log = createEventLog({ store: createSqliteStore() });
  cleanup.push(() => log.close());
  return log;
}

/** Calls every GET operation of the document at `servers[0].url` + path, as a generated client would. */
async function callEveryGet(
  document: OpenApiDocument,
  ids: { eventId: number; jobId: string },
): Promise<{ url: string; status: number }[]> {
  const server = (document.servers as { url: string }[])[0]!.url;
  const results: { url: string; status: number }[] = [];
  for (const [path, item] of Object.entries(document.paths)) {
    if (!item.get) continue;
    // `top` needs `by` (see packages/http/src/openapi.test.ts).
    const id = path.includes('/jobs/') ? ids.jobId : String(ids.eventId);
    const url = `${server}${path.replace('{id}', id)}${path.endsWith('/top') ? '?by=type' : ''}`;
    const abort = new AbortController();
    const response = await fetch(url, { signal: abort.signal });
    abort.abort();
    await response.body?.cancel().catch(() => undefined);
    results.push({ url, status: response.status });
  }
  return results;
}

describe.each(flavours)('eventlogRouter mounts on %s', (_name, express) => {
  it('serves an OpenAPI document whose paths include the mount path, and every GET it lists answers there', async () => {
    const log = newLog();
    const [event] = await log.recordMany([{ type: 'app.deploy', message: 'v1' }]);
    const job = await log.jobs.prune({ before: 0, dryRun: true });
    const app = express();
    app.use(express.json());
    app.use('/logs', eventlogRouter({ log, profiles: [native({ authenticate: () => ({ role: 'admin' }) })] }));
    const nested = express.Router();
    nested.use('/logs', eventlogRouter({ log, profiles: [native({ authenticate: () => ({ role: 'admin' }) })] }));
    app.use('/admin', nested);
    const base = await listen(app);

    for (const mount of ['/logs', '/admin/logs']) {
      const response = await fetch(`${base}${mount}/eventlog/openapi.json`);
      expect(response.status).toBe(200);
      const document = (await response.json()) as OpenApiDocument;
      expect(document.servers).toEqual([{ url: base, description: `This server, with the API mounted at ${mount}.` }]);
      expect(Object.keys(document.paths).filter((p) => !p.startsWith(`${mount}/eventlog/`))).toEqual([]);
      const calls = await callEveryGet(document, { eventId: event!.id, jobId: job.id });
      expect(calls).toHaveLength(14);
      // This log keeps no hash chains, so its checkpoint export answers 501 UNSUPPORTED; every other GET answers 200.
      expect(calls.filter((c) => c.status !== 200)).toEqual([{ url: `${base}${mount}/eventlog/checkpoints`, status: 501 }]);
    }
  });

  it('shares one limiter across mount paths and takes a disconnected client out of the queue (GET and parsed POST)', async () => {
    const log = newLog();
    const gates: (() => void)[] = [];
    let runs = 0;
    const held = () =>
      new Promise((resolve) => {
        runs++;
        gates.push(() => resolve({ ok: true }));
      });
    const profile: Profile = {
      name: 'gated',
      routes: [
        { method: 'GET', path: '/hold', cost: 'expensive', run: held },
        { method: 'POST', path: '/hold', cost: 'expensive', body: z.object({ a: z.number() }), run: held },
        { method: 'GET', path: '/light', run: () => ({ light: true }) },
      ],
      failure: (error) => json({ problem: error.message }, error.status),
    };
    const limiter: Limiter = createLimiter({ maxConcurrent: 1, maxQueue: 2, retryAfterSeconds: 9 });
    const router = eventlogRouter({ log, profiles: [profile], shedding: limiter });
    const app = express();
    app.use(express.json());
    app.use('/a', router);
    app.use('/b', router);
    const base = await listen(app);
    cleanup.push(() => {
      for (const open of gates.splice(0)) open();
    });

    const first = fetch(`${base}/a/hold`);
    await vi.waitFor(() => expect(limiter.running).toBe(1), WAIT);
    // A request under the other mount path waits for the same slot.
    const get = httpRequest(`${base}/b/hold`);
    get.on('error', () => undefined);
    get.end();
    const post = httpRequest(`${base}/b/hold`, { method: 'POST', headers: { 'content-type': 'application/json' } });
    post.on('error', () => undefined);
    post.end('{"a":1}');
    await vi.waitFor(() => expect(limiter.queued).toBe(2), WAIT);
    const refused = await fetch(`${base}/a/hold`);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('9');
    expect(await refused.json()).toEqual({ problem: 'The server is busy with other expensive requests; retry later.' });
    expect(await (await fetch(`${base}/b/light`)).json()).toEqual({ light: true });

    get.destroy();
    post.destroy();
    await vi.waitFor(() => expect(limiter.queued).toBe(0), WAIT);
    gates.shift()!();
    expect((await first).status).toBe(200);
    await vi.waitFor(() => expect(limiter.running).toBe(0), WAIT);
    expect(runs).toBe(1);
  });
});
