import { describe, expect, it } from 'vitest';
import type { StoredEvent } from '../schema/event.js';
import type { EventRow } from '../storage/contract.js';
import { BlockingModel } from './blocking-model.js';
import { type BufferSink, WriteBuffer } from './write-buffer.js';

// A synchronous driver (better-sqlite3) holds the event loop for a whole insert, and what one costs
// is a fixed part (an SQLite commit rewrites the touched index pages, whatever the row count) plus
// a part per row. The buffer sizes batches to stay within its blocking budget. These tests give it
// inserts of a known cost, spent as real CPU time on the calling thread, as such a driver does.

const cpuMs = () => {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
};

/**
 * Keeps the thread busy for `ms` of both wall-clock and CPU time, as a synchronous insert does. The
 * buffer counts the smaller of the two, so what it sees is never less than `ms`: more only when the
 * machine is busy in both ways at once, which makes it split more, never less.
 */
function spin(ms: number): void {
  const wallEnd = performance.now() + ms;
  const cpuEnd = cpuMs() + ms;
  while (performance.now() < wallEnd || cpuMs() < cpuEnd) {
    // busy, on purpose
  }
}

function blockingSink(costMs: (rows: number) => number, sizes: number[]): BufferSink {
  let next = 1;
  return {
    engine: 'test',
    isTransient: () => false,
    async insert(rows: EventRow[]) {
      sizes.push(rows.length);
      spin(costMs(rows.length));
      return rows.map(() => next++);
    },
    stored() {},
    event: (row, id) => ({ ...row, id }) as unknown as StoredEvent,
    flushed() {},
  };
}

const row = (i: number) => ({ time: i, type: 'app.tick' }) as unknown as EventRow;

describe('blocking model', () => {
  it('learns the fixed cost of an insert and does not count it once per row', () => {
    const model = new BlockingModel();
    // 10 ms per insert plus 0.025 ms per row: 1,000 rows take 35 ms.
    for (let i = 0; i < 10; i++) {
      model.observe(500, 22.5);
      model.observe(1000, 35);
    }
    expect(model.rowsWithin(40)).toBeGreaterThanOrEqual(1199);
    expect(model.rowsWithin(40)).toBeLessThanOrEqual(1200);
    // Only half-size inserts for a long while: the fixed part learned earlier still holds.
    for (let i = 0; i < 50; i++) model.observe(500, 22.5);
    expect(model.rowsWithin(40)).toBeGreaterThanOrEqual(1199);
    expect(model.rowsWithin(40)).toBeLessThanOrEqual(1200);
  });

  it('counts everything per row until inserts of different sizes were seen (the safe side)', () => {
    const model = new BlockingModel();
    for (let i = 0; i < 5; i++) model.observe(500, 22.5);
    expect(model.rowsWithin(40)).toBe(888);
  });

  it('treats a store that never blocks as unlimited', () => {
    const model = new BlockingModel();
    for (let i = 0; i < 5; i++) model.observe(1000, 0);
    expect(model.rowsWithin(40)).toBe(Number.POSITIVE_INFINITY);
  });
});

describe('write buffer batch sizes on a blocking store', () => {
  const windows = async (buffer: WriteBuffer, count: number, size: number) => {
    for (let w = 0; w < count; w++) {
      await Promise.all(Array.from({ length: size }, (_, i) => buffer.enqueueEvent(row(w * size + i), undefined)));
    }
  };

  it('keeps whole batches of concurrent calls when a full batch fits the budget', async () => {
    // 1,000 rows cost 70 ms, well under the 120 ms budget; 500 rows cost 65 ms, 0.13 ms a row.
    // Counted per row, 500-row inserts made 1,000 look like 130 ms, and the batches stayed split
    // (every window in two).
    const sizes: number[] = [];
    const buffer = new WriteBuffer(
      blockingSink((n) => 60 + 0.01 * n, sizes),
      { maxBlockingMs: 120 },
    );
    await windows(buffer, 12, 1000);
    await buffer.close();
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(12_000);
    // The first window is split (no insert measured yet), the second too (a full batch first, then
    // the rest: sizes to learn the fixed cost from); after that, one insert per window. The buffer
    // times inserts on the clock of a shared machine, where a busy moment can make one insert look
    // over budget and split the next window: most windows, not all, are asserted whole.
    const whole = sizes.slice(2).filter((n) => n === 1000).length;
    expect(whole, `insert sizes ${sizes.join(', ')}`).toBeGreaterThanOrEqual(8);
  });

  it('still splits batches that would hold the loop past the budget', async () => {
    // 1,000 rows cost 70 ms; 500 rows fit exactly in 40 ms.
    const sizes: number[] = [];
    const buffer = new WriteBuffer(
      blockingSink((n) => 10 + 0.06 * n, sizes),
      { maxBlockingMs: 40 },
    );
    await windows(buffer, 12, 1000);
    await buffer.close();
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(12_000);
    expect(Math.max(...sizes.slice(4))).toBeLessThanOrEqual(500);
  });

  it('measures an insert after the wait the store asks for (writeReady), so the wait does not hide the blocking', async () => {
    // Like the SQLite store with its checkpoint worker: after each insert a checkpoint runs on
    // another thread, the next insert waits for it (a turn of the loop), then blocks. If the
    // buffer timed the wait as part of the insert, the turn would make it look non-blocking and
    // batches would never be split.
    const sizes: number[] = [];
    let checkpoint: Promise<void> | undefined;
    const sink = blockingSink((n) => 10 + 0.06 * n, sizes);
    const insert = sink.insert;
    sink.ready = () => checkpoint;
    sink.insert = async (rows) => {
      if (checkpoint) await checkpoint;
      const ids = await insert(rows);
      checkpoint = new Promise<void>((resolve) =>
        setTimeout(() => {
          checkpoint = undefined;
          resolve();
        }, 2),
      );
      return ids;
    };
    const buffer = new WriteBuffer(sink, { maxBlockingMs: 40 });
    await windows(buffer, 12, 1000);
    await buffer.close();
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(12_000);
    expect(Math.max(...sizes.slice(4))).toBeLessThanOrEqual(500);
  });
});
