import { randomBytes, randomUUID } from 'node:crypto';
import { type ClickHouseClient, ClickHouseLogLevel, createClient } from '@clickhouse/client';
import { createEventLog, StoreError } from '@eventlog/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conformancePreset, NOW } from '../testing/fixtures.js';
import { requireServer } from '../testing/servers.js';
import { rejectionOf } from '../testing/store-probes.js';
import { createClickhouseStore } from './clickhouse-store.js';
import { cancellable, killQuery, READ_SETTINGS, STORE_CLIENT_OPTIONS, select } from './client.js';

const url = await requireServer('clickhouse');

/** Polls `probe` every 20 ms until it is true; throws with `what` after `limitMs`. Returns the ms it took. */
async function until(probe: () => Promise<boolean>, limitMs: number, what: string): Promise<number> {
  const started = performance.now();
  while (!(await probe())) {
    if (performance.now() - started > limitMs) throw new Error(`${what} (after ${limitMs} ms)`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return performance.now() - started;
}

describe.skipIf(!url)('clickhouse: an aborted read is stopped on the server', () => {
  let client: ClickHouseClient;
  let admin: ClickHouseClient;
  beforeAll(() => {
    // Built as the store builds its clients, so the abort below logs nothing.
    client = createClient({ url: url!, ...STORE_CLIENT_OPTIONS });
    admin = createClient({ url: url! });
  });
  afterAll(async () => {
    await client?.close();
    await admin?.close();
  });

  // How many queries tagged with `tag` the server is running (the probe's own text holds the tag
  // too, but as a string literal inside `LIKE`, which the pattern below does not match).
  const running = async (tag: string) => {
    const result = await admin.query({
      query: `SELECT count() AS n FROM system.processes WHERE query LIKE '%/* ${tag} */%' AND query NOT LIKE '%system.processes%'`,
      format: 'JSONEachRow',
    });
    return Number(((await result.json()) as { n: number | string }[])[0]?.n ?? 0);
  };

  it('a long aggregate is gone from system.processes within a second of the abort', async () => {
    const tag = `abort_${randomUUID().replaceAll('-', '')}`;
    const controller = new AbortController();
    // An aggregate sends nothing until it is done, so only a KILL stops it on the server.
    const pending = cancellable(client, controller.signal, (params) =>
      client.query({
        query: `SELECT /* ${tag} */ count() AS n FROM system.numbers WHERE number % 7 = 3 LIMIT 1 SETTINGS max_execution_time = 20`,
        format: 'JSONEachRow',
        clickhouse_settings: READ_SETTINGS,
        ...params,
      }),
    ).then(
      () => 'resolved',
      () => 'rejected',
    );
    await until(async () => (await running(tag)) > 0, 10_000, 'the query never showed up in system.processes');
    controller.abort();
    expect(await pending).toBe('rejected');
    await until(async () => (await running(tag)) === 0, 1000, 'the query still runs after the abort');
  }, 30_000);

  it('a kill that reaches the server before its query is sent again until it finds the query', async () => {
    // Deterministic form of the race below: the kill leaves 30 ms before the query does.
    const tag = `late_${randomUUID().replaceAll('-', '')}`;
    const queryId = randomUUID();
    killQuery(client, queryId, { started: false });
    await new Promise((resolve) => setTimeout(resolve, 30));
    // Its own client, which logs nothing: the rejection below is this test's expected outcome.
    const reader = createClient({ url: url!, log: { level: ClickHouseLogLevel.OFF } });
    const read = reader
      .query({
        query: `SELECT /* ${tag} */ count() AS n FROM system.numbers WHERE number % 7 = 3 LIMIT 1 SETTINGS max_execution_time = 5`,
        format: 'JSONEachRow',
        query_id: queryId,
      })
      .then(
        () => 'resolved',
        (error: unknown) => String(error),
      );
    try {
      expect(await read).toMatch(/Code: 394/); // QUERY_WAS_CANCELLED
    } finally {
      await admin.command({ query: `KILL QUERY WHERE query_id = '${queryId}'` });
      await reader.close();
    }
  }, 30_000);

  it('a read aborted just after it was sent is killed too, though the first kill may arrive before the query', async () => {
    // The kill goes out on another connection at the abort; the server may not have registered the
    // query yet, so a kill that finds nothing is sent again.
    const tags: string[] = [];
    for (let i = 0; i < 24; i++) {
      const tag = `early_${randomUUID().replaceAll('-', '')}`;
      tags.push(tag);
      const controller = new AbortController();
      const read = select(
        client,
        `SELECT /* ${tag} */ count() AS n FROM system.numbers WHERE number % 7 = 3 LIMIT 1 SETTINGS max_execution_time = 20`,
        controller.signal,
      ).catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, i % 6));
      controller.abort();
      await read;
    }
    const left = async () => {
      let n = 0;
      for (const tag of tags) n += await running(tag);
      return n;
    };
    try {
      await until(async () => (await left()) === 0, 2000, 'an aborted read still runs');
    } finally {
      for (const tag of tags) {
        await admin.command({ query: `KILL QUERY WHERE query LIKE '%/* ${tag} */%' AND query NOT LIKE '%system.processes%' SYNC` });
      }
    }
  }, 60_000);
});

describe.skipIf(!url)('clickhouse: an aborted export is stopped on the server', () => {
  const database = `eventlog_test_${randomBytes(4).toString('hex')}`;
  const ROWS = 3_000_000;
  const prefix = `x${randomBytes(3).toString('hex')}_`;
  let admin: ClickHouseClient;
  const rows = async <T>(query: string) => (await admin.query({ query, format: 'JSONEachRow' })).json<T>();
  const open = async () => {
    const store = createClickhouseStore({ url: url!, database, tablePrefix: prefix });
    const log = createEventLog({ store, presets: [conformancePreset], clock: () => NOW });
    await log.ready();
    return { store, log };
  };
  // The ids of the store's reads of the events table the server is running (the probe names the
  // table only inside a string literal, next to system.processes, which the pattern excludes).
  const exports = async () =>
    (
      await rows<{ query_id: string }>(
        `SELECT query_id FROM system.processes WHERE query LIKE '%${prefix}events%' AND query NOT LIKE '%system.processes%'`,
      )
    ).map((r) => r.query_id);
  const isRunning = async (queryId: string) => (await exports()).includes(queryId);

  beforeAll(async () => {
    admin = createClient({ url: url!, request_timeout: 600_000 });
    const { log } = await open();
    await log.close();
    // Rows written straight into the table (millions of record() calls would take minutes); the
    // columns left out take their defaults.
    await admin.command({
      query:
        `INSERT INTO ${database}.${prefix}events (id, time, type, tenant_id, message) ` +
        `SELECT number + 1, ${NOW} - number * 60, 'llm.consumption', 't1', concat('message ', toString(number)) FROM numbers(${ROWS})`,
    });
  }, 120_000);
  afterAll(async () => {
    await admin?.command({ query: `DROP DATABASE IF EXISTS ${database}` });
    await admin?.close();
  }, 120_000);

  it('an export aborted mid-way leaves system.processes within a second, and the store keeps serving', async () => {
    const { log } = await open();
    try {
      const controller = new AbortController();
      const chunks = log.exportCsv({ batchSize: 1000, columns: ['id', 'message'] }, { signal: controller.signal })[Symbol.asyncIterator]();
      let read = 0;
      while (read < 5000) {
        const next = await chunks.next();
        expect(next.done).toBe(false);
        read += (next.value as string).split('\r\n').length - 1;
      }
      // The consumer is slow: the server waits on the socket with the rest of the rows.
      const [queryId] = await exports();
      expect(queryId).toBeDefined();
      controller.abort();
      expect(await rejectionOf(chunks)).toMatchObject({ code: 'ABORTED' });
      await until(async () => !(await isRunning(queryId!)), 1000, `export ${queryId} still runs`);
      expect(await log.count()).toBe(ROWS);
      const again = log.exportCsv({ batchSize: 10, columns: ['id'], header: false, maxRows: 10 });
      let csv = '';
      for await (const chunk of again) csv += chunk;
      expect(csv.split('\r\n').filter(Boolean).map(Number)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    } finally {
      await log.close();
    }
  }, 60_000);

  it('an export whose query the server kills mid-way (not an abort) rejects with a StoreError naming the server error', async () => {
    const { log } = await open();
    try {
      const chunks = log.exportCsv({ batchSize: 1000, columns: ['id', 'message'] })[Symbol.asyncIterator]();
      for (let i = 0; i < 5; i++) expect((await chunks.next()).done).toBe(false);
      const [queryId] = await exports();
      await admin.command({ query: `KILL QUERY WHERE query_id = '${queryId}' ASYNC` });
      const error = await rejectionOf(chunks);
      expect(error).toBeInstanceOf(StoreError);
      // The server's own error line, not the JSON parser's complaint about it.
      expect((error as StoreError).message).toMatch(/^clickhouse store failed during stream: Code: 394\b/);
      expect(await log.count()).toBe(ROWS);
    } finally {
      await log.close();
    }
  }, 60_000);

  it('an export aborted while the server still sorts, its store closed at once, leaves system.processes within a second', async () => {
    // ORDER BY time DESC over every row: the server sends nothing until it has sorted them, so it
    // cannot notice the closed connection; only the kill stops it, and close() must not cut it off.
    const { log } = await open();
    const controller = new AbortController();
    const chunks = log.exportCsv({ batchSize: 1000, columns: ['id', 'message'], header: false }, { signal: controller.signal });
    const pending = (async () => {
      for await (const _ of chunks);
    })().catch((error: unknown) => error);
    let queryId: string | undefined;
    await until(
      async () => {
        [queryId] = await exports();
        return queryId !== undefined;
      },
      10_000,
      'the export never showed up in system.processes',
    );
    controller.abort();
    await log.close();
    expect(await pending).toMatchObject({ code: 'ABORTED' });
    try {
      await until(async () => !(await isRunning(queryId!)), 1000, `export ${queryId} still runs after the abort and close()`);
    } finally {
      await admin.command({ query: `KILL QUERY WHERE query_id = '${queryId}' SYNC` });
    }
    // Another store on the same tables answers.
    const { log: other } = await open();
    try {
      expect(await other.count()).toBe(ROWS);
    } finally {
      await other.close();
    }
  }, 60_000);
});
