import { createMemoryStore } from '@eventlog/adapters/memory';
import { createSqliteStore } from '@eventlog/adapters/sqlite';
import { describe, expect, it } from 'vitest';
import { isEventLogError } from '../errors.js';
import { createEventLog } from '../event-log.js';

const T0 = Date.UTC(2026, 0, 1);

describe.each([
  ['memory', () => createMemoryStore()],
  ['sqlite', () => createSqliteStore()],
] as const)('countBy on the %s store', (_engine, makeStore) => {
  it('counts every value of a field, null included, within the filter and the view', async () => {
    const log = createEventLog({ store: makeStore(), clock: () => T0 + 100_000, limits: { maxTopLimit: 3 } });
    const outcomes = ['ALLOWED', 'BLOCKED', null, 'ALLOWED', 'ALLOWED', null, 'BLOCKED'];
    await log.recordMany(
      outcomes.map((outcome, i) => ({
        type: i === 6 ? 'other' : 'req',
        time: T0 + i,
        tenantId: i < 4 ? 't1' : 't2',
        ...(outcome ? { outcome } : {}),
      })),
    );
    const byValue = (entries: { value: string | number | null; count: number }[]) =>
      Object.fromEntries(entries.map((e) => [String(e.value), e.count]));

    expect(byValue(await log.countBy({ by: 'outcome', filter: { type: 'req' } }))).toEqual({ ALLOWED: 3, BLOCKED: 1, null: 2 });
    expect(byValue(await log.countBy({ by: 'outcome', filter: { type: 'req', since: T0 + 3 } }))).toEqual({ ALLOWED: 2, null: 1 });
    const tenant = log.view({ principal: { role: 'user', id: 'u', tenantId: 't1' } });
    expect(byValue(await tenant.countBy({ by: 'outcome' }))).toEqual({ ALLOWED: 2, BLOCKED: 1, null: 1 });
    expect(await log.countBy({ by: 'outcome', filter: { type: 'none' } })).toEqual([]);

    for (const input of [{ by: 'ip' }, { by: 'nope' }, { by: 'time' }]) {
      const error = await log.countBy(input as { by: 'outcome' }).catch((e: unknown) => e);
      expect(isEventLogError(error, 'VALIDATION_FAILED')).toBe(true);
    }
    // More distinct values than maxTopLimit: a clear error rather than a silently cut answer.
    expect(byValue(await log.countBy({ by: 'tenantId' }))).toEqual({ t1: 4, t2: 3 });
    await log.recordMany([
      { type: 'req', time: T0, tenantId: 't3' },
      { type: 'req', time: T0, tenantId: 't4' },
    ]);
    const error = await log.countBy({ by: 'tenantId' }).catch((e: unknown) => e);
    expect(isEventLogError(error, 'VALIDATION_FAILED')).toBe(true);
    expect((error as Error).message).toMatch(/more than 3 distinct values/);
    await log.close();
  });
});
