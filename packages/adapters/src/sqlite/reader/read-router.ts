/** A read statement at most this long (ms, as SQLite ran it) counts as fast. */
export const FAST_READ_MS = 2;
/**
 * An in-thread read longer than this (ms) sends its statement back to the workers. Wall time: on a
 * busy machine a fast statement is sometimes descheduled for ten milliseconds or more, which must
 * not count as the statement being slow.
 */
export const STALL_READ_MS = 30;
/** Fast runs on a worker (less two per slow one) before a statement first runs in the thread. */
const FIRST_FAST_RUNS = 3;
/** Each time an in-thread run of a statement is slow, it needs this many times more fast runs to come back … */
const BACKOFF = 2;
/** … up to this many, so that a statement is never kept on the workers for good by a few unlucky runs. */
const MAX_FAST_RUNS = 24;
const MAX_STATEMENTS = 200;
/**
 * In-thread reads started in one turn of the event loop run back to back (an endpoint's reads are
 * started together): once they add up to this long (ms), the rest of that turn's reads go to the
 * workers, so eight fast statements do not hold the loop for the sum of their times.
 */
export const TURN_BUDGET_MS = 10;

/** Decides, per statement text, whether a read runs in the thread or on a worker. @internal */
export interface ReadRouter {
  /** Whether `sql` has proven fast enough to run on the store's own connection. */
  inThread(sql: string): boolean;
  /** Whether the in-thread reads of this turn of the event loop are still under {@link TURN_BUDGET_MS}. */
  turnBudgetLeft(): boolean;
  /** Reports how long (ms) a read of `sql` took, and where it ran. */
  ran(sql: string, ms: number, where: 'thread' | 'worker'): void;
}

/**
 * Handing a read to a worker costs two thread wake-ups, which on a busy machine are worth more
 * than a short indexed page takes to read. So a statement starts on the workers and comes to the
 * store's own connection only after it ran fast there several times; one slow run in the
 * thread (a wider range, a larger tenant under the same SQL text) sends it back, and each time that
 * happens it has to prove itself over more runs, so a statement whose cost varies settles on the
 * workers. Only statement texts are remembered, never parameters.
 * @internal
 */
export function createReadRouter(): ReadRouter {
  const statements = new Map<string, { fastRuns: number; needed: number }>();
  let spent = 0;
  let resetting = false;
  return {
    turnBudgetLeft() {
      return spent < TURN_BUDGET_MS;
    },
    inThread(sql) {
      const s = statements.get(sql);
      return s !== undefined && s.fastRuns >= s.needed;
    },
    ran(sql, ms, where) {
      if (where === 'thread') {
        spent += ms;
        if (!resetting) {
          resetting = true;
          // Immediates run after the reads of this turn and before the next turn's.
          setImmediate(() => {
            spent = 0;
            resetting = false;
          });
        }
      }
      let s = statements.get(sql);
      if (!s) {
        if (statements.size >= MAX_STATEMENTS) statements.delete(statements.keys().next().value as string);
        s = { fastRuns: 0, needed: FIRST_FAST_RUNS };
        statements.set(sql, s);
      }
      if (where === 'worker') {
        if (s.fastRuns >= s.needed) return; // already in the thread (a read that was queued before)
        // A slow run costs two fast ones rather than all of them: on a busy machine some runs of a
        // fast statement are slow only because the worker waited for a core.
        s.fastRuns = ms <= FAST_READ_MS ? s.fastRuns + 1 : Math.max(0, s.fastRuns - 2);
      } else if (ms > STALL_READ_MS) {
        s.fastRuns = 0;
        s.needed = Math.min(s.needed * BACKOFF, MAX_FAST_RUNS);
      }
    },
  };
}
