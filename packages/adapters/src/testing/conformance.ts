import {
  createEventLog,
  csvLine,
  DEFAULT_CSV_FIELDS,
  type EventInput,
  type EventLogOptions,
  isEventLogError,
  type StorageAdapter,
  type StoredEvent,
} from '@eventlog/core';
import { afterEach, describe, expect, it } from 'vitest';
import { conformancePreset, DAY, HOUR, MINUTE, NOW } from './fixtures.js';
import { runSearchConformance } from './search-suite.js';

/** Options of {@link runStoreConformance}. */
export interface ConformanceOptions {
  /** Shown in test names, e.g. `postgres`. */
  name: string;
  /** Returns a store on fresh, empty, isolated tables each time it is called. */
  createStore: () => StorageAdapter | Promise<StorageAdapter>;
  /**
   * Known gaps: test title → reason. Such tests still run and are expected to fail, so a gap that
   * gets fixed is noticed.
   */
  gaps?: Readonly<Record<string, string>>;
}

type LogOptions = Omit<EventLogOptions, 'store'>;
type Usage = EventInput<'llm.consumption', { other?: Record<string, unknown> } | undefined>;

/**
 * Runs the storage-contract conformance suite (through the core API, as users reach a store)
 * against one store. Call it at the top level of a vitest test file.
 *
 * @example
 * ```ts
 * import { createSqliteStore } from '@eventlog/adapters/sqlite';
 * import { runStoreConformance } from '@eventlog/adapters/testing';
 * runStoreConformance({ name: 'sqlite', createStore: () => createSqliteStore() });
 * ```
 */
export function runStoreConformance(options: ConformanceOptions): void {
  const open: { close(): Promise<void> }[] = [];
  const test = (title: string, fn: () => Promise<void>) => {
    const gap = options.gaps?.[title];
    if (gap) it.fails(`${title} (known gap: ${gap})`, fn);
    else it(title, fn);
  };

  async function setup(logOptions: LogOptions = {}) {
    const store = await options.createStore();
    const clock = { now: NOW };
    const log = createEventLog({ store, presets: [conformancePreset], clock: () => clock.now, ...logOptions });
    open.push(log);
    await log.ready();
    return { log, store, clock };
  }

  afterEach(async () => {
    await Promise.all(open.splice(0).map((log) => log.close().catch(() => undefined)));
  });

  const usage = (i: number, overrides: Partial<Usage> = {}): Usage => ({
    type: 'llm.consumption',
    time: NOW - i * MINUTE,
    tenantId: `tenant-${i % 3}`,
    actor: { id: `user-${i % 5}`, type: 'user', name: `User ${i % 5}` },
    message: `call ${i} to model-${i % 4}`,
    ip: `203.0.113.${i % 250}`,
    dimensions: { model_name: `model-${i % 4}`, token_name: `token-${i % 2}`, channel: i % 3 },
    metrics: { quota: 10 * i, prompt_tokens: i, completion_tokens: 2 * i, amount: i / 4 },
    ...overrides,
  });

  const fill = async (log: Awaited<ReturnType<typeof setup>>['log'], n: number) => {
    const events = Array.from({ length: n }, (_, i) => usage(i));
    await log.recordMany(events);
    return events;
  };

  describe(`${options.name} store conformance`, () => {
    runSearchConformance(options);
    describe('migrations', () => {
      test('migrate is idempotent', async () => {
        const { log, store } = await setup();
        await store.migrate(log.registry.storeSchema);
        await store.migrate(log.registry.storeSchema);
        await log.record(usage(1));
        expect(await log.count()).toBe(1);
      });

      test('a later schema adds dimension and metric columns without losing rows', async () => {
        const { log, store } = await setup();
        await log.record(usage(1));
        const wider = createEventLog({
          store,
          presets: [conformancePreset],
          dimensions: [{ name: 'region', indexed: true }],
          metrics: [{ name: 'bytes' }],
          clock: () => NOW,
          closeStore: false,
        });
        await wider.ready();
        await wider.record({ ...usage(2), dimensions: { region: 'eu-west' }, metrics: { bytes: 4096 } });
        const page = await wider.query({ filter: { dimensions: { region: 'eu-west' } } });
        expect(page.total).toBe(1);
        expect(page.items[0]?.metrics.bytes).toBe(4096);
        expect(await wider.count()).toBe(2);
        await wider.close();
      });
    });

    describe('writes', () => {
      test('record stores every field and returns it as read back', async () => {
        const { log, store } = await setup();
        const input: EventInput = {
          type: 'llm.consumption',
          time: NOW - 1234,
          category: 'consumption',
          action: 'chat.completions',
          outcome: 'success',
          severity: 'notice',
          message: 'Ünïcödé "quotes", commas, \\backslash\\, tab\tand\nnewline — 日本語 🚀',
          actor: { id: 42, type: 'user', name: "O'Brien" },
          target: { type: 'token', id: 'tok-1', name: 'my token' },
          tenantId: 7,
          ip: '2001:db8:85a3::8a2e:370:7334',
          userAgent: 'curl/8.5.0',
          sessionId: 'sess-1',
          durationMs: 1532.5,
          dimensions: { model_name: 'gpt-4', token_name: 'api_token', channel: 2 },
          metrics: { quota: 2 ** 40, prompt_tokens: 50, completion_tokens: 100, amount: 0.125 },
          data: { other: { model_ratio: 15, nested: { list: [1, 'two', null] } } },
        };
        const stored = await log.record(input);
        const [read] = (await log.query({ pageSize: 1 })).items;
        expect(read).toBeDefined();
        if (store.capabilities.returnsIds) {
          expect(stored.id).toBeGreaterThan(0);
          expect(read?.id).toBe(stored.id);
        }
        expect({ ...read, id: 0 }).toEqual({ ...stored, id: 0 });
        expect(read).toMatchObject({
          time: NOW - 1234,
          actor: { id: '42', type: 'user', name: "O'Brien" },
          tenantId: '7',
          message: input.message,
          durationMs: 1532.5,
          dimensions: { model_name: 'gpt-4', token_name: 'api_token', channel: 2 },
          metrics: { quota: 2 ** 40, prompt_tokens: 50, completion_tokens: 100, amount: 0.125 },
          data: { other: { model_ratio: 15, nested: { list: [1, 'two', null] } } },
        });
        expect(typeof read?.id).toBe('number');
        expect(typeof read?.time).toBe('number');
        expect(typeof read?.metrics.quota).toBe('number');
        expect(typeof read?.dimensions.channel).toBe('number');
      });

      test('unset fields read back as null and defaults come from the event type', async () => {
        const { log } = await setup();
        await log.record({ type: 'auth.login' });
        const [read] = (await log.query()).items;
        expect(read).toMatchObject({
          type: 'auth.login',
          category: 'login',
          severity: 'info',
          action: null,
          message: null,
          actor: { id: null, type: null, name: null },
          tenantId: null,
          dimensions: { model_name: null, channel: null },
          metrics: { quota: null },
          time: NOW,
        });
      });

      test('recordMany stores a batch larger than one statement, in order, with unique ids', async () => {
        const { log, store } = await setup();
        const events = Array.from({ length: 5000 }, (_, i) => usage(i % 600, { message: `row ${i}` }));
        const stored = await log.recordMany(events);
        expect(stored).toHaveLength(5000);
        expect(await log.count()).toBe(5000);
        if (store.capabilities.returnsIds) {
          const ids = stored.map((e) => e.id);
          expect(new Set(ids).size).toBe(5000);
          expect(ids).toEqual([...ids].sort((a, b) => a - b));
        }
      });

      test('recordMany with one invalid event stores nothing and names the event and field', async () => {
        const { log } = await setup();
        const events = [usage(1), usage(2), { ...usage(3), metrics: { quota: 'lots' as unknown as number } }, usage(4)];
        const error = await log.recordMany(events).catch((e: unknown) => e);
        expect(isEventLogError(error, 'VALIDATION_FAILED')).toBe(true);
        expect((error as { eventIndex: number }).eventIndex).toBe(2);
        expect((error as Error).message).toContain('events.2.metrics.quota');
        expect(await log.count()).toBe(0);
      });

      test('invalid events are rejected with a ValidationError and nothing is stored', async () => {
        const { log } = await setup();
        const bad: unknown[] = [
          { type: 'no.such.type' },
          { type: 'stream.state', data: { bitrate: 4500 } },
          { type: 'llm.consumption', time: 'yesterday' },
          { type: 'llm.consumption', dimensions: { unknown_dimension: 'x' } },
          { type: 'llm.consumption', tenantId: 'x'.repeat(200) },
          { type: 'llm.consumption', metrics: { quota: 1.5 } },
          { type: 'llm.consumption', metrics: { amount: Number.NaN } },
          { type: 'llm.consumption', extra: true },
          null,
        ];
        for (const event of bad) {
          const error = await log.record(event as EventInput).catch((e: unknown) => e);
          expect(isEventLogError(error, 'VALIDATION_FAILED'), JSON.stringify(event)).toBe(true);
        }
        expect(await log.count()).toBe(0);
      });

      test('concurrent record calls are grouped into few inserts and all resolve stored', async () => {
        const { log } = await setup();
        let inserts = 0;
        log.on('flushed', () => {
          inserts++;
        });
        const stored = await Promise.all(Array.from({ length: 500 }, (_, i) => log.record(usage(i))));
        expect(stored).toHaveLength(500);
        expect(await log.count()).toBe(500);
        expect(inserts).toBeLessThan(10);
      });

      test('back-pressure bounds pending writes and still stores everything', async () => {
        const { log } = await setup({ buffer: { maxPending: 50, maxBatchSize: 20 } });
        const results = await Promise.all(Array.from({ length: 400 }, (_, i) => log.record(usage(i))));
        expect(results).toHaveLength(400);
        expect(await log.count()).toBe(400);
      });

      test('a closed log rejects writes', async () => {
        const { log } = await setup({ closeStore: false });
        await log.close();
        const error = await log.record(usage(1)).catch((e: unknown) => e);
        expect(isEventLogError(error, 'CLOSED')).toBe(true);
      });

      test('close drains buffered writes', async () => {
        const { log, store } = await setup({ closeStore: false, buffer: { lingerMs: 10_000 } });
        const pending = Array.from({ length: 30 }, (_, i) => log.record(usage(i)));
        await log.close();
        await Promise.all(pending);
        const check = createEventLog({ store, presets: [conformancePreset], clock: () => NOW });
        open.push(check);
        expect(await check.count()).toBe(30);
      });
    });

    describe('filters', () => {
      test('equality and lists on canonical fields, dimensions and integer dimensions', async () => {
        const { log } = await setup();
        await fill(log, 60);
        expect(await log.count({ tenantId: 'tenant-1' })).toBe(20);
        expect(await log.count({ tenantId: ['tenant-1', 'tenant-2'] })).toBe(40);
        expect(await log.count({ tenantId: [] })).toBe(0);
        expect(await log.count({ actorId: 'user-3', type: 'llm.consumption' })).toBe(12);
        expect(await log.count({ dimensions: { model_name: 'model-2' } })).toBe(15);
        expect(await log.count({ dimensions: { channel: [0, 1] } })).toBe(40);
        expect(await log.count({ dimensions: { model_name: 'model-2', token_name: 'token-0' } })).toBe(15);
        expect(await log.count({ ip: '203.0.113.7' })).toBe(1);
        expect(await log.count({ category: 'nope' })).toBe(0);
      });

      test('equality is exact: case and trailing spaces matter', async () => {
        const { log } = await setup();
        await log.record(usage(1, { tenantId: 'Acme' }));
        await log.record(usage(2, { tenantId: 'acme' }));
        await log.record(usage(3, { tenantId: 'acme ' }));
        expect(await log.count({ tenantId: 'acme' })).toBe(1);
        expect(await log.count({ tenantId: 'Acme' })).toBe(1);
      });

      test('time range: since inclusive, until exclusive, Date and ISO input', async () => {
        const { log } = await setup();
        await fill(log, 60);
        expect(await log.count({ since: NOW - 10 * MINUTE })).toBe(11);
        expect(await log.count({ until: NOW - 10 * MINUTE })).toBe(49);
        expect(await log.count({ since: new Date(NOW - 20 * MINUTE), until: new Date(NOW - 10 * MINUTE).toISOString() })).toBe(10);
      });

      test('metric and duration ranges', async () => {
        const { log } = await setup();
        await fill(log, 60);
        await log.record(usage(1, { durationMs: 250 }));
        expect(await log.count({ metrics: { quota: { gte: 100, lt: 200 } } })).toBe(10);
        expect(await log.count({ metrics: { amount: { gt: 14 } } })).toBe(3);
        expect(await log.count({ durationMs: { gte: 200 } })).toBe(1);
      });

      test('keyword search is case-insensitive and treats wildcards and quotes literally', async () => {
        const { log } = await setup();
        const messages = [
          'Upstream ERROR 502',
          '100% done',
          '100 percent',
          'snake_case',
          'snakeXcase',
          "it's quoted",
          'bang! here',
          'b!ng',
        ];
        for (const message of messages) await log.record(usage(1, { message }));
        expect(await log.count({ search: 'error' })).toBe(1);
        expect(await log.count({ search: '100%' })).toBe(1);
        expect(await log.count({ search: '%' })).toBe(1);
        expect(await log.count({ search: '_' })).toBe(1);
        expect(await log.count({ search: 'snake_case' })).toBe(1);
        expect(await log.count({ search: "it's" })).toBe(1);
        expect(await log.count({ search: '!' })).toBe(2);
        expect(await log.count({ search: "' OR '1'='1" })).toBe(0);
        expect(await log.count({ search: 'llm.consumption' })).toBe(messages.length);
      });

      test('hostile values are data, not SQL', async () => {
        const { log } = await setup();
        const hostile = `x'); DROP TABLE eventlog_events; --`;
        await log.record(usage(1, { tenantId: hostile, message: hostile }));
        expect(await log.count({ tenantId: hostile })).toBe(1);
        expect(await log.count({ tenantId: `' OR 1=1 --` })).toBe(0);
        expect(await log.count()).toBe(1);
      });

      test('unknown dimensions, metrics and fields in filters are rejected', async () => {
        const { log } = await setup();
        for (const filter of [
          { dimensions: { nope: 'x' } },
          { metrics: { nope: { gte: 1 } } },
          { colour: 'red' },
          { since: 'not a date' },
          { search: 'x'.repeat(500) },
        ]) {
          const error = await log.count(filter as never).catch((e: unknown) => e);
          expect(isEventLogError(error, 'VALIDATION_FAILED'), JSON.stringify(filter)).toBe(true);
        }
      });
    });

    describe('queries', () => {
      test('numbered pages with total, newest first, ties broken by id', async () => {
        const { log } = await setup();
        await fill(log, 45);
        await log.recordMany([usage(0, { message: 'tie a' }), usage(0, { message: 'tie b' })]);
        const first = await log.query({ page: 1, pageSize: 20 });
        expect(first.total).toBe(47);
        expect(first.totalPages).toBe(3);
        expect(first.items).toHaveLength(20);
        const times = first.items.map((e) => e.time);
        expect(times).toEqual([...times].sort((a, b) => b - a));
        const ties = first.items.filter((e) => e.time === NOW);
        expect(ties).toHaveLength(3);
        for (let i = 1; i < ties.length; i++) expect(ties[i - 1]!.id).toBeGreaterThan(ties[i]!.id);
        const last = await log.query({ page: 3, pageSize: 20 });
        expect(last.items).toHaveLength(7);
        expect((await log.query({ page: 4, pageSize: 20 })).items).toHaveLength(0);
      });

      test('whitelisted sorts on metrics and fields, ascending and descending', async () => {
        const { log } = await setup();
        await fill(log, 30);
        const byQuota = await log.query({ sort: { field: 'quota', direction: 'asc' }, pageSize: 5 });
        expect(byQuota.items.map((e) => e.metrics.quota)).toEqual([0, 10, 20, 30, 40]);
        const byTenant = await log.query({ sort: { field: 'tenantId', direction: 'desc' }, pageSize: 30 });
        expect(byTenant.items[0]?.tenantId).toBe('tenant-2');
        expect(byTenant.items[29]?.tenantId).toBe('tenant-0');
      });

      test('unknown sort fields, oversized and invalid pages are rejected', async () => {
        const { log } = await setup({ limits: { maxPageSize: 100 } });
        const bad: unknown[] = [
          { sort: { field: 'password' } },
          { sort: { field: 'message' } },
          { sort: { field: 'time', direction: 'sideways' } },
          { pageSize: 101 },
          { pageSize: 0 },
          { page: 0 },
          { page: 1.5 },
          { page: 100_000, pageSize: 100 },
          { limit: 10, sort: { field: 'quota' } },
        ];
        for (const input of bad) {
          const error = await log.query(input as never).catch((e: unknown) => e);
          expect(isEventLogError(error, 'VALIDATION_FAILED'), JSON.stringify(input)).toBe(true);
        }
      });

      test('keyset cursors walk every row exactly once, both directions, with ties', async () => {
        const { log } = await setup();
        const events = Array.from({ length: 95 }, (_, i) => usage(Math.floor(i / 3)));
        await log.recordMany(events);
        for (const direction of ['desc', 'asc'] as const) {
          const seen: StoredEvent[] = [];
          let cursor: string | null = null;
          let pages = 0;
          do {
            const page: { items: StoredEvent[]; nextCursor: string | null } = await log.query({
              filter: { type: 'llm.consumption' },
              sort: { field: 'time', direction },
              limit: 10,
              cursor,
            });
            seen.push(...page.items);
            cursor = page.nextCursor;
            pages++;
          } while (cursor && pages < 50);
          expect(seen).toHaveLength(95);
          expect(new Set(seen.map((e) => e.id)).size).toBe(95);
          const keys = seen.map((e) => [e.time, e.id] as const);
          const sorted = [...keys].sort((a, b) => (a[0] - b[0] || a[1] - b[1]) * (direction === 'asc' ? 1 : -1));
          expect(keys).toEqual(sorted);
          expect(pages).toBe(10);
        }
      });

      test('malformed or foreign cursors are rejected', async () => {
        const { log } = await setup();
        await fill(log, 30);
        const { nextCursor } = await log.query({ filter: { tenantId: 'tenant-1' }, limit: 5 });
        expect(nextCursor).toBeTruthy();
        const cases: [unknown, string][] = [
          [{ limit: 5, cursor: 'not a cursor!' }, 'INVALID_CURSOR'],
          [{ limit: 5, cursor: 'eyJ4IjoxfQ' }, 'INVALID_CURSOR'],
          [{ limit: 5, cursor: nextCursor }, 'INVALID_CURSOR'],
          [{ filter: { tenantId: 'tenant-1' }, limit: 5, cursor: nextCursor, sort: { field: 'time', direction: 'asc' } }, 'INVALID_CURSOR'],
          [{ filter: { tenantId: 'tenant-1' }, limit: 5, cursor: nextCursor, page: 2 }, 'VALIDATION_FAILED'],
        ];
        for (const [input, code] of cases) {
          const error = await log.query(input as never).catch((e: unknown) => e);
          expect(isEventLogError(error, code as never), JSON.stringify(input)).toBe(true);
        }
      });

      test('offset windows with a total, for limit/offset APIs', async () => {
        const { log } = await setup({ limits: { maxOffset: 40 } });
        await fill(log, 45);
        const window = await log.query({ filter: { tenantId: 'tenant-0' }, offset: 5, limit: 4 });
        expect(window.total).toBe(15);
        expect(window.offset).toBe(5);
        expect(window.items.map((e) => e.message)).toEqual([
          'call 15 to model-3',
          'call 18 to model-2',
          'call 21 to model-1',
          'call 24 to model-0',
        ]);
        for (const input of [{ offset: 41, limit: 5 }, { offset: -1, limit: 5 }, { offset: 5 }, { offset: 5, limit: 5, cursor: 'x' }]) {
          const error = await log.query(input as never).catch((e: unknown) => e);
          expect(isEventLogError(error, 'VALIDATION_FAILED'), JSON.stringify(input)).toBe(true);
        }
      });

      test('get by id', async () => {
        const { log, store } = await setup();
        const stored = await log.record(usage(1));
        if (store.capabilities.returnsIds) expect((await log.get(stored.id))?.message).toBe(stored.message);
        expect(await log.get(987_654_321)).toBeNull();
      });
    });

    describe('statistics', () => {
      test('stats sum every metric as numbers and count rpm/tpm over the last 60 s', async () => {
        const { log } = await setup();
        await fill(log, 60);
        await log.record(usage(0, { time: NOW - 30_000, tenantId: 'tenant-0' }));
        const all = await log.stats();
        expect(all.count).toBe(61);
        expect(all.sums.quota).toBe(17_700);
        expect(all.sums.prompt_tokens).toBe(1770);
        expect(all.sums.amount).toBeCloseTo(442.5, 6);
        expect(typeof all.sums.quota).toBe('number');
        expect(all.rpm).toBe(2);
        expect(all.tpm).toBe(0);
        const scoped = await log.stats({ tenantId: 'tenant-1', since: NOW - 30 * MINUTE });
        expect(scoped.count).toBe(10);
        expect(scoped.rpm).toBe(0);
        const recent = await log.stats({ since: NOW - 5 * MINUTE, until: NOW - 4 * MINUTE });
        expect(recent.count).toBe(1);
        expect(recent.rpm).toBe(2);
      });

      test('tpm sums the token metrics of recent events', async () => {
        const { log, clock } = await setup();
        await log.record(usage(0, { time: NOW - 10_000, metrics: { prompt_tokens: 300, completion_tokens: 700 } }));
        await log.record(usage(0, { time: NOW - 70_000, metrics: { prompt_tokens: 5, completion_tokens: 5 } }));
        expect(await log.stats()).toMatchObject({ rpm: 1, tpm: 1000 });
        clock.now = NOW + 60_000;
        expect(await log.stats()).toMatchObject({ rpm: 0, tpm: 0 });
      });

      test('large sums stay exact', async () => {
        const { log } = await setup();
        await log.recordMany(Array.from({ length: 10 }, (_, i) => usage(i, { metrics: { quota: 2 ** 45 } })));
        expect((await log.stats()).sums.quota).toBe(10 * 2 ** 45);
      });

      test('hourly timeline fills empty buckets and sums metrics', async () => {
        const { log } = await setup();
        await log.recordMany([
          usage(0, { time: NOW - 5 * HOUR + 1, metrics: { quota: 5 } }),
          usage(0, { time: NOW - 5 * HOUR + 2, metrics: { quota: 7 } }),
          usage(0, { time: NOW - 1, metrics: { quota: 1 } }),
        ]);
        const timeline = await log.timeline({ bucket: 'hour', filter: { since: NOW - 6 * HOUR, until: NOW }, metrics: ['quota'] });
        expect(timeline.points).toHaveLength(6);
        expect(timeline.points.map((p) => p.count)).toEqual([0, 2, 0, 0, 0, 1]);
        expect(timeline.points[1]?.sums.quota).toBe(12);
        expect(timeline.points[0]?.label).toBe('2026-03-29T06:00:00Z');
      });

      test('day buckets follow the time zone across a DST change', async () => {
        const { log } = await setup();
        // Europe/Berlin: 2026-03-29 has 23 hours (clocks jump from 02:00 to 03:00).
        const midnight28 = Date.UTC(2026, 2, 27, 23); // 2026-03-28 00:00 +01:00
        const midnight29 = Date.UTC(2026, 2, 28, 23); // 2026-03-29 00:00 +01:00
        const midnight30 = Date.UTC(2026, 2, 29, 22); // 2026-03-30 00:00 +02:00
        await log.recordMany([
          usage(0, { time: midnight29 - 1 }),
          usage(0, { time: midnight29 }),
          usage(0, { time: midnight30 - 1 }),
          usage(0, { time: midnight30 }),
        ]);
        const timeline = await log.timeline({
          bucket: 'day',
          timeZone: 'Europe/Berlin',
          filter: { since: midnight28, until: midnight30 + DAY },
        });
        expect(timeline.points.map((p) => [p.label, p.count])).toEqual([
          ['2026-03-28T00:00:00+01:00', 1],
          ['2026-03-29T00:00:00+01:00', 2],
          ['2026-03-30T00:00:00+02:00', 1],
        ]);
        expect(timeline.points[1]!.end - timeline.points[1]!.start).toBe(23 * HOUR);
      });

      test('hour buckets in a half-hour zone and across the skipped hour', async () => {
        const { log } = await setup();
        await log.recordMany([usage(0, { time: Date.UTC(2026, 2, 29, 0, 35) }), usage(0, { time: Date.UTC(2026, 2, 29, 1, 5) })]);
        const kolkata = await log.timeline({
          timeZone: 'Asia/Kolkata',
          filter: { since: Date.UTC(2026, 2, 28, 23, 30), until: Date.UTC(2026, 2, 29, 2, 30) },
        });
        expect(kolkata.points.map((p) => [p.label, p.count])).toEqual([
          ['2026-03-29T05:00:00+05:30', 0],
          ['2026-03-29T06:00:00+05:30', 2],
          ['2026-03-29T07:00:00+05:30', 0],
        ]);
        const berlin = await log.timeline({
          timeZone: 'Europe/Berlin',
          filter: { since: Date.UTC(2026, 2, 29, 0), until: Date.UTC(2026, 2, 29, 2) },
        });
        expect(berlin.points.map((p) => [p.label, p.count])).toEqual([
          ['2026-03-29T01:00:00+01:00', 1],
          ['2026-03-29T03:00:00+02:00', 1],
        ]);
      });

      test('timeline rejects bad zones, buckets, metrics and ranges too large', async () => {
        const { log } = await setup();
        const bad: unknown[] = [
          { timeZone: 'Mars/Olympus' },
          { bucket: 'week' },
          { metrics: ['nope'] },
          { bucket: 'minute', filter: { since: NOW - 30 * DAY, until: NOW } },
        ];
        for (const input of bad) {
          const error = await log.timeline(input as never).catch((e: unknown) => e);
          expect(isEventLogError(error, 'VALIDATION_FAILED'), JSON.stringify(input)).toBe(true);
        }
      });

      test('top-N by dimension and field, by count or by metric, nulls excluded', async () => {
        const { log } = await setup();
        await fill(log, 60);
        await log.record({ type: 'auth.login', ip: '198.51.100.9' });
        const models = await log.top({ by: 'model_name', limit: 2 });
        expect(models).toHaveLength(2);
        expect(models[0]?.count).toBe(15);
        const byQuota = await log.top({ by: 'model_name', orderBy: 'quota' });
        expect(byQuota.map((t) => t.value)).toEqual(['model-3', 'model-2', 'model-1', 'model-0']);
        expect(byQuota[0]?.sums.quota).toBe(10 * (3 + 7 + 11 + 15 + 19 + 23 + 27 + 31 + 35 + 39 + 43 + 47 + 51 + 55 + 59));
        const channels = await log.top({ by: 'channel' });
        expect(channels.map((t) => t.value).sort()).toEqual([0, 1, 2]);
        const tenants = await log.top({ by: 'tenantId', filter: { since: NOW - 9 * MINUTE } });
        expect(tenants.reduce((n, t) => n + t.count, 0)).toBe(10);
        const logins = await log.top({ by: 'ip', filter: { type: 'auth.login' } });
        expect(logins).toEqual([
          { value: '198.51.100.9', count: 1, sums: { quota: 0, prompt_tokens: 0, completion_tokens: 0, amount: 0 } },
        ]);
        for (const input of [{ by: 'message' }, { by: 'model_name', limit: 0 }, { by: 'model_name', orderBy: 'nope' }]) {
          const error = await log.top(input).catch((e: unknown) => e);
          expect(isEventLogError(error, 'VALIDATION_FAILED')).toBe(true);
        }
      });
    });

    describe('live state', () => {
      test('latest returns the newest state event of a target', async () => {
        const { log } = await setup();
        await log.record({
          type: 'stream.state',
          time: NOW - 2000,
          target: { type: 'stream', id: '456' },
          data: { bitrate: '3000 kbps', resolution: '1280x720' },
        });
        await log.record({
          type: 'stream.state',
          time: NOW - 1000,
          target: { type: 'stream', id: '456' },
          data: { bitrate: '4500 kbps', resolution: '1920x1080' },
        });
        await log.record({
          type: 'stream.state',
          time: NOW,
          target: { type: 'stream', id: '999' },
          data: { bitrate: '1 kbps', resolution: '1x1' },
        });
        const latest = await log.latest({ type: 'stream.state', target: { type: 'stream', id: 456 } });
        expect(latest?.data).toEqual({ bitrate: '4500 kbps', resolution: '1920x1080' });
        expect(await log.latest({ type: 'stream.state', target: { id: 'missing' } })).toBeNull();
      });

      test('sessions open, list, close with duration, and close only once', async () => {
        const { log, clock } = await setup();
        const opened = await log.sessions.open({
          type: 'connection.open',
          sessionId: 'c-1',
          tenantId: 'tenant-1',
          actor: { id: 'line-123', type: 'line', name: 'testuser' },
          target: { type: 'stream', id: '456', name: 'CNN HD' },
          ip: '203.0.113.45',
          userAgent: 'VLC/3.0.11',
        });
        await log.sessions.open({ type: 'connection.open', sessionId: 'c-2', tenantId: 'tenant-2', target: { type: 'stream', id: '457' } });
        expect(opened.startedAt).toBe(NOW);
        clock.now = NOW + 3_600_000;
        const list = await log.sessions.list();
        expect(list.map((s) => s.sessionId)).toEqual(['c-1', 'c-2']);
        expect(list[0]).toMatchObject({ durationMs: 3_600_000, event: { actor: { name: 'testuser' }, userAgent: 'VLC/3.0.11' } });
        expect((await log.sessions.list({ filter: { targetId: '457' } })).map((s) => s.sessionId)).toEqual(['c-2']);
        const closed = await log.sessions.close('c-1', { type: 'connection.close' });
        expect(closed).toMatchObject({ sessionId: 'c-1', durationMs: 3_600_000 });
        expect(closed?.closed).toMatchObject({
          type: 'connection.close',
          sessionId: 'c-1',
          durationMs: 3_600_000,
          tenantId: 'tenant-1',
          ip: '203.0.113.45',
        });
        expect(await log.sessions.close('c-1', { type: 'connection.close' })).toBeNull();
        expect((await log.sessions.list()).map((s) => s.sessionId)).toEqual(['c-2']);
        expect(await log.count({ sessionId: 'c-1' })).toBe(2);
      });
    });

    describe('retention', () => {
      test('prune deletes only older events, in bounded batches, and reports the count', async () => {
        const { log } = await setup();
        await fill(log, 100);
        const pruned: number[] = [];
        log.on('pruned', (info) => pruned.push(info.deleted));
        const deleted = await log.prune({ before: NOW - 39 * MINUTE, batchSize: 7, pauseMs: 0 });
        expect(deleted).toBe(60);
        expect(pruned).toEqual([60]);
        expect(await log.count()).toBe(40);
        expect(await log.count({ until: NOW - 39 * MINUTE })).toBe(0);
      });

      test('prune honours an extra filter', async () => {
        const { log } = await setup();
        await fill(log, 30);
        expect(await log.prune({ before: NOW + 1, filter: { tenantId: 'tenant-0' } })).toBe(10);
        expect(await log.count()).toBe(20);
        // The filter's own range narrows further: only tenant-1 events older than 20 minutes go.
        expect(await log.prune({ before: NOW + 1, filter: { tenantId: 'tenant-1', until: NOW - 20 * MINUTE } })).toBe(3);
        expect(await log.count()).toBe(17);
      });

      test('the retention task prunes by age and takes an exclusive lock', async () => {
        const { log, store } = await setup({ retention: { maxAgeDays: 1 } });
        await log.recordMany([usage(0, { time: NOW - 2 * DAY }), usage(0, { time: NOW - 2 * HOUR })]);
        const maintenance = log.startMaintenance({ runOnStart: false });
        expect(await maintenance.run()).toBe(1);
        await maintenance.stop();
        expect(await log.count()).toBe(1);

        const first = await store.tryLock('retention', 60_000);
        expect(first).not.toBeNull();
        expect(await store.tryLock('retention', 60_000)).toBeNull();
        const busy = log.startMaintenance({ runOnStart: false });
        await log.record(usage(0, { time: NOW - 3 * DAY }));
        expect(await busy.run()).toBe(0);
        await first?.();
        expect(await busy.run()).toBe(1);
        await busy.stop();
      });
    });

    describe('export', () => {
      test('CSV export is RFC 4180, formula-safe, time-zone formatted and complete', async () => {
        const { log } = await setup();
        await fill(log, 25);
        await log.record(
          usage(0, { time: Date.UTC(2026, 6, 1, 12), message: '=HYPERLINK("http://evil")', actor: { id: '+1', name: 'a,b "c"\nd' } }),
        );
        let csv = '';
        for await (const chunk of log.exportCsv({
          timeZone: 'America/New_York',
          batchSize: 4,
          columns: ['id', 'time', 'message', 'actorId', 'actorName', 'quota', 'model_name'],
        }))
          csv += chunk;
        const lines = csv.split('\r\n');
        expect(lines[0]).toBe('id,time,message,actorId,actorName,quota,model_name');
        expect(lines.at(-1)).toBe('');
        expect(lines).toHaveLength(1 + 26 + 1); // header, 26 rows (the bare LF inside a quoted cell does not split), trailing CRLF
        expect(lines[1]).toContain('2026-07-01T08:00:00.000-04:00');
        expect(lines[1]).toContain(`"'=HYPERLINK(""http://evil"")"`);
        expect(lines[1]).toContain(`'+1,"a,b ""c""`);
        expect(csv).toContain('2026-03-29T08:00:00.000-04:00,call 0 to model-0');
      });

      test('every export column says what query() says, data and masked addresses included', async () => {
        const { log } = await setup({ maskIp: true });
        const events = await fill(log, 12);
        await log.record(
          usage(40, {
            data: { other: { note: 'tab\there, "quoted"', n: 1.5, list: [1, null] } },
            durationMs: 12.25,
            dimensions: { model_name: null, channel: null },
            metrics: { quota: null, amount: -0.5 },
            actor: null,
            ip: '2001:db8::1',
          }),
        );
        const columns = [...DEFAULT_CSV_FIELDS, 'model_name', 'token_name', 'channel', 'quota', 'prompt_tokens', 'amount', 'data'];
        let csv = '';
        for await (const chunk of log.exportCsv({ columns, header: false, batchSize: 5 })) csv += chunk;
        const { items } = await log.query({ limit: 100 });
        expect(items).toHaveLength(events.length + 1);
        const canonical = (e: StoredEvent, name: string): unknown => {
          if (name === 'time') return new Date(e.time).toISOString(); // UTC is the default zone
          if (name.startsWith('actor')) return e.actor[name.slice(5).toLowerCase() as 'id' | 'type' | 'name'];
          if (name.startsWith('target')) return e.target[name.slice(6).toLowerCase() as 'id' | 'type' | 'name'];
          if (name in e.dimensions) return e.dimensions[name];
          if (name in e.metrics) return e.metrics[name];
          if (name === 'data') return e.data === undefined ? null : JSON.stringify(e.data);
          return (e as unknown as Record<string, unknown>)[name];
        };
        expect(csv).toBe(items.map((e) => csvLine(columns.map((name) => canonical(e, name)))).join(''));
        expect(csv).toContain(',2001:db8:0::,');
        expect(csv).not.toContain('2001:db8::1');
      });

      test('export filters, orders and rejects unknown columns', async () => {
        const { log } = await setup();
        await fill(log, 30);
        let csv = '';
        for await (const chunk of log.exportCsv({ filter: { tenantId: 'tenant-2' }, order: 'asc', header: false, columns: ['message'] }))
          csv += chunk;
        expect(csv.trim().split('\r\n')).toEqual([
          'call 29 to model-1',
          'call 26 to model-2',
          'call 23 to model-3',
          'call 20 to model-0',
          'call 17 to model-1',
          'call 14 to model-2',
          'call 11 to model-3',
          'call 8 to model-0',
          'call 5 to model-1',
          'call 2 to model-2',
        ]);
        expect(() => log.exportCsv({ columns: ['password'] })).toThrow(/not an exportable column/);
        expect(() => log.exportCsv({ timeZone: 'Nowhere/Land' })).toThrow(/time zone/);
      });
    });

    describe('scoping and privacy', () => {
      test('a scoped view never reads beyond its tenants, whatever the filter', async () => {
        const { log } = await setup();
        await fill(log, 60);
        await log.sessions.open({ type: 'connection.open', sessionId: 's0', tenantId: 'tenant-0' });
        await log.sessions.open({ type: 'connection.open', sessionId: 's1', tenantId: 'tenant-1' });
        const user = log.scoped({ role: 'user', id: 'tenant-1' });
        const reseller = log.scoped({ role: 'reseller', id: 'r1', tenantIds: ['tenant-0', 'tenant-1'] });
        const admin = log.scoped({ role: 'admin' });
        expect((await user.query()).total).toBe(21);
        expect((await user.query({ filter: { tenantId: 'tenant-2' } })).total).toBe(0);
        expect((await user.query({ filter: { tenantId: ['tenant-1', 'tenant-2'] } })).total).toBe(21);
        expect(await reseller.count()).toBe(42);
        expect(await admin.count()).toBe(62);
        expect((await user.stats()).count).toBe(21);
        expect(
          (await user.timeline({ bucket: 'day', filter: { since: NOW - DAY, until: NOW + 1 } })).points.reduce((n, p) => n + p.count, 0),
        ).toBe(21);
        expect((await user.top({ by: 'tenantId' })).map((t) => t.value)).toEqual(['tenant-1']);
        expect((await user.sessions.list()).map((s) => s.sessionId)).toEqual(['s1']);
        const other = await log.query({ filter: { tenantId: 'tenant-2' }, pageSize: 1 });
        expect(await user.latest({ filter: { tenantId: 'tenant-2' } })).toBeNull();
        expect(other.items[0]).toBeDefined();
        let csv = '';
        for await (const chunk of user.exportCsv({ columns: ['tenantId'], header: false })) csv += chunk;
        expect(new Set(csv.trim().split('\r\n'))).toEqual(new Set(['tenant-1']));
        const nobody = log.scoped({ role: 'reseller', id: 'r2', tenantIds: [] });
        expect(await nobody.count()).toBe(0);
      });

      test('scoped subscribers only see their tenants; unsubscribe stops delivery', async () => {
        const { log } = await setup();
        const seen: StoredEvent[] = [];
        const all: StoredEvent[] = [];
        const stop = log.scoped({ role: 'user', id: 'tenant-1' }).subscribe({ type: 'llm.consumption' }, (e) => seen.push(e));
        log.subscribe(undefined, (e) => all.push(e));
        await log.recordMany([usage(1), usage(2), usage(4), { type: 'auth.login', tenantId: 'tenant-1' }]);
        expect(seen.map((e) => e.tenantId)).toEqual(['tenant-1', 'tenant-1']);
        expect(all).toHaveLength(4);
        stop();
        await log.record(usage(7));
        expect(seen).toHaveLength(2);
        expect(all).toHaveLength(5);
      });

      test('IP masking hides the host part on every read path', async () => {
        const { log } = await setup({ maskIp: true });
        await log.record(usage(1, { ip: '203.0.113.45' }));
        await log.record(usage(2, { ip: '2001:db8:85a3:1234::7334' }));
        const items = (await log.query()).items.map((e) => e.ip);
        expect(items.sort()).toEqual(['2001:db8:85a3::', '203.0.113.0']);
        expect((await log.top({ by: 'ip' })).map((t) => t.value).sort()).toEqual(['2001:db8:85a3::', '203.0.113.0']);
        let csv = '';
        for await (const chunk of log.exportCsv({ columns: ['ip'], header: false })) csv += chunk;
        expect(csv).not.toContain('203.0.113.45');
      });
    });
  });
}
