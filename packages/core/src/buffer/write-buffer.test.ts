import { createSqliteStore } from '@eventlog/adapters/sqlite';
import { holdInserts } from '@eventlog/adapters/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { isEventLogError, type StoreError } from '../errors.js';
import { createEventLog } from '../event-log.js';
import type { EventRow, StorageAdapter } from '../storage/contract.js';

/** A real SQLite store whose inserts fail on demand, to exercise the write path's recovery. */
function faultyStore(plan: { failures: number; transient: boolean; when?: (rows: readonly EventRow[]) => boolean }) {
  const store = createSqliteStore();
  const calls: number[] = [];
  const faulty: StorageAdapter = {
    ...store,
    engine: store.engine,
    capabilities: store.capabilities,
    migrate: (schema) => store.migrate(schema),
    async insert(rows) {
      calls.push(rows.length);
      if ((plan.when?.(rows) ?? true) && plan.failures > 0) {
        plan.failures--;
        const error = Object.assign(new Error(plan.transient ? 'database is locked' : 'constraint failed'), {
          code: plan.transient ? 'SQLITE_BUSY' : 'SQLITE_CONSTRAINT',
        });
        throw error;
      }
      return store.insert(rows);
    },
  };
  return { store: faulty, calls };
}

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((l) => l.close()));
});

describe('write buffer', () => {
  it('retries transient store failures and never loses an acknowledged event', async () => {
    const { store, calls } = faultyStore({ failures: 3, transient: true });
    const log = createEventLog({ store, buffer: { retryDelayMs: 1 } });
    open.push(log);
    const stored = await Promise.all(Array.from({ length: 50 }, (_, i) => log.record({ type: 'app.tick', message: `m${i}` })));
    expect(stored).toHaveLength(50);
    expect(await log.count()).toBe(50);
    expect(calls.length).toBe(4);
  });

  it('reports a write as a transient StoreError once retries are exhausted', async () => {
    const { store } = faultyStore({ failures: 100, transient: true });
    const log = createEventLog({ store, buffer: { retries: 2, retryDelayMs: 1 } });
    open.push(log);
    const error = await log.record({ type: 'app.tick' }).catch((e: unknown) => e);
    expect(isEventLogError(error, 'STORE_FAILED')).toBe(true);
    expect((error as StoreError).transient).toBe(true);
    expect((error as StoreError).engine).toBe('sqlite');
    expect(await log.count()).toBe(0);
  });

  it('isolates a permanently failing unit from the others of its batch', async () => {
    const { store } = faultyStore({ failures: 2, transient: false, when: (rows) => rows.some((r) => r.message === 'poison') });
    const log = createEventLog({ store });
    open.push(log);
    const results = await Promise.allSettled([
      log.record({ type: 'app.tick', message: 'a' }),
      log.recordMany([
        { type: 'app.tick', message: 'poison' },
        { type: 'app.tick', message: 'b' },
      ]),
      log.record({ type: 'app.tick', message: 'c' }),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const messages = (await log.query()).items.map((e) => e.message).sort();
    expect(messages).toEqual(['a', 'c']);
  });

  it('holds record() callers back when the buffer is full', async () => {
    const blocked = createSqliteStore();
    const release = holdInserts(blocked);
    const log = createEventLog({ store: blocked, buffer: { maxPending: 10, maxBatchSize: 5 } });
    open.push(log);
    await log.ready();
    let settled = 0;
    const writes = Array.from({ length: 100 }, (_, i) => log.record({ type: 'app.tick', message: String(i) }).then(() => settled++));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(log.pendingWrites).toBeLessThanOrEqual(10);
    expect(log.pendingWrites).toBeGreaterThan(0);
    expect(settled).toBe(0);
    release();
    await Promise.all(writes);
    expect(log.pendingWrites).toBe(0);
    expect(await log.count()).toBe(100);
  });

  it('settles waiting record() calls with their own stored event, and rejects invalid ones before any room frees', async () => {
    const blocked = createSqliteStore();
    const release = holdInserts(blocked);
    const log = createEventLog({ store: blocked, buffer: { maxPending: 4, maxBatchSize: 3 } });
    open.push(log);
    await log.ready();
    const data = (i: number) => ({ n: i, nested: { tag: `t${i}` } });
    const records = Array.from({ length: 20 }, (_, i) =>
      log.record({ type: 'app.tick', message: `r${i}`, tenantId: `t${i % 3}`, data: data(i) }),
    );
    const many = log.recordMany([
      { type: 'app.tick', message: 'm0' },
      { type: 'app.tick', message: 'm1' },
    ]);
    // Validation happens when record() is called, not once the call is admitted: it rejects while the store still accepts nothing.
    const invalid = log.record({ type: 'not a type!' } as never);
    await expect(invalid).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(log.pendingWrites).toBeLessThanOrEqual(4);
    release();
    const stored = await Promise.all(records);
    const manyStored = await many;
    expect(stored.map((e) => e.message)).toEqual(records.map((_, i) => `r${i}`));
    expect(stored.map((e) => e.data)).toEqual(records.map((_, i) => data(i)));
    expect(stored.map((e) => e.tenantId)).toEqual(records.map((_, i) => `t${i % 3}`));
    expect(manyStored.map((e) => e.message)).toEqual(['m0', 'm1']);
    const byId = new Map((await log.query({ limit: 100 })).items.map((e) => [e.id, e]));
    expect(byId.size).toBe(22);
    for (const event of [...stored, ...manyStored]) expect(byId.get(event.id)).toEqual(event);
  });

  it('group-commits the records of one tick into one insert', async () => {
    const { store, calls } = faultyStore({ failures: 0, transient: true });
    const log = createEventLog({ store });
    open.push(log);
    await log.ready();
    await Promise.all(Array.from({ length: 300 }, () => log.record({ type: 'app.tick' })));
    expect(calls).toEqual([300]);
  });

  it('splits a burst larger than the batch size into full batches', async () => {
    const { store, calls } = faultyStore({ failures: 0, transient: true });
    const log = createEventLog({ store, buffer: { maxBatchSize: 100 } });
    open.push(log);
    await log.ready();
    await Promise.all(Array.from({ length: 250 }, () => log.record({ type: 'app.tick' })));
    expect(calls.reduce((a, b) => a + b, 0)).toBe(250);
    expect(Math.max(...calls)).toBeLessThanOrEqual(100);
  });
});
