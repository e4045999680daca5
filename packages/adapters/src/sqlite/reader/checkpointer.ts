import { Worker } from 'node:worker_threads';
import { CHECKPOINT_WORKER_SOURCE, type CheckpointWorkerData } from './worker-source.js';

/** Options of {@link createCheckpointer}. @internal */
export interface CheckpointerOptions extends Omit<CheckpointWorkerData, 'driver'> {
  /**
   * The path of better-sqlite3 for the worker, resolved when the worker starts (not when the store
   * opens): a host that bundled the driver may have no path to give, and then only checkpoints
   * fall back to the store's connection.
   */
  driver(): string;
  /** Rows written since the last checkpoint that start the next one at once. */
  rowsPerCheckpoint: number;
  /** Longest time (ms) fewer rows wait for their checkpoint, so sparse writes cost one sync per interval, not one each. */
  maxDelayMs: number;
  /** Called once if the worker fails: the writer's connection must then checkpoint again itself. */
  onFailure(error: unknown): void;
}

/** Checkpoints a WAL file on a worker thread. @internal */
export interface Checkpointer {
  /** Tells it `rows` were written: checkpoints once enough were, or after `maxDelayMs`. */
  wrote(rows: number): void;
  /**
   * While a checkpoint runs, a promise that resolves when it ends or after `maxWaitMs`, whichever
   * comes first (never rejected); otherwise `undefined`. A write that waits for it starts on a fully
   * copied WAL, which SQLite then starts over from its beginning; with a writer that never waits,
   * every checkpoint ends behind it and the WAL only grows. The bound keeps a writer from waiting
   * on a long checkpoint (after a large delete, say): that write then just does not restart the WAL.
   */
  idle(maxWaitMs: number): Promise<void> | undefined;
  /**
   * Unless nothing was written since the last checkpoint started, a promise that resolves once
   * everything written so far is checkpointed, or after `maxWaitMs`, whichever comes first (never
   * rejected): a running checkpoint is waited for, and the next one starts at once, without the
   * delay, for the rows written meanwhile. SQLite starts a WAL over only at a write that finds every
   * frame in it copied; {@link Checkpointer.idle} leaves behind what was written during the
   * checkpoint, so with a steady writer alongside, the WAL is never fully copied and only grows.
   */
  drain(maxWaitMs: number): Promise<void> | undefined;
  /** Frames in the WAL when the last checkpoint ran (0 before the first). */
  readonly walFrames: number;
  /** Checkpoints finished so far. */
  readonly completed: number;
  close(): Promise<void>;
}

/**
 * SQLite checkpoints a WAL file (copies its pages into the database file and syncs both) inside
 * the commit that makes the WAL long enough, so with better-sqlite3 the host's event loop waits for
 * the copy and the syncs. Here a worker thread with its own connection runs the checkpoints
 * instead, one at a time. They are PASSIVE: they never block the writer or the readers, and copy
 * what no reader still needs. The worker is unreferenced, so a pending checkpoint never keeps the
 * process alive (the last connection to close checkpoints anyway).
 * @internal
 */
export function createCheckpointer(options: CheckpointerOptions): Checkpointer {
  let worker: Worker | undefined;
  let running: { promise: Promise<void>; resolve(): void } | undefined;
  let closed = false;
  let failed = false;
  let completed = 0;
  let walFrames = 0;
  let rows = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const finish = () => {
    const run = running;
    running = undefined;
    run?.resolve();
  };

  const fail = (error: unknown) => {
    if (failed) return;
    failed = true;
    finish();
    void worker?.terminate().catch(() => undefined);
    worker = undefined;
    if (!closed) options.onFailure(error);
  };

  const spawn = (): Worker => {
    const { filename, busyTimeoutMs } = options;
    const workerData: CheckpointWorkerData = { filename, driver: options.driver(), busyTimeoutMs };
    const started = new Worker(CHECKPOINT_WORKER_SOURCE, { eval: true, workerData });
    started.unref();
    started.on('message', (message: { error?: { message: string }; log?: number }) => {
      if (message.error) {
        fail(new Error(`SQLite checkpoint failed: ${message.error.message}`));
        return;
      }
      completed++;
      walFrames = Math.max(0, message.log ?? 0);
      finish();
      // Rows written while it ran are not all in this checkpoint: the next one starts at once if
      // they are enough, else after the delay, as for any other rows. (Without the timer, a few rows
      // written during the last checkpoint of an ingest stayed in the WAL until the next write: every
      // read meanwhile looked them up in the WAL, and the WAL never started over.)
      if (rows >= options.rowsPerCheckpoint) start();
      else if (rows > 0) later();
    });
    started.on('error', fail);
    started.on('exit', () => fail(new Error('The SQLite checkpoint worker stopped.')));
    return started;
  };

  const later = () => {
    if (timer) return;
    timer = setTimeout(start, options.maxDelayMs);
    timer.unref?.();
  };

  const start = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (closed || failed || running || rows === 0) return;
    rows = 0;
    let resolve!: () => void;
    const promise = new Promise<void>((r) => {
      resolve = r;
    });
    running = { promise, resolve };
    try {
      worker ??= spawn();
    } catch (error) {
      fail(error);
      return;
    }
    worker.postMessage(0);
  };

  return {
    wrote(count) {
      if (closed || failed) return;
      rows += count;
      if (running) return; // its end looks at the rows again
      if (rows >= options.rowsPerCheckpoint) start();
      else later();
    },
    idle(maxWaitMs) {
      const run = running;
      if (!run) return undefined;
      return waitAtMost(run.promise, maxWaitMs);
    },
    drain(maxWaitMs) {
      if (closed || failed || (!running && rows === 0)) return undefined;
      const deadline = performance.now() + maxWaitMs;
      return (async () => {
        for (;;) {
          if (!running) start();
          const run = running;
          const left = deadline - performance.now();
          if (!run || left <= 0) return;
          await waitAtMost(run.promise, left);
        }
      })();
    },
    get walFrames() {
      return walFrames;
    },
    get completed() {
      return completed;
    },
    async close() {
      closed = true;
      if (timer) clearTimeout(timer);
      finish();
      const stopping = worker;
      worker = undefined;
      if (stopping) {
        stopping.removeAllListeners('exit');
        await stopping.terminate().catch(() => undefined);
      }
    },
  };
}

/** Resolves when `promise` does (it never rejects) or after `ms`, whichever comes first. */
function waitAtMost(promise: Promise<void>, ms: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    void promise.then(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
