/** One step of a batched pass: does at most `limit` rows of work and says how many rows it touched. @internal */
export type BatchStep = (limit: number) => Promise<number>;

/** Options of {@link runBatches}. @internal */
export interface BatchLoopOptions {
  /** The largest batch: a step that touches fewer rows than it was asked for ends the pass. */
  readonly batchSize: number;
  /** Pause between batches so writers get the database (0: yield to the event loop only). */
  readonly pauseMs: number;
  /** Stops between batches when aborted. */
  readonly signal?: AbortSignal | undefined;
  /** Told after each batch (progress, cancel checks); returning false stops the pass. */
  readonly after?: (touched: number) => Promise<boolean | undefined> | boolean | undefined;
}

/**
 * How long one batch may hold the database. A writer waits at most about this long for a batch in
 * flight, so batches that take longer are halved (down to {@link MIN_ADAPTIVE_BATCH} rows) and
 * grow back towards `batchSize` while they are quick.
 */
export const BATCH_TARGET_MS = 40;
const MIN_ADAPTIVE_BATCH = 50;

/**
 * The batch loop every retention pass shares (prune, field expiry, policy jobs): run a step, yield
 * to the event loop and pause, until a step comes back short, the signal aborts or `after` says
 * stop. Batches are sized to take about {@link BATCH_TARGET_MS}, never more than `batchSize`.
 * @internal
 */
export async function runBatches(step: BatchStep, options: BatchLoopOptions): Promise<{ touched: number; complete: boolean }> {
  let touched = 0;
  const floor = Math.min(options.batchSize, MIN_ADAPTIVE_BATCH);
  let limit = options.batchSize;
  for (;;) {
    if (options.signal?.aborted) return { touched, complete: false };
    const started = performance.now();
    const n = await step(limit);
    const took = performance.now() - started;
    touched += n;
    const short = n < limit;
    if (options.after && (await options.after(n)) === false) return { touched, complete: short };
    if (short) return { touched, complete: true };
    if (took > BATCH_TARGET_MS) limit = Math.max(floor, Math.floor(limit / 2));
    else if (took < BATCH_TARGET_MS / 2) limit = Math.min(options.batchSize, Math.ceil(limit * 1.5));
    // Yield so buffered writes get the database between batches.
    await pause(options.pauseMs);
  }
}

/** Waits `ms` (0: one turn of the event loop). @internal */
export function pause(ms: number): Promise<void> {
  return new Promise((resolve) => (ms > 0 ? setTimeout(resolve, ms) : setImmediate(resolve)));
}
