import { createEventLog, type EventRow, type StorageAdapter } from '@eventlog/core';
import { describe, expect } from 'vitest';
import type { SuiteContext } from '../context.js';
import { HOUR, MINUTE, NOW } from '../fixtures.js';

/** Payloads of every JSON shape, including strings that look like other JSON values. */
export const JSON_VALUES: readonly unknown[] = [
  'hello',
  '123',
  'true',
  'null',
  '',
  ' "quoted", \\backslash\\ and \u00e9\u65e5\u{1f680} ',
  null,
  [],
  [1, 'two', null, { three: [true, false] }],
  {},
  { a: { b: { c: [1, 2, { d: null, e: '' }] } }, z: 'last' },
  0,
  -1.5,
  9_007_199_254_740_991,
  true,
  false,
];

/** Finds every row of a store in id order (a store-level read, below the core). */
const allRows = (store: StorageAdapter, limit = 1000) => store.find({ where: [], orderBy: { column: 'id', direction: 'asc' }, limit });

/** Inserts rows and returns them with their ids: those the store returned, else read back in time order. */
async function insertRows(store: StorageAdapter, rows: EventRow[]): Promise<number[]> {
  const ids = await store.insert(rows);
  if (store.capabilities.returnsIds) return ids;
  const found = await store.find({ where: [], orderBy: { column: 'time', direction: 'asc' }, limit: rows.length });
  return found.map((r) => r.id as number);
}

/**
 * The contract's MUST rules checked on the store itself, below the core: `data` as JSON text that
 * round-trips every JSON value, numbers as numbers, ids in input order, atomic batches, ties broken
 * by id, the columns a caller asks for, oldest-first deletes with true counts, sessions closed once.
 */
export function contractSuite(ctx: SuiteContext): void {
  const { test, setup, usage } = ctx;

  describe('store contract', () => {
    test('data of every JSON shape comes back as JSON text of the same value', async () => {
      const { store } = await setup();
      const rows: EventRow[] = JSON_VALUES.map((value, i) => ({ time: NOW + i, type: 'json.value', data: JSON.stringify(value) }));
      rows.push({ time: NOW + rows.length, type: 'json.none', data: null });
      const ids = await insertRows(store, rows);
      const found = await allRows(store);
      expect(found.map((r) => r.id)).toEqual(ids);
      for (const [i, value] of JSON_VALUES.entries()) {
        const data = found[i]?.data;
        expect(typeof data, JSON.stringify(value)).toBe('string');
        expect(JSON.parse(data as string), JSON.stringify(value)).toEqual(value);
      }
      expect(found.at(-1)?.data).toBeNull();
    });

    test('an untyped log returns every JSON payload exactly as recorded', async () => {
      const { store } = await setup();
      const log = createEventLog({ store, clock: () => NOW, closeStore: false });
      ctx.track(log);
      const events = JSON_VALUES.map((data, i) => ({ type: 'note', time: NOW - i * MINUTE, data }));
      const stored = await log.recordMany(events);
      stored.forEach((event, i) => {
        expect(event.data, JSON.stringify(JSON_VALUES[i])).toStrictEqual(JSON_VALUES[i]);
      });
      const { items } = await log.query({ pageSize: 100 });
      expect(items.map((e) => e.data)).toStrictEqual(JSON_VALUES);
      if (store.capabilities.returnsIds) {
        for (const [i, event] of stored.entries()) expect((await log.get(event.id))?.data).toStrictEqual(JSON_VALUES[i]);
      }
      await log.record({ type: 'note', time: NOW + 1 });
      expect((await log.latest({ type: 'note' }))?.data).toBeUndefined();
    });

    test('keys such as __proto__ survive the repair of NUL and lone surrogates', async () => {
      const { store } = await setup();
      const payload = JSON.parse(
        '{"__proto__":{"polluted":true},"constructor":"c","prototype":[1],"nul":"a\\u0000b","lone":"x\\ud800y","nested":{"__proto__":"p"}}',
      );
      await store.insert([{ time: NOW, type: 'json.keys', data: JSON.stringify(payload) }]);
      const [row] = await allRows(store);
      const read = JSON.parse(row?.data as string);
      expect(Object.keys(read).sort()).toEqual(['__proto__', 'constructor', 'lone', 'nested', 'nul', 'prototype']);
      expect(Object.getOwnPropertyDescriptor(read, '__proto__')?.value).toEqual({ polluted: true });
      expect(Object.getOwnPropertyDescriptor(read.nested, '__proto__')?.value).toBe('p');
      expect(read.constructor).toBe('c');
      expect(read.prototype).toEqual([1]);
      // Engines that cannot store NUL or a lone surrogate in JSON replace it with U+FFFD.
      expect(['a\u0000b', 'a\ufffdb']).toContain(read.nul);
      expect(['x\ud800y', 'x\ufffdy']).toContain(read.lone);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });

    test('numbers come back as numbers, never strings, however large', async () => {
      const { log, store } = await setup();
      await log.recordMany([
        usage(0, { time: NOW + 1, metrics: { quota: 2 ** 52, prompt_tokens: 3, amount: 0.25 }, dimensions: { channel: 2 ** 40 } }),
        usage(0, { time: NOW, metrics: { quota: 1, prompt_tokens: 4, amount: 0.5 }, dimensions: { channel: 2 ** 40 } }),
      ]);
      const [row] = await store.find({ where: [], orderBy: { column: 'time', direction: 'desc' }, limit: 1 });
      for (const column of ['id', 'time', 'quota', 'prompt_tokens', 'amount', 'channel']) {
        expect(typeof row?.[column], column).toBe('number');
      }
      expect(row).toMatchObject({ time: NOW + 1, quota: 2 ** 52, channel: 2 ** 40, amount: 0.25 });
      expect(await store.count([])).toBe(2);
      const [sums] = await store.aggregate({ where: [], sum: ['quota', 'prompt_tokens', 'amount'] });
      expect(sums).toEqual({ count: 2, sums: { quota: 2 ** 52 + 1, prompt_tokens: 7, amount: 0.75 } });
      const byChannel = await store.aggregate({ where: [], groupBy: { column: 'channel' }, sum: ['quota'] });
      expect(byChannel).toEqual([{ key: 2 ** 40, count: 2, sums: { quota: 2 ** 52 + 1 } }]);
      const byHour = await store.aggregate({ where: [], groupBy: { timeStepMs: HOUR }, sum: [] });
      expect(byHour.map((g) => [typeof g.key, g.count])).toEqual([['number', 2]]);
      expect((await log.stats()).sums).toMatchObject({ quota: 2 ** 52 + 1, amount: 0.75 });
    });

    test('insert returns ids in input order, or none when the store does not report them', async () => {
      const { store } = await setup();
      const rows = Array.from({ length: 30 }, (_, i): EventRow => ({ time: NOW - i, type: 'order', message: `m${i}` }));
      const ids = await store.insert(rows);
      if (!store.capabilities.returnsIds) {
        expect(ids).toEqual([]);
        return;
      }
      expect(ids).toHaveLength(30);
      expect(new Set(ids).size).toBe(30);
      const found = await allRows(store);
      const byId = new Map(found.map((r) => [r.id, r.message]));
      expect(ids.map((id) => byId.get(id))).toEqual(rows.map((r) => r.message));
    });

    test('an atomic insert stores every row of a failing batch or none', async () => {
      const { store } = await setup();
      // Stores that declare non-atomic inserts promise nothing about a failed batch.
      if (!store.capabilities.atomicInsert) return;
      const rows: EventRow[] = [
        { time: NOW, type: 'ok', message: 'first' },
        { time: NOW, type: null, message: 'type is a non-null column' },
        { time: NOW, type: 'ok', message: 'third' },
      ];
      await expect(store.insert(rows)).rejects.toBeDefined();
      expect(await store.count([])).toBe(0);
    });

    test('find breaks ties by id in the sort direction and returns the columns asked for', async () => {
      const { store } = await setup();
      const rows = Array.from({ length: 12 }, (_, i): EventRow => ({ time: NOW - (i % 3), type: 'tie', quota: i % 2, message: `m${i}` }));
      const ids = await insertRows(store, rows);
      expect(ids).toHaveLength(12);
      for (const direction of ['asc', 'desc'] as const) {
        for (const column of ['time', 'quota']) {
          const found = await store.find({ where: [], orderBy: { column, direction }, limit: 12 });
          const sign = direction === 'asc' ? 1 : -1;
          const keys = found.map((r) => [r[column] as number, r.id as number] as const);
          expect(keys, `${column} ${direction}`).toEqual([...keys].sort((a, b) => sign * (a[0] - b[0] || a[1] - b[1])));
        }
      }
      const narrow = await store.find({ where: [], orderBy: { column: 'quota', direction: 'desc' }, limit: 2, columns: ['message'] });
      for (const row of narrow) {
        expect(typeof row.id).toBe('number');
        expect(typeof row.quota).toBe('number');
        expect(row.message).toMatch(/^m\d+$/);
      }
    });

    test('delete removes the oldest matching rows first and reports the true count', async () => {
      const { store } = await setup();
      const rows = Array.from({ length: 10 }, (_, i): EventRow => ({ time: NOW - i * HOUR, type: 'old', tenant_id: 't' }));
      rows.push({ time: NOW - 20 * HOUR, type: 'other', tenant_id: 'u' });
      await store.insert(rows);
      const where = [{ op: 'in', column: 'tenant_id', values: ['t'] }] as const;
      const deleted = await store.delete({ where, limit: 3 });
      expect(deleted).toBeGreaterThanOrEqual(3);
      const left = await store.find({ where, orderBy: { column: 'time', direction: 'asc' }, limit: 100 });
      expect(left).toHaveLength(10 - deleted);
      // The oldest went first: what is left are the newest rows.
      expect(left.map((r) => r.time)).toEqual(
        rows
          .slice(0, 10 - deleted)
          .map((r) => r.time)
          .reverse(),
      );
      expect(await store.count([{ op: 'in', column: 'tenant_id', values: ['u'] }])).toBe(1);
    });

    test('concurrent closers of one session see it exactly once', async () => {
      const { store } = await setup();
      const session = {
        sessionId: 'race-1',
        type: 'connection.open',
        tenantId: 't',
        actorId: null,
        targetType: 'stream',
        targetId: '7',
        startedAt: NOW,
        event: JSON.stringify({ type: 'connection.open', sessionId: 'race-1' }),
      };
      await store.openSession(session);
      const results = await Promise.all(Array.from({ length: 8 }, () => store.closeSession('race-1')));
      const winners = results.filter((r) => r !== null);
      expect(winners).toHaveLength(1);
      expect(winners[0]).toMatchObject({ sessionId: 'race-1', tenantId: 't', targetId: '7', startedAt: NOW });
      expect(await store.listSessions({ where: [], limit: 10 })).toEqual([]);
    });
  });
}
