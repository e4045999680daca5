import { EventLogError, isEventLogError, StoreError } from '../errors.js';
import type { EventRow } from '../storage/contract.js';

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
}

interface Unit {
  rows: EventRow[];
  resolve: (ids: number[]) => void;
  reject: (error: unknown) => void;
}

/** Hooks the buffer calls. @internal */
export interface BufferSink {
  insert(rows: EventRow[]): Promise<number[]>;
  isTransient(error: unknown): boolean;
  engine: string;
  /** Called with every stored unit, after the insert committed. */
  stored(rows: EventRow[], ids: number[]): void;
  flushed(rows: number, durationMs: number): void;
}

/**
 * Turns many small writes into few store inserts. A unit (the rows of one `record` or `recordMany`
 * call) is never split across inserts unless it alone exceeds the batch size, so a call's rows are
 * stored together or not at all. @internal
 */
export class WriteBuffer {
  private readonly queue: Unit[] = [];
  private queuedRows = 0;
  private inFlightRows = 0;
  private flushing: Promise<void> | null = null;
  private timer: ReturnType<typeof setTimeout> | ReturnType<typeof setImmediate> | null = null;
  private readonly waiters: (() => void)[] = [];
  private closed = false;
  private readonly maxBatchSize: number;
  private readonly lingerMs: number;
  private readonly maxPending: number;
  private readonly retries: number;
  private readonly retryDelayMs: number;
  private readonly maxRetryDelayMs: number;

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
  }

  /** Rows waiting or being written. */
  get pending(): number {
    return this.queuedRows + this.inFlightRows;
  }

  /** Queues rows as one unit; resolves with their ids once stored. */
  async enqueue(rows: EventRow[]): Promise<number[]> {
    if (this.closed) throw new EventLogError('CLOSED', 'The event log is closed; no more events can be recorded.');
    // Back-pressure: wait for room, but always admit a unit into an empty buffer so huge batches progress.
    while (this.pending > 0 && this.pending + rows.length > this.maxPending) {
      await new Promise<void>((resolve) => this.waiters.push(resolve));
      if (this.closed) throw new EventLogError('CLOSED', 'The event log is closed; no more events can be recorded.');
    }
    return new Promise<number[]>((resolve, reject) => {
      this.queue.push({ rows, resolve, reject });
      this.queuedRows += rows.length;
      this.schedule();
    });
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
    for (const wake of this.waiters.splice(0)) wake();
  }

  private schedule(): void {
    if (this.flushing) return; // the running flush loops until the queue is empty
    if (this.queuedRows >= this.maxBatchSize) {
      this.cancelTimer();
      void this.runFlush();
      return;
    }
    if (this.timer) return;
    const fire = () => {
      this.timer = null;
      void this.runFlush();
    };
    if (this.lingerMs > 0) {
      const timer = setTimeout(fire, this.lingerMs);
      timer.unref?.();
      this.timer = timer;
    } else {
      this.timer = setImmediate(fire);
    }
  }

  private cancelTimer(): void {
    if (!this.timer) return;
    clearTimeout(this.timer as ReturnType<typeof setTimeout>);
    clearImmediate(this.timer as ReturnType<typeof setImmediate>);
    this.timer = null;
  }

  private runFlush(): Promise<void> {
    if (this.flushing) return this.flushing;
    this.flushing = (async () => {
      try {
        while (this.queue.length > 0) {
          const batch = this.takeBatch();
          await this.writeBatch(batch);
        }
      } finally {
        this.flushing = null;
      }
    })();
    return this.flushing;
  }

  private takeBatch(): Unit[] {
    const batch: Unit[] = [];
    let rows = 0;
    while (this.queue.length > 0) {
      const next = this.queue[0]!;
      if (batch.length > 0 && rows + next.rows.length > this.maxBatchSize) break;
      batch.push(this.queue.shift()!);
      rows += next.rows.length;
    }
    this.queuedRows -= rows;
    this.inFlightRows += rows;
    return batch;
  }

  private async writeBatch(batch: Unit[]): Promise<void> {
    const rows = batch.length === 1 ? batch[0]!.rows : batch.flatMap((u) => u.rows);
    const started = Date.now();
    try {
      const ids = await this.insertWithRetry(rows);
      let offset = 0;
      for (const unit of batch) {
        const unitIds = ids.slice(offset, offset + unit.rows.length);
        offset += unit.rows.length;
        this.settle(unit, () => {
          this.sink.stored(unit.rows, unitIds);
          unit.resolve(unitIds);
        });
      }
      this.sink.flushed(rows.length, Date.now() - started);
    } catch (error) {
      if (batch.length > 1 && !(isEventLogError(error, 'STORE_FAILED') && (error as StoreError).transient)) {
        // A permanent failure in a merged batch: write each unit alone so one bad unit cannot fail the others.
        for (const unit of batch) {
          try {
            const ids = await this.insertWithRetry(unit.rows);
            this.settle(unit, () => {
              this.sink.stored(unit.rows, ids);
              unit.resolve(ids);
            });
          } catch (unitError) {
            unit.reject(unitError);
          }
        }
      } else {
        for (const unit of batch) unit.reject(error);
      }
    } finally {
      this.inFlightRows -= rows.length;
      this.wakeWaiters();
    }
  }

  private settle(unit: Unit, fn: () => void): void {
    try {
      fn();
    } catch (error) {
      unit.reject(error);
    }
  }

  private wakeWaiters(): void {
    while (this.waiters.length > 0 && this.pending < this.maxPending) this.waiters.shift()!();
  }

  private async insertWithRetry(rows: EventRow[]): Promise<number[]> {
    let delay = this.retryDelayMs;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.sink.insert(rows);
      } catch (error) {
        const transient = this.sink.isTransient(error);
        if (!transient || attempt >= this.retries) {
          if (isEventLogError(error)) throw error;
          throw new StoreError(this.sink.engine, 'insert', error, transient);
        }
        await new Promise((resolve) => setTimeout(resolve, delay * (0.5 + Math.random())));
        delay = Math.min(delay * 2, this.maxRetryDelayMs);
      }
    }
  }
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1) throw new TypeError(`buffer.${name} must be a positive integer.`);
  return value;
}
