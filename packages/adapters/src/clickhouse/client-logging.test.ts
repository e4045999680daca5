import { randomBytes, randomUUID } from 'node:crypto';
import { createClient } from '@clickhouse/client';
import { createEventLog, isEventLogError, StoreError } from '@eventlog/core';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { conformancePreset, NOW } from '../testing/fixtures.js';
import { requireServer } from '../testing/servers.js';
import { rejectionOf } from '../testing/store-probes.js';
import { type ClickhouseStore, createClickhouseStore } from './clickhouse-store.js';
import { cancellable, select } from './client.js';

const url = await requireServer('clickhouse');

/** Everything the process prints while `fn` runs: console methods and direct writes to stderr/stdout. */
async function printed(fn: () => Promise<unknown>): Promise<string[]> {
  const lines: string[] = [];
  const capture =
    (name: string) =>
    (...args: unknown[]) => {
      lines.push(`${name}: ${args.map(String).join(' ')}`);
    };
  const spies = [
    vi.spyOn(console, 'error').mockImplementation(capture('console.error')),
    vi.spyOn(console, 'warn').mockImplementation(capture('console.warn')),
    vi.spyOn(console, 'info').mockImplementation(capture('console.info')),
    vi.spyOn(console, 'log').mockImplementation(capture('console.log')),
    vi.spyOn(console, 'debug').mockImplementation(capture('console.debug')),
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: unknown) => {
      lines.push(`stderr: ${String(chunk)}`);
      return true;
    }),
  ];
  try {
    await fn();
    // The client logs from its socket handlers, which may run a turn after the promise settled.
    await new Promise((resolve) => setTimeout(resolve, 200));
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
  return lines;
}

describe.skipIf(!url)('clickhouse: a cancelled request is not logged as an error', () => {
  let store: ClickhouseStore;
  beforeAll(() => {
    // The store opens its own client from the URL: that client's logging is what the host gets.
    store = createClickhouseStore({ url: url! });
  });
  afterAll(async () => {
    await store?.close();
  });
  afterEach(() => vi.restoreAllMocks());

  it('an aborted aggregate (no response yet) prints nothing', async () => {
    const controller = new AbortController();
    const lines = await printed(async () => {
      const tag = `quiet_${randomUUID().replaceAll('-', '')}`;
      const read = select(
        store.client,
        `SELECT /* ${tag} */ count() AS n FROM system.numbers WHERE number % 7 = 3 LIMIT 1 SETTINGS max_execution_time = 20`,
        controller.signal,
      );
      setTimeout(() => controller.abort(), 300);
      await expect(read).rejects.toThrow();
    });
    expect(lines).toEqual([]);
  }, 30_000);

  it('a read aborted while its rows stream in prints nothing', async () => {
    const controller = new AbortController();
    let bytes = 0;
    const lines = await printed(() =>
      // As the store's export stream does: the request is aborted and the query killed by its id.
      cancellable(store.client, controller.signal, async (params) => {
        const result = await store.client.exec({
          query: 'SELECT number, toString(number) AS s FROM system.numbers LIMIT 100000000 FORMAT JSONEachRow',
          ...params,
        });
        for await (const chunk of result.stream as AsyncIterable<Buffer>) {
          bytes += chunk.length;
          if (bytes > 100_000) controller.abort();
        }
      }).catch(() => undefined),
    );
    expect(controller.signal.aborted).toBe(true);
    expect(lines).toEqual([]);
  }, 30_000);

  it('a request that fails for another reason is still logged', async () => {
    // Only cancellations are silenced: a refused connection is the host's to see.
    const unreachable = createClickhouseStore({ url: 'http://127.0.0.1:1' });
    try {
      const lines = await printed(() => expect(select(unreachable.client, 'SELECT 1')).rejects.toThrow());
      expect(lines.join('\n')).toMatch(/console\.error: .*ERROR.*HTTP request error[\s\S]*ECONNREFUSED/);
    } finally {
      await unreachable.close();
    }
  });

  describe('through the core', () => {
    const database = `eventlog_test_${randomBytes(4).toString('hex')}`;
    let n = 0;
    const open = async (tablePrefix = `l${n++}_`) => {
      const store = createClickhouseStore({ url: url!, database, tablePrefix });
      const log = createEventLog({ store, presets: [conformancePreset], clock: () => NOW });
      await log.ready();
      return { store, log, tablePrefix };
    };
    afterAll(async () => {
      const admin = createClient({ url: url!, request_timeout: 120_000 });
      await admin.command({ query: `DROP DATABASE IF EXISTS ${database}` });
      await admin.close();
    }, 120_000);

    it('an export aborted between chunks, its log closed right after, prints nothing', async () => {
      // As the conformance run's aborted-export tests do (the log is closed after each test), and as
      // a server shutting down would: the close comes while the kill is on its way, at several delays.
      const { log: first, tablePrefix } = await open();
      await first.recordMany(Array.from({ length: 60 }, (_, i) => ({ type: 'llm.consumption', time: NOW - i * 1000, tenantId: 't1' })));
      await first.close();
      for (const delayMs of [0, 2, 5, 10, 15, 20, 30]) {
        const { log } = await open(tablePrefix);
        const lines = await printed(async () => {
          const controller = new AbortController();
          const chunks = log
            .exportCsv({ batchSize: 10, columns: ['id', 'message'] }, { signal: controller.signal })
            [Symbol.asyncIterator]();
          expect((await chunks.next()).value).toBe('id,message\r\n');
          expect((await chunks.next()).done).toBe(false);
          controller.abort();
          expect(await rejectionOf(chunks)).toMatchObject({ code: 'ABORTED' });
          await new Promise((resolve) => setTimeout(resolve, delayMs));
          await log.close();
        });
        expect(lines, `closed ${delayMs} ms after the abort`).toEqual([]);
      }
    });

    it('an export aborted mid-way, on a connection it opened, prints nothing', async () => {
      const { store, log } = await open();
      try {
        await store.client.command({
          query:
            `INSERT INTO ${store.tables.events} (id, time, type, tenant_id, message) ` +
            `SELECT number + 1, ${NOW} - number * 60, 'llm.consumption', 't1', concat('message ', toString(number)) FROM numbers(300000)`,
        });
        // Idle sockets are dropped after 2.5 s: the export's request opens a new one, which the
        // client watches for being closed before its response was read.
        await new Promise((resolve) => setTimeout(resolve, 3000));
        const controller = new AbortController();
        const chunks = log
          .exportCsv({ batchSize: 1000, columns: ['id', 'message'] }, { signal: controller.signal })
          [Symbol.asyncIterator]();
        const lines = await printed(async () => {
          for (let i = 0; i < 20; i++) expect((await chunks.next()).done).toBe(false);
          controller.abort();
          expect(await rejectionOf(chunks)).toMatchObject({ code: 'ABORTED' });
          expect(await log.count()).toBe(300_000);
        });
        expect(lines).toEqual([]);
      } finally {
        await log.close();
      }
    });

    it('a statement the server refuses still rejects with a StoreError and is logged as an ERROR', async () => {
      const { store, log } = await open();
      try {
        await log.record({ type: 'llm.consumption', time: NOW, tenantId: 't1' });
        await store.client.command({ query: `DROP TABLE ${store.tables.events}` });
        let error: unknown;
        const lines = await printed(async () => {
          error = await log.count().catch((e: unknown) => e);
        });
        expect(error).toBeInstanceOf(StoreError);
        expect(isEventLogError(error, 'STORE_FAILED')).toBe(true);
        expect((error as StoreError).message).toMatch(/Code: 60/);
        expect(lines.join('\n')).toMatch(/console\.error: .*ERROR.*Query: HTTP request error/);
      } finally {
        await log.close();
      }
    });
  });
});
