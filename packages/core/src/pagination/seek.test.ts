import { createMemoryStore } from '@eventlog/adapters/memory';
import { createSqliteStore } from '@eventlog/adapters/sqlite';
import { describe, expect, it } from 'vitest';
import { createEventLog } from '../event-log.js';
import type { EventStore, FindQuery } from '../storage/contract.js';
import { SEEK_FROM_OFFSET } from './seek.js';

const T0 = Date.UTC(2026, 0, 1);
const TOTAL = 2600;

/** A store that keeps every find query it is asked. */
function spied(store: EventStore) {
  const finds: FindQuery[] = [];
  const find = store.find.bind(store);
  store.find = (query) => {
    finds.push(query);
    return find(query);
  };
  return { store, finds };
}

describe.each([
  ['memory', () => createMemoryStore()],
  ['sqlite', () => createSqliteStore()],
] as const)('deep offset pages on the %s store', (_engine, makeStore) => {
  it('return exactly the rows OFFSET would, with ties in time, in both directions, by page and by offset', async () => {
    const { store, finds } = spied(makeStore());
    const log = createEventLog({ store, clock: () => T0 + 10_000_000 });
    // Seven events share each timestamp, so only the id breaks ties inside a page boundary.
    const input = Array.from({ length: TOTAL }, (_, i) => ({ type: i % 3 === 0 ? 'job.b' : 'job.a', time: T0 + Math.floor(i / 7) * 1000 }));
    const stored = await log.recordMany(input);
    const ofType = (type: string, direction: 'asc' | 'desc') =>
      stored
        .filter((e) => e.type === type)
        .sort((a, b) => (direction === 'desc' ? b.time - a.time || b.id - a.id : a.time - b.time || a.id - b.id))
        .map((e) => e.id);

    for (const direction of ['desc', 'asc'] as const) {
      const expected = ofType('job.a', direction);
      for (const [page, pageSize] of [
        [1, 50],
        [21, 50],
        [22, 50],
        [35, 50],
        [12, 100],
        [18, 100],
      ] as const) {
        const result = await log.query({ filter: { type: 'job.a' }, sort: { field: 'time', direction }, page, pageSize });
        expect(result.items.map((e) => e.id)).toEqual(expected.slice((page - 1) * pageSize, page * pageSize));
        expect(result.total).toBe(expected.length);
      }
      for (const offset of [SEEK_FROM_OFFSET - 1, SEEK_FROM_OFFSET, SEEK_FROM_OFFSET + 3, expected.length - 5, expected.length]) {
        const result = await log.query({ filter: { type: 'job.a' }, sort: { field: 'time', direction }, offset, limit: 20 });
        expect(result.items.map((e) => e.id)).toEqual(expected.slice(offset, offset + 20));
      }
      const ids = stored
        .filter((e) => e.type === 'job.a')
        .map((e) => e.id)
        .sort((a, b) => (direction === 'desc' ? b - a : a - b));
      const byId = await log.query({ filter: { type: 'job.a' }, sort: { field: 'id', direction }, offset: SEEK_FROM_OFFSET + 1, limit: 7 });
      expect(byId.items.map((e) => e.id)).toEqual(ids.slice(SEEK_FROM_OFFSET + 1, SEEK_FROM_OFFSET + 8));
    }

    // A deep page asks the store for the key of the row before it (two columns), then a keyset page.
    finds.length = 0;
    await log.query({ filter: { type: 'job.a' }, page: 30, pageSize: 50 });
    expect(finds).toHaveLength(2);
    expect(finds[0]).toMatchObject({ limit: 1, offset: 29 * 50 - 1, columns: ['id', 'time'] });
    expect(finds[1]?.offset).toBeUndefined();
    expect(finds[1]?.after).toBeDefined();
    // A shallow page is one plain OFFSET read.
    finds.length = 0;
    await log.query({ filter: { type: 'job.a' }, page: 2, pageSize: 50 });
    expect(finds).toHaveLength(1);
    expect(finds[0]).toMatchObject({ offset: 50, limit: 50 });
    await log.close();
  });
});

describe('deep offset pages narrowed by rollups (sqlite)', () => {
  it('return exactly the rows OFFSET would across days and hours, and skip only within the hour', async () => {
    const { store, finds } = spied(createSqliteStore());
    const log = createEventLog({ store, rollups: true, clock: () => T0 + 10 * 86_400_000 });
    // 9,000 events over about 3.5 days, five sharing each timestamp, and three types: the filter is a list of two.
    const input = Array.from({ length: 9000 }, (_, i) => ({
      type: ['job.a', 'job.b', 'job.c'][i % 3] as string,
      time: T0 + 7_200_000 + Math.floor(i / 5) * 167_000,
    }));
    // And rows exactly on hour starts and a millisecond before them, where one bucket ends and the next begins.
    for (let h = 3; h < 80; h++) {
      for (const time of [T0 + h * 3_600_000 - 1, T0 + h * 3_600_000, T0 + h * 3_600_000]) input.push({ type: 'job.a', time });
    }
    const stored = await log.recordMany(input);
    const types = ['job.a', 'job.c'];
    // The whole log, and a range whose bounds fall inside hours (the counts' edges come from raw rows).
    const ranges: { since?: number; until?: number }[] = [{}, { since: T0 + 9_000_017, until: T0 + 250_000_005 }];
    for (const [direction, range] of (['desc', 'asc'] as const).flatMap((d) => ranges.map((r) => [d, r] as const))) {
      const inRange = (time: number) => time >= (range.since ?? -Infinity) && time < (range.until ?? Infinity);
      const expected = stored
        .filter((e) => types.includes(e.type) && inRange(e.time))
        .sort((a, b) => (direction === 'desc' ? b.time - a.time || b.id - a.id : a.time - b.time || a.id - b.id))
        .map((e) => e.id);
      // Offsets on both sides of day and hour boundaries (where the row before the window and the window
      // itself fall in different buckets), the last rows, and past the end.
      const boundaries = new Set<number>();
      const timeOf = new Map(stored.map((e) => [e.id, e.time]));
      const times = expected.map((id) => timeOf.get(id) as number);
      for (let i = 1; i < times.length; i++) {
        const [a, b] = [times[i - 1] as number, times[i] as number];
        if (Math.floor(a / 3_600_000) !== Math.floor(b / 3_600_000)) boundaries.add(i);
      }
      const offsets = [SEEK_FROM_OFFSET, 2345, expected.length - 3, expected.length, expected.length + 10];
      for (const b of [...boundaries].filter((b) => b >= SEEK_FROM_OFFSET).slice(0, 30)) offsets.push(b - 1, b, b + 1);
      for (const offset of offsets) {
        finds.length = 0;
        const result = await log.query({ filter: { type: types, ...range }, sort: { field: 'time', direction }, offset, limit: 15 });
        expect([direction, range, offset, result.items.map((e) => e.id)]).toEqual([
          direction,
          range,
          offset,
          expected.slice(offset, offset + 15),
        ]);
        expect(result.total).toBe(expected.length);
        // The key of the row before the window is read with an offset inside one hour (at most
        // 22 timestamps × 4 matching rows, and 3 more here), not the whole offset.
        if (offset < expected.length) expect(finds[0]?.offset ?? 0).toBeLessThan(110);
      }
    }
    await log.close();
  });
});
