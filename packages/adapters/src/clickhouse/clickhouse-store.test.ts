import { randomBytes } from 'node:crypto';
import { type ClickHouseClient, createClient } from '@clickhouse/client';
import { createEventLog, type EventInput } from '@eventlog/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conformancePreset, DAY, HOUR, NOW } from '../testing/fixtures.js';
import { requireServer } from '../testing/servers.js';
import { type ClickhouseStore, createClickhouseStore } from './clickhouse-store.js';
import { whereSql } from './where.js';

type Usage = EventInput<'llm.consumption', { other?: Record<string, unknown> } | undefined>;

const url = await requireServer('clickhouse');
const database = `eventlog_test_${randomBytes(4).toString('hex')}`;
let n = 0;

describe.skipIf(!url)('clickhouse store specifics', () => {
  let admin: ClickHouseClient;
  const rows = async <T>(query: string) => (await admin.query({ query, format: 'JSONEachRow' })).json<T>();
  const rows_ = async (query: string) =>
    (await rows<Record<string, string>>(query)).map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, Number(v)])));

  beforeAll(() => {
    admin = createClient({ url: url!, request_timeout: 600_000 });
  });
  afterAll(async () => {
    await admin?.command({ query: `DROP DATABASE IF EXISTS ${database}` });
    await admin?.close();
  }, 600_000);

  const open = async (extra: Partial<Parameters<typeof createClickhouseStore>[0]> = {}) => {
    const store = createClickhouseStore({ url: url!, database, tablePrefix: `s${n++}_`, ...extra });
    const log = createEventLog({ store, presets: [conformancePreset], clock: () => NOW });
    await log.ready();
    return { store, log };
  };
  const at = (time: number, extra: Partial<Usage> = {}): Usage => ({ type: 'llm.consumption', time, tenantId: 't1', ...extra });
  const partitions = async (store: ClickhouseStore) =>
    (
      await rows<{ partition: string }>(
        `SELECT DISTINCT partition FROM system.parts WHERE database = '${database}' AND table = '${store.tables.eventsStorage}' AND active ORDER BY partition`,
      )
    ).map((p) => Number(p.partition));
  const mutations = async (store: ClickhouseStore) =>
    Number(
      (
        await rows<{ n: string }>(
          `SELECT count() AS n FROM system.mutations WHERE database = '${database}' AND table = '${store.tables.eventsStorage}'`,
        )
      )[0]?.n,
    );

  it('partitions by UTC day and retention drops whole days without a mutation', async () => {
    const { store, log } = await open();
    const today = Math.floor(NOW / DAY);
    await log.recordMany([at(NOW - 3 * DAY), at(NOW - 3 * DAY + 1), at(NOW - 2 * DAY), at(NOW - DAY), at(NOW - 2 * HOUR), at(NOW)]);
    expect(await partitions(store)).toEqual([today - 3, today - 2, today - 1, today]);
    // Everything before the start of yesterday: two whole days, no remainder.
    expect(await log.prune({ before: (today - 1) * DAY })).toBe(3);
    expect(await partitions(store)).toEqual([today - 1, today]);
    expect(await mutations(store)).toBe(0);
    // Mid-day bound: yesterday is dropped whole, today's older row goes by one mutation.
    expect(await log.prune({ before: NOW - HOUR })).toBe(2);
    expect(await partitions(store)).toEqual([today]);
    expect(await mutations(store)).toBe(1);
    expect(await log.count()).toBe(1);
    await log.close();
  });

  it('a filtered prune never drops partitions, and waits for its mutation', async () => {
    const { store, log } = await open();
    await log.recordMany([at(NOW - 3 * DAY), at(NOW - 3 * DAY, { tenantId: 't2' }), at(NOW)]);
    expect(await log.prune({ before: NOW - DAY, filter: { tenantId: 't2' } })).toBe(1);
    // Synchronous: the rows are gone the moment prune resolves.
    expect(await log.count()).toBe(2);
    expect(await log.count({ tenantId: 't2' })).toBe(0);
    expect((await partitions(store)).length).toBe(2);
    expect(await store.delete({ where: [{ op: 'in', column: 'tenant_id', values: ['nobody'] }], limit: 10 })).toBe(0);
    await log.close();
  });

  it('tenant filters use the primary key', async () => {
    const { store, log } = await open();
    await log.recordMany([at(NOW), at(NOW, { tenantId: 't2' })]);
    const where = whereSql([{ op: 'in', column: 'tenant_id', values: ['t1', 't2'] }], {
      numeric: new Set(),
      keyExpressions: { tenant_id: "ifNull(`tenant_id`, '')" },
    });
    // force_primary_key fails the query when the condition cannot use the sorting key.
    const [row] = await rows<{ n: string }>(
      `SELECT count() AS n FROM ${store.tables.events} WHERE ${where} SETTINGS force_primary_key = 1`,
    );
    expect(Number(row?.n)).toBe(2);
    expect(await log.count({ tenantId: ['t1', 't2'] })).toBe(2);
    await log.close();
  });

  it('sessions reopen after closing, and one process closes a session once', async () => {
    const { log } = await open();
    await log.sessions.open({ type: 'connection.open', sessionId: 'a', tenantId: 't1' });
    const closes = await Promise.all([log.sessions.close('a'), log.sessions.close('a'), log.sessions.close('a')]);
    expect(closes.filter((c) => c !== null)).toHaveLength(1);
    expect(await log.sessions.list()).toEqual([]);
    await log.sessions.open({ type: 'connection.open', sessionId: 'a', tenantId: 't2' });
    const list = await log.sessions.list();
    expect(list.map((s) => [s.sessionId, s.event.tenantId])).toEqual([['a', 't2']]);
    expect(await log.sessions.list({ filter: { tenantId: 't1' } })).toEqual([]);
    await log.close();
  });

  it('refuses an existing table with another sorting key', async () => {
    const prefix = `bad${n++}_`;
    await admin.command({ query: `CREATE DATABASE IF NOT EXISTS ${database}` });
    await admin.command({
      query: `CREATE TABLE ${database}.${prefix}events (id Int64, time Int64, type String) ENGINE = MergeTree PARTITION BY intDiv(time, 86400000) ORDER BY (time, id)`,
    });
    const log = createEventLog({
      store: createClickhouseStore({ url: url!, database, tablePrefix: prefix }),
      presets: [conformancePreset],
    });
    await expect(log.ready()).rejects.toThrow(/ORDER BY/);
    await log.close();
  });

  it('works on a host client without migrating, and leaves that client open', async () => {
    const { store, log } = await open();
    await log.record(at(NOW, { metrics: { quota: 7, amount: 0.5 }, dimensions: { channel: 3 } }));
    await log.close();
    const client = createClient({ url: url! });
    const reuse = createEventLog({
      store: createClickhouseStore({ client, database, tablePrefix: store.tables.eventsStorage.replace(/events$/, '') }),
      presets: [conformancePreset],
      migrate: false,
    });
    const [event] = (await reuse.query()).items;
    expect(event).toMatchObject({ metrics: { quota: 7, amount: 0.5 }, dimensions: { channel: 3 } });
    expect(typeof event?.id).toBe('number');
    expect(await reuse.top({ by: 'channel' })).toMatchObject([{ value: 3, count: 1, sums: { quota: 7 } }]);
    await reuse.close();
    expect(await (await client.query({ query: 'SELECT 1 AS x', format: 'JSONEachRow' })).json()).toEqual([{ x: 1 }]);
    await client.close();
  });

  it('a retried insert of the same rows array re-sends the same ids', async () => {
    const { store, log } = await open();
    const rows = [
      { time: NOW, type: 'auth.login' },
      { time: NOW + 1, type: 'auth.login' },
    ];
    const first = await store.insert(rows);
    expect(await store.insert(rows)).toEqual(first);
    expect(await store.insert([...rows])).not.toEqual(first);
    // A plain MergeTree keeps the duplicate block (replicated tables would drop it), with the same ids.
    const [row] = await rows_(`SELECT uniqExact(id) AS u, count() AS n FROM ${store.tables.events}`);
    expect(row).toEqual({ u: 4, n: 6 });
    await log.close();
  });

  it('classifies transient errors', async () => {
    const { store, log } = await open();
    expect(store.isTransientError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))).toBe(true);
    expect(store.isTransientError(new Error('Code: 252, e.displayText() = DB::Exception: Too many parts (300)'))).toBe(true);
    const syntax = await store.count([{ op: 'in', column: 'no such column', values: ['x'] }]).catch((e: unknown) => e);
    expect(syntax).toBeInstanceOf(TypeError);
    const missing = await admin.query({ query: `SELECT * FROM ${database}.nope`, format: 'JSONEachRow' }).catch((e: unknown) => e);
    expect(store.isTransientError(missing)).toBe(false);
    const down = createClickhouseStore({ url: 'http://127.0.0.1:1' });
    const refused = await down.count([]).catch((e: unknown) => e);
    expect(down.isTransientError(refused)).toBe(true);
    await down.close();
    await log.close();
  });
});
