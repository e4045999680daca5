import { describe, expect, it } from 'vitest';
import { createReadRouter, FAST_READ_MS, STALL_READ_MS, TURN_BUDGET_MS } from './read-router.js';

describe('read router', () => {
  it('moves a statement into the thread after fast worker runs, and back out after a slow one', () => {
    const router = createReadRouter();
    const sql = 'select * from eventlog_events where tenant_id = ? limit ?';
    expect(router.inThread(sql)).toBe(false);
    for (let i = 0; i < 3; i++) {
      expect(router.inThread(sql)).toBe(false);
      router.ran(sql, FAST_READ_MS / 2, 'worker');
    }
    expect(router.inThread(sql)).toBe(true);
    router.ran(sql, STALL_READ_MS / 2, 'thread'); // not a stall: stays
    expect(router.inThread(sql)).toBe(true);
    router.ran(sql, STALL_READ_MS * 3, 'thread');
    expect(router.inThread(sql)).toBe(false);
    // It now has to prove itself over twice as many runs; a slow one takes two fast ones back.
    for (let i = 0; i < 5; i++) router.ran(sql, FAST_READ_MS / 2, 'worker');
    router.ran(sql, FAST_READ_MS * 10, 'worker');
    for (let i = 0; i < 2; i++) router.ran(sql, FAST_READ_MS / 2, 'worker');
    expect(router.inThread(sql)).toBe(false);
    router.ran(sql, FAST_READ_MS / 2, 'worker');
    expect(router.inThread(sql)).toBe(true);
    // However often it was slow in the thread, 24 fast runs bring it back.
    for (let flip = 0; flip < 10; flip++) router.ran(sql, STALL_READ_MS * 3, 'thread');
    for (let i = 0; i < 23; i++) router.ran(sql, FAST_READ_MS / 2, 'worker');
    expect(router.inThread(sql)).toBe(false);
    router.ran(sql, FAST_READ_MS / 2, 'worker');
    expect(router.inThread(sql)).toBe(true);
    // Another statement text is decided on its own.
    expect(router.inThread(`${sql} offset ?`)).toBe(false);
  });

  it('keeps a statement that is slow on the workers there', () => {
    const router = createReadRouter();
    for (let i = 0; i < 20; i++) {
      router.ran('select count(*) from eventlog_events', FAST_READ_MS * 50, 'worker');
      router.ran('select count(*) from eventlog_events', FAST_READ_MS / 2, 'worker');
    }
    expect(router.inThread('select count(*) from eventlog_events')).toBe(false);
  });

  it("sends the rest of a turn's reads to the workers once the turn's in-thread reads used its budget", async () => {
    const router = createReadRouter();
    const [a, b] = ['select 1 from eventlog_events where id = ?', 'select 2 from eventlog_events where id = ?'];
    for (const sql of [a, b]) for (let i = 0; i < 3; i++) router.ran(sql, FAST_READ_MS / 2, 'worker');
    expect(router.inThread(a)).toBe(true);
    expect(router.turnBudgetLeft()).toBe(true);
    router.ran(a, TURN_BUDGET_MS / 2, 'thread');
    router.ran(b, FAST_READ_MS, 'worker'); // reads on the workers cost the thread nothing
    expect(router.turnBudgetLeft()).toBe(true);
    router.ran(b, TURN_BUDGET_MS / 2, 'thread');
    expect(router.turnBudgetLeft()).toBe(false);
    // The next turn has its budget again, and the statements are still fast ones.
    await new Promise((resolve) => setImmediate(resolve));
    expect(router.turnBudgetLeft()).toBe(true);
    expect(router.inThread(a)).toBe(true);
    expect(router.inThread(b)).toBe(true);
  });
});
