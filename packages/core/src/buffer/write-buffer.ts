import { EventLogError, isEventLogError, StoreError } from '../errors.js';
import type { StoredEvent } from '../schema/event.js';
import type { EventRow, EventStore } from '../storage/contract.js';
import { BlockingModel } from './blocking-model.js';
import { Fifo } from './fifo.js';

/** Tuning of the write path. */
export interface BufferOptions {
  /** Rows per store insert. @default 1000 */
  maxBatchSize?: number;
  /**
   * How long a batch waits for more rows before it is written. 0 writes at the next turn of the
   * event loop, after every `record()` made in the current one (group commit). @default 0
   */
  lingerMs?: number;
  /** Rows that may wait or be in flight at once; past this, `record()` waits for room. @default 20000 */
  maxPending?: number;
  /** Retries of a transient store failure before the write is reported as failed. @default 5 */
  retries?: number;
  /** First retry delay; doubles each time, with jitter. @default 50 */
  retryDelayMs?: number;
  /** Longest retry delay. @default 2000 */
  maxRetryDelayMs?: number;
  /**
   * Longest time one insert should hold the event loop. A store whose driver works synchronously
   * (better-sqlite3) blocks the process for a whole batch, so the buffer measures how long its
   * inserts block and shrinks batches to stay under this; stores that wait on the network are not
   * limited. A single `recordMany` call is still written in one insert, whatever its size. The
   * default leaves a turn of the loop room for resolving the batch's calls within 50 ms.
   * @default 40
   */
  maxBlockingMs?: number;
}

/**
 * Settles one call: with its result, or with a rejected promise when it failed. Only the promise's
 * `resolve` is kept per waiting call (a rejected promise passed to it rejects the call): with
 * millions of un-awaited calls waiting, every object held per call is work for the garbage collector.
 */
type Settle = (result: unknown) => void;

/**
 * The rows of one call: a `recordMany` call's array, or a `record()` call's single row held as is
 * (no array of one per waiting call). A row is a plain object, never an array.
 */
type Unit = EventRow[] | EventRow;

const unitSize = (unit: Unit): number => (Array.isArray(unit) ? unit.length : 1);

/**
 * Units in arrival order. Each unit is three entries side by side, not an object of its own: its
 * rows, the validated payload of a single-row `record()` call (which its result is built from once
 * stored; `undefined` for arrays), and its {@link Settle}.
 */
class UnitQueue {
  private readonly items = new Fifo<unknown>();

  /** Units in the queue. */
  get length(): number {
    return this.items.length / 3;
  }

  push(unit: Unit, data: unknown, settle: Settle): void {
    this.items.push(unit);
    this.items.push(data);
    this.items.push(settle);
  }

  /** Rows in the unit at the head. */
  peekSize(): number {
    return unitSize(this.items.peek() as Unit);
  }

  /** Removes the unit at the head into `batch`. */
  shiftInto(batch: Batch): void {
    batch.units.push(this.items.shift() as Unit);
    batch.data.push(this.items.shift());
    batch.settles.push(this.items.shift() as Settle);
  }

  /** Moves the unit at the head to the tail of `other`. */
  moveHeadTo(other: UnitQueue): void {
    other.items.push(this.items.shift());
    other.items.push(this.items.shift());
    other.items.push(this.items.shift());
  }

  /** Removes every unit and returns their settle functions. */
  drainSettles(): Settle[] {
    return this.items.drain().filter((_, i) => i % 3 === 2) as Settle[];
  }
}

const failed = (error: unknown): Promise<never> => Promise.reject(error);

/** The units of one insert: their rows, payloads and how to settle each, by position. */
interface Batch {
  units: Unit[];
  data: unknown[];
  settles: Settle[];
}

/** Hooks the buffer calls. @internal */
export interface BufferSink {
  insert(rows: EventRow[]): Promise<number[]>;
  isTransient(error: unknown): boolean;
  /** A wait the store asks for before the next insert ({@link EventStore.writeReady}), if any. */
  ready?(rows: number): Promise<void> | undefined;
  engine: string;
  /** Called with every stored unit, after the insert committed. */
  stored(rows: EventRow[], ids: number[]): void;
  /** The result of a stored {@link WriteBuffer.enqueueEvent} call: its row, id and validated payload. */
  event(row: EventRow, id: number, data: unknown): StoredEvent;
  flushed(rows: number, durationMs: number): void;
}

/** Counters of the back-pressure path, for tests and diagnostics. @internal */
export interface BufferStats {
  /** Calls that had to wait for room. */
  waited: number;
  /** Waiting calls admitted into the buffer (each exactly once). */
  admitted: number;
  /** Times a waiting call's size was compared with the free room. */
  roomChecks: number;
  /** Store inserts started (retries not counted). */
  batches: number;
}

/** Smallest batch the blocking budget may shrink a batch to; below it, per-insert overhead dominates. */
const MIN_ADAPTIVE_BATCH = 32;
/** Batch size before the first insert has shown whether the store blocks the event loop. */
const FIRST_BATCH_LIMIT = 500;

const closedError = () => new EventLogError('CLOSED', 'The event log is closed; no more events can be recorded.');

/** CPU time used by the process so far, in ms, where the runtime reports it. */
function cpuMs(): number | undefined {
  if (typeof process === 'undefined' || typeof process.cpuUsage !== 'function') return undefined;
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

/** Resolves on the next turn of the event loop, after pending I/O and timers had their chance. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Turns many small writes into few store inserts. A unit (the rows of one `record` or `recordMany`
 * call) is never split across inserts unless it alone exceeds the batch size, so a call's rows are
 * stored together or not at all. @internal
 */
export class WriteBuffer {
  private readonly queue = new UnitQueue();
  /** Units that found the buffer full, in arrival order; each is admitted once, when room frees. */
  private readonly waiters = new UnitQueue();
  private queuedRows = 0;
  private inFlightRows = 0;
  private flushing: Promise<void> | null = null;
  private timer: ReturnType<typeof setTimeout> | ReturnType<typeof setImmediate> | null = null;
  private timerIsImmediate = false;
  private closed = false;
  /** How long inserts of a given size hold the event loop, learned from the inserts so far. */
  private readonly blocking = new BlockingModel();
  private readonly counters: BufferStats = { waited: 0, admitted: 0, roomChecks: 0, batches: 0 };
  private readonly maxBatchSize: number;
  private readonly lingerMs: number;
  private readonly maxPending: number;
  private readonly retries: number;
  private readonly retryDelayMs: number;
  private readonly maxRetryDelayMs: number;
  private readonly maxBlockingMs: number;

  constructor(
    private readonly sink: BufferSink,
    options: BufferOptions = {},
  ) {
    this.maxBatchSize = positive(options.maxBatchSize, 1000, 'maxBatchSize');
    this.lingerMs = Math.max(0, options.lingerMs ?? 0);
    this.maxPending = positive(options.maxPending, 20_000, 'maxPending');
    this.retries = Math.max(0, options.retries ?? 5);
    this.retryDelayMs = Math.max(1, options.retryDelayMs ?? 50);
    this.maxRetryDelayMs = Math.max(this.retryDelayMs, options.maxRetryDelayMs ?? 2000);
    this.maxBlockingMs = positive(options.maxBlockingMs, 40, 'maxBlockingMs');
  }

  /** Rows waiting or being written. */
  get pending(): number {
    return this.queuedRows + this.inFlightRows;
  }

  /** Back-pressure counters. @internal */
  get stats(): Readonly<BufferStats> {
    return { ...this.counters };
  }

  /** The current batch size: `maxBatchSize`, or less while the store's inserts block the event loop. */
  get batchLimit(): number {
    // Until an insert has been measured, keep batches modest: the first full batch on a blocking store must not be the stall.
    if (!this.blocking.measured) return Math.min(this.maxBatchSize, FIRST_BATCH_LIMIT);
    return Math.min(this.maxBatchSize, Math.max(MIN_ADAPTIVE_BATCH, this.blocking.rowsWithin(this.maxBlockingMs)));
  }

  /** Queues rows as one unit; resolves with their ids once stored. */
  enqueue(rows: EventRow[]): Promise<number[]> {
    if (this.closed) return Promise.reject(closedError());
    return new Promise<number[]>((resolve) => this.add(rows, undefined, resolve as Settle));
  }

  /**
   * Queues the row of one `record()` call; resolves with its event ({@link BufferSink.event}) once
   * stored. The call's promise is the only one made for it, and while it waits for room the buffer
   * holds the row, the payload and the promise's `resolve`, nothing else.
   */
  enqueueEvent(row: EventRow, data: unknown): Promise<StoredEvent> {
    if (this.closed) return Promise.reject(closedError());
    return new Promise<StoredEvent>((resolve) => this.add(row, data, resolve as Settle));
  }

  private add(unit: Unit, data: unknown, settle: Settle): void {
    const size = unitSize(unit);
    // Back-pressure: wait behind earlier waiters (first come, first served), but always admit a
    // unit into an empty buffer so a call larger than maxPending still progresses.
    if (this.waiters.length > 0 || !this.hasRoomFor(size)) {
      this.counters.waited++;
      this.waiters.push(unit, data, settle);
      return;
    }
    this.queue.push(unit, data, settle);
    this.queuedRows += size;
    this.schedule();
  }

  /** Resolves once everything queued before the call is stored (or has failed). */
  async flush(): Promise<void> {
    this.cancelTimer();
    while (this.queue.length > 0 || this.flushing) {
      if (this.flushing) await this.flushing;
      else await this.runFlush();
    }
  }

  /** Flushes, then refuses further writes. */
  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
    // Waiters are admitted as batches complete, so a drained buffer has none; this is a safety net.
    for (const settle of this.waiters.drainSettles()) settle(failed(closedError()));
  }

  private hasRoomFor(rows: number): boolean {
    return this.pending === 0 || this.pending + rows <= this.maxPending;
  }

  /** Admits waiting units in order while they fit: one room check per admitted unit, plus one that stops. */
  private admitWaiters(): void {
    let admitted = false;
    while (this.waiters.length > 0) {
      this.counters.roomChecks++;
      const size = this.waiters.peekSize();
      if (!this.hasRoomFor(size)) break;
      this.queuedRows += size;
      this.waiters.moveHeadTo(this.queue);
      this.counters.admitted++;
      admitted = true;
    }
    if (admitted) this.schedule();
  }

  private schedule(): void {
    if (this.flushing) return; // the running flush loops until the queue is empty
    if (this.queuedRows >= this.batchLimit) {
      // A full batch is written on the next turn of the event loop, not synchronously: with a
      // driver that resolves in microtasks, writing here would chain batch after batch without
      // ever letting timers or I/O run.
      if (this.timer && this.timerIsImmediate) return;
      this.cancelTimer();
      this.timer = setImmediate(this.fire);
      this.timerIsImmediate = true;
      return;
    }
    if (this.timer) return;
    if (this.lingerMs > 0) {
      const timer = setTimeout(this.fire, this.lingerMs);
      timer.unref?.();
      this.timer = timer;
      this.timerIsImmediate = false;
    } else {
      this.timer = setImmediate(this.fire);
      this.timerIsImmediate = true;
    }
  }

  private readonly fire = (): void => {
    this.timer = null;
    void this.runFlush();
  };

  private cancelTimer(): void {
    if (!this.timer) return;
    if (this.timerIsImmediate) clearImmediate(this.timer as ReturnType<typeof setImmediate>);
    else clearTimeout(this.timer as ReturnType<typeof setTimeout>);
    this.timer = null;
  }

  private runFlush(): Promise<void> {
    if (this.flushing) return this.flushing;
    this.flushing = (async () => {
      try {
        let first = true;
        while (this.queue.length > 0) {
          // Between batches, let the host's timers and I/O run (see schedule()).
          if (!first) await nextTurn();
          first = false;
          const batch = this.takeBatch();
          if (batch.units.length > 0) await this.writeBatch(batch);
        }
      } finally {
        this.flushing = null;
      }
    })();
    return this.flushing;
  }

  private takeBatch(): Batch {
    const batch: Batch = { units: [], data: [], settles: [] };
    // When the queue needs several batches, make them even (1000 rows under a limit of 900 become
    // two of 500, not 900 and 100): as many transactions, and a shorter longest one. Until the
    // inserts' fixed cost is known, take a full batch first instead: its size differs from the rest's,
    // and inserts of different sizes are what the fixed cost is learned from.
    const parts = Math.ceil(this.queuedRows / this.batchLimit);
    const limit = this.blocking.knowsFixedCost ? Math.ceil(this.queuedRows / Math.max(1, parts)) : this.batchLimit;
    let rows = 0;
    while (this.queue.length > 0) {
      const next = this.queue.peekSize();
      if (batch.units.length > 0 && rows + next > limit) break;
      this.queue.shiftInto(batch);
      rows += next;
    }
    this.queuedRows -= rows;
    this.inFlightRows += rows;
    return batch;
  }

  private async writeBatch(batch: Batch): Promise<void> {
    const { units, settles } = batch;
    const only = units.length === 1 ? units[0]! : undefined;
    const rows = only === undefined ? (units.flat() as EventRow[]) : Array.isArray(only) ? only : [only];
    const started = Date.now();
    this.counters.batches++;
    try {
      const ids = await this.insertWithRetry(rows);
      let offset = 0;
      for (let i = 0; i < units.length; i++) {
        const size = unitSize(units[i]!);
        this.stored(batch, i, ids.slice(offset, offset + size));
        offset += size;
      }
      this.sink.flushed(rows.length, Date.now() - started);
    } catch (error) {
      if (units.length > 1 && !(isEventLogError(error, 'STORE_FAILED') && (error as StoreError).transient)) {
        // A permanent failure in a merged batch: write each unit alone so one bad unit cannot fail the others.
        for (let i = 0; i < units.length; i++) {
          const unit = units[i]!;
          try {
            this.stored(batch, i, await this.insertWithRetry(Array.isArray(unit) ? unit : [unit]));
          } catch (unitError) {
            settles[i]!(failed(unitError));
          }
        }
      } else {
        for (const settle of settles) settle(failed(error));
      }
    } finally {
      this.inFlightRows -= rows.length;
      this.admitWaiters();
    }
  }

  /**
   * Hands the stored unit `i` of a batch to the sink, then resolves its call: a `record()` call with
   * its event, any other with its ids. A throwing sink rejects the call instead.
   */
  private stored(batch: Batch, i: number, ids: number[]): void {
    const unit = batch.units[i]!;
    const settle = batch.settles[i]!;
    let result: unknown = ids;
    try {
      if (Array.isArray(unit)) {
        this.sink.stored(unit, ids);
      } else {
        this.sink.stored([unit], ids);
        result = this.sink.event(unit, ids[0] ?? 0, batch.data[i]);
      }
    } catch (error) {
      settle(failed(error));
      return;
    }
    settle(result);
  }

  /**
   * Learns how long inserts hold the event loop. If a macrotask queued before the insert has not
   * run when it settles, no turn of the loop happened, so the whole duration blocked the process.
   */
  private observeBlocking(rows: number, elapsedMs: number, turned: boolean): void {
    // Tiny batches say little about full ones (the fixed cost of a transaction dominates them).
    if (!turned && rows < Math.min(MIN_ADAPTIVE_BATCH, this.batchLimit)) return;
    this.blocking.observe(rows, turned ? 0 : elapsedMs);
  }

  private async insertWithRetry(rows: EventRow[]): Promise<number[]> {
    let delay = this.retryDelayMs;
    for (let attempt = 0; ; attempt++) {
      // Before the probe below: a wait the store asks for is not time the insert holds the loop, and
      // a turn of the loop during it would make an insert that then blocks look as if it did not.
      const ready = this.sink.ready?.(rows.length);
      if (ready) await ready;
      let turned = false;
      const probe = setImmediate(() => {
        turned = true;
      });
      const started = performance.now();
      const startedCpu = cpuMs();
      try {
        const ids = await this.sink.insert(rows);
        // CPU time where the runtime reports it, not wall time: on a busy machine the OS may pause
        // the process mid-insert, and smaller batches would not shorten that pause, only slow the ingest.
        const wall = performance.now() - started;
        this.observeBlocking(rows.length, startedCpu === undefined ? wall : Math.min(wall, cpuMs()! - startedCpu), turned);
        return ids;
      } catch (error) {
        const transient = this.sink.isTransient(error);
        if (!transient || attempt >= this.retries) {
          if (isEventLogError(error)) throw error;
          throw new StoreError(this.sink.engine, 'insert', error, transient);
        }
        await new Promise((resolve) => setTimeout(resolve, delay * (0.5 + Math.random())));
        delay = Math.min(delay * 2, this.maxRetryDelayMs);
      } finally {
        clearImmediate(probe);
      }
    }
  }
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1) throw new TypeError(`buffer.${name} must be a positive integer.`);
  return value;
}
