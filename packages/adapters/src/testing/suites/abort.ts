import { isEventLogError, type StoredRow } from '@eventlog/core';
import { describe, expect } from 'vitest';
import type { ConformanceLog, SuiteContext } from '../context.js';
import { NOW } from '../fixtures.js';

/** Settles `run` and returns the error code it rejected with (or 'resolved'). */
async function codeOf(run: () => Promise<unknown>): Promise<string> {
  try {
    await run();
    return 'resolved';
  } catch (error) {
    return isEventLogError(error) ? error.code : String(error);
  }
}

/** Reads every chunk of an export. */
async function drain(chunks: AsyncIterable<string>): Promise<string> {
  let out = '';
  for await (const chunk of chunks) out += chunk;
  return out;
}

/** Every read of the core API, with the given options. */
function everyRead(log: ConformanceLog, signal: AbortSignal): Record<string, () => Promise<unknown>> {
  const options = { signal };
  return {
    'query (page)': () => log.query({ pageSize: 5 }, options),
    'query (offset)': () => log.query({ offset: 2, limit: 5 }, options),
    'query (cursor)': () => log.query({ limit: 5, cursor: null }, options),
    count: () => log.count({ tenantId: 'tenant-1' }, options),
    get: () => log.get(1, options),
    stats: () => log.stats(undefined, options),
    timeline: () => log.timeline({ filter: { since: NOW - 3_600_000 } }, options),
    top: () => log.top({ by: 'model_name' }, options),
    latest: () => log.latest({ target: { id: 'x' } }, options),
    exportCsv: () => drain(log.exportCsv({ batchSize: 10 }, options)),
  };
}

/** Cancellation of reads through `signal`: the core's rule on every engine, and the store's `stream` when it has one. */
export function abortSuite(ctx: SuiteContext): void {
  const { test, setup, fill } = ctx;
  describe('aborted reads', () => {
    test('every read with an already aborted signal rejects with ABORTED', async () => {
      const { log } = await setup();
      await fill(log, 30);
      const reads = everyRead(log, AbortSignal.abort());
      const codes: Record<string, string> = {};
      for (const [name, run] of Object.entries(reads)) codes[name] = await codeOf(run);
      expect(codes).toEqual(Object.fromEntries(Object.keys(reads).map((name) => [name, 'ABORTED'])));
    });

    test('a read aborted while it runs rejects with ABORTED, and the store keeps serving', async () => {
      const { log } = await setup();
      await fill(log, 30);
      for (const [name, run] of Object.entries(everyRead(log, new AbortController().signal))) {
        const controller = new AbortController();
        const reads = everyRead(log, controller.signal);
        const pending = codeOf(reads[name] as () => Promise<unknown>);
        controller.abort();
        expect(`${name}: ${await pending}`).toBe(`${name}: ABORTED`);
        // The same read without an abort still answers (a cancelled connection went back clean).
        expect(await codeOf(run), name).toBe('resolved');
      }
      expect(await log.count()).toBe(30);
    });

    test('an export stops between chunks when its signal aborts', async () => {
      const { log } = await setup();
      await fill(log, 60);
      const controller = new AbortController();
      const iterator = log.exportCsv({ batchSize: 10, columns: ['id', 'message'] }, { signal: controller.signal })[Symbol.asyncIterator]();
      const header = await iterator.next();
      expect(header.value).toBe('id,message\r\n');
      const first = await iterator.next();
      expect(first.done).toBe(false);
      controller.abort();
      expect(await codeOf(() => iterator.next())).toBe('ABORTED');
      expect((await iterator.next()).done).toBe(true);
      expect(await log.count()).toBe(60);
    });

    test('an export returns what find returns, through stream when the store has it', async () => {
      const { log, store } = await setup();
      await fill(log, 45);
      const all = await store.find({ where: [], orderBy: { column: 'time', direction: 'desc' }, limit: 1000 });
      const csv = await drain(log.exportCsv({ batchSize: 7, columns: ['id'], header: false }));
      expect(csv.split('\r\n').filter(Boolean).map(Number)).toEqual(all.map((r) => r.id));
      if (!store.stream) return;
      const where = [{ op: 'range' as const, column: 'time', gte: NOW - 40 * 60_000 }];
      const pick = (rows: StoredRow[]) => rows.map((r) => [r.id, r.time, r.message, r.tenant_id]);
      for (const direction of ['asc', 'desc'] as const) {
        const orderBy = { column: 'time', direction };
        const expected = await store.find({ where, orderBy, limit: 1000, columns: ['message', 'tenant_id'] });
        const batches: StoredRow[][] = [];
        for await (const batch of store.stream({ where, orderBy, batchSize: 7, columns: ['message', 'tenant_id'] })) batches.push(batch);
        expect(batches.map((b) => b.length)).toEqual([7, 7, 7, 7, 7, 6]);
        expect(pick(batches.flat())).toEqual(pick(expected));
        const limited: StoredRow[] = [];
        for await (const batch of store.stream({ where, orderBy, batchSize: 7, limit: 10 })) limited.push(...batch);
        expect(pick(limited)).toEqual(pick(expected.slice(0, 10)));
      }
      // Left after the first batch: the query is released and the store keeps answering.
      for await (const batch of store.stream({ where: [], orderBy: { column: 'time', direction: 'desc' }, batchSize: 5 })) {
        expect(batch).toHaveLength(5);
        break;
      }
      expect(await store.count([])).toBe(45);
    });
  });
}
