import { isEventLogError, type StoredEvent } from '@eventlog/core';
import { describe, expect } from 'vitest';
import type { SuiteContext } from '../context.js';
import { MINUTE, NOW } from '../fixtures.js';

/** Filters and queries through the core API: equality, ranges, literal search, sorts, pages, keyset cursors, offsets. */
export function readsSuite(ctx: SuiteContext): void {
  const { test, setup, usage, fill } = ctx;
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
      const messages = ['Upstream ERROR 502', '100% done', '100 percent', 'snake_case', 'snakeXcase', "it's quoted", 'bang! here', 'b!ng'];
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
}
