import { createSqliteStore } from '@eventlog/adapters/sqlite';
import { afterEach, describe, expect, it } from 'vitest';
import { createEventNormalizer, rowToEvent } from '../schema/event.js';
import { createRegistry } from '../schema/registry.js';
import type { EventRow } from '../storage/contract.js';
import { Fifo } from './fifo.js';
import { WriteBuffer } from './write-buffer.js';

const registry = createRegistry({ allowUnknownTypes: true });
const normalize = createEventNormalizer(registry, () => 1_700_000_000_000);
const stores: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
});

/** A buffer over a real in-memory SQLite store, counting the store's inserts. */
async function sqliteBuffer(options: ConstructorParameters<typeof WriteBuffer>[1]) {
  const store = createSqliteStore();
  stores.push(store);
  await store.migrate(registry.storeSchema);
  const inserts: number[] = [];
  const buffer = new WriteBuffer(
    {
      engine: store.engine,
      insert: (rows) => {
        inserts.push(rows.length);
        return store.insert(rows);
      },
      isTransient: (error) => store.isTransientError(error),
      stored: () => undefined,
      event: (row, id, data) => ({ ...rowToEvent(row, registry, false), id, data }),
      flushed: () => undefined,
    },
    options,
  );
  return { store, buffer, inserts };
}

const row = (i: number): EventRow => normalize({ type: 'app.tick', message: String(i) }).row;

describe('back-pressure', () => {
  it('admits each waiting call once, in arrival order: work grows linearly with the calls', async () => {
    const { store, buffer, inserts } = await sqliteBuffer({ maxPending: 100, maxBatchSize: 50 });
    const calls = 20_000;
    const order: number[] = [];
    const writes = Array.from({ length: calls }, (_, i) => buffer.enqueue([row(i)]).then(([id]) => order.push(id!)));
    await Promise.all(writes);

    const stats = buffer.stats;
    // All but the first maxPending calls found the buffer full and waited.
    expect(stats.waited).toBe(calls - 100);
    expect(stats.admitted).toBe(stats.waited);
    // One room check per admitted call plus at most one failed check per completed batch; waking
    // every waiter after every batch (the old behaviour) needs about calls²/(2·batch) checks.
    expect(stats.roomChecks).toBeLessThanOrEqual(stats.admitted + stats.batches);
    expect(stats.batches).toBe(inserts.length);
    expect(inserts.reduce((a, b) => a + b, 0)).toBe(calls);
    // First come, first stored: ids follow the order of the calls.
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(await store.count([])).toBe(calls);
    expect(buffer.pending).toBe(0);
  });

  it('lets a call larger than maxPending through once the buffer is empty, without starving later calls', async () => {
    const { store, buffer } = await sqliteBuffer({ maxPending: 10, maxBatchSize: 5 });
    const small = Array.from({ length: 8 }, (_, i) => buffer.enqueue([row(i)]));
    const big = buffer.enqueue(Array.from({ length: 25 }, (_, i) => row(100 + i)));
    const after = Array.from({ length: 4 }, (_, i) => buffer.enqueue([row(200 + i)]));
    const [smallIds, bigIds, afterIds] = await Promise.all([Promise.all(small), big, Promise.all(after)]);
    expect(bigIds).toHaveLength(25);
    // The big call was stored after the small ones that came first and before those that came later.
    expect(Math.min(...bigIds)).toBeGreaterThan(Math.max(...smallIds.flat()));
    expect(Math.min(...afterIds.flat())).toBeGreaterThan(Math.max(...bigIds));
    expect(await store.count([])).toBe(37);
  });

  it('stores the calls still waiting for room when the buffer closes', async () => {
    const { store, buffer } = await sqliteBuffer({ maxPending: 10, maxBatchSize: 10 });
    const writes = Array.from({ length: 95 }, (_, i) => buffer.enqueue([row(i)]));
    await buffer.close();
    await expect(Promise.all(writes)).resolves.toHaveLength(95);
    expect(await store.count([])).toBe(95);
    await expect(buffer.enqueue([row(0)])).rejects.toMatchObject({ code: 'CLOSED' });
  });
});

describe('Fifo', () => {
  it('keeps order across compactions and drains what is left', () => {
    const fifo = new Fifo<number>();
    for (let i = 0; i < 5000; i++) fifo.push(i);
    const taken: number[] = [];
    for (let i = 0; i < 3000; i++) taken.push(fifo.shift()!);
    for (let i = 5000; i < 6000; i++) fifo.push(i);
    expect(taken).toEqual(Array.from({ length: 3000 }, (_, i) => i));
    expect(fifo.length).toBe(3000);
    expect(fifo.peek()).toBe(3000);
    expect(fifo.drain()).toEqual(Array.from({ length: 3000 }, (_, i) => 3000 + i));
    expect(fifo.length).toBe(0);
    expect(fifo.shift()).toBeUndefined();
  });
});
