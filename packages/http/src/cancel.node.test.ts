// A client that goes away stops its query, over a real socket against the real servers: the query
// is held by a table lock another connection takes, so it can only leave the server's list of
// running statements because it was cancelled.
import { randomBytes } from 'node:crypto';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { createMysqlStore } from '@eventlog/adapters/mysql';
import { createPostgresStore } from '@eventlog/adapters/postgres';
import { blockReads, requireServer, runningReads } from '@eventlog/adapters/testing';
import { createEventLog, type EventInput } from '@eventlog/core';
import { createHandler, native } from '@eventlog/http';
import { afterEach, describe, expect, it } from 'vitest';
import { listen } from './testing/profile-test-kit.js';

const NOW = Date.UTC(2026, 2, 29, 12, 0, 0);

/** What the test needs of an engine besides the store: a lock that blocks reads, and the list of running statements. */
interface Engine {
  name: 'postgres' | 'mysql';
  open(url: string, tablePrefix: string): ReturnType<typeof createPostgresStore>;
  /** Takes a lock that makes every read of `table` wait; resolves the function that releases it. */
  lock(url: string, table: string): Promise<() => Promise<void>>;
  /** How many reads (SELECTs) of `table` the server is running now, the probe's own excluded. */
  running(url: string, table: string): Promise<number>;
}

const ENGINES: Engine[] = [
  {
    name: 'postgres',
    open: (url, tablePrefix) => createPostgresStore({ connectionString: url, tablePrefix }),
    lock: (url, table) => blockReads('postgres', url, table),
    running: (url, table) => runningReads('postgres', url, table),
  },
  {
    name: 'mysql',
    open: (url, tablePrefix) => createMysqlStore({ connectionString: url, tablePrefix }),
    lock: (url, table) => blockReads('mysql', url, table),
    running: (url, table) => runningReads('mysql', url, table),
  },
];

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

/** Polls `check` until it holds, failing after `ms`; resolves how long it took. */
async function within(ms: number, check: () => Promise<boolean>, what: string): Promise<number> {
  const start = performance.now();
  for (;;) {
    if (await check()) return performance.now() - start;
    if (performance.now() - start > ms) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function get(url: string): { response: Promise<IncomingMessage>; destroy: () => void } {
  const request = httpRequest(url);
  const response = new Promise<IncomingMessage>((resolve, reject) => {
    request.on('response', resolve);
    request.on('error', reject);
  });
  response.catch(() => undefined);
  request.end();
  return { response, destroy: () => request.destroy() };
}

for (const engine of ENGINES) {
  const url = await requireServer(engine.name);
  describe.skipIf(!url)(`${engine.name}: a client that goes away stops its query`, () => {
    async function serve(events: number) {
      const prefix = `cx${randomBytes(3).toString('hex')}_`;
      const store = engine.open(url as string, prefix);
      const log = createEventLog({ store, clock: () => NOW });
      cleanups.push(() => log.close());
      const batch: EventInput[] = Array.from({ length: events }, (_, i) => ({
        type: 'app.request',
        time: NOW - 1000 - i,
        message: `request ${i} ${'x'.repeat(200)}`,
        tenantId: `t${i % 3}`,
      }));
      for (let i = 0; i < batch.length; i += 5000) await log.recordMany(batch.slice(i, i + 5000));
      const errors: unknown[] = [];
      const handler = createHandler({
        log,
        profiles: [native({ authenticate: () => ({ role: 'admin' }) })],
        shedding: false,
        onError: (error) => errors.push(error),
      });
      const server = await listen(handler);
      cleanups.push(server.close);
      return { base: server.base, table: store.tables.events, errors };
    }

    it('a slow aggregate: gone from the server within a second of the disconnect', async () => {
      const { base, table, errors } = await serve(50);
      const release = await engine.lock(url as string, table);
      cleanups.push(release);
      const client = get(`${base}/eventlog/stats`);
      await within(10_000, async () => (await engine.running(url as string, table)) > 0, 'the aggregate starts and waits');
      client.destroy();
      const gone = await within(1000, async () => (await engine.running(url as string, table)) === 0, 'the aggregate is cancelled');
      expect(gone).toBeLessThan(1000);
      await release();
      expect(errors).toEqual([]);
    });

    it('a slow export: gone from the server within a second of the disconnect, mid-stream', async () => {
      const { base, table, errors } = await serve(20_000);
      const client = get(`${base}/eventlog/export.csv`);
      const response = await client.response;
      expect(response.statusCode).toBe(200);
      // Read the first bytes, then stop reading: back-pressure holds the export between pages.
      await new Promise((resolve) => response.once('data', resolve));
      response.pause();
      const release = await engine.lock(url as string, table);
      cleanups.push(release);
      response.resume();
      response.on('data', () => undefined);
      await within(20_000, async () => (await engine.running(url as string, table)) > 0, 'the next page waits on the lock');
      client.destroy();
      const gone = await within(1000, async () => (await engine.running(url as string, table)) === 0, 'the page query is cancelled');
      expect(gone).toBeLessThan(1000);
      await release();
      expect(errors).toEqual([]);
    }, 60_000);
  });
}
