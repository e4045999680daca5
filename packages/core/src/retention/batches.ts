/** One step of a batched pass: does at most one batch of work and says how many rows it touched. @internal */
export type BatchStep = () => Promise<number>;

/** Options of {@link runBatches}. @internal */
export interface BatchLoopOptions {
  /** A full batch: a step that touches fewer rows ends the pass. */
  readonly batchSize: number;
  /** Pause between batches so writers get the database (0: yield to the event loop only). */
  readonly pauseMs: number;
  /** Stops between batches when aborted. */
  readonly signal?: AbortSignal | undefined;
  /** Told after each batch (progress, cancel checks); returning false stops the pass. */
  readonly after?: (touched: number) => Promise<boolean | undefined> | boolean | undefined;
}

/**
 * The batch loop every retention pass shares (prune, field expiry, policy jobs): run a step, yield
 * to the event loop and pause, until a step comes back short, the signal aborts or `after` says stop.
 * @internal
 */
export async function runBatches(step: BatchStep, options: BatchLoopOptions): Promise<{ touched: number; complete: boolean }> {
  let touched = 0;
  for (;;) {
    if (options.signal?.aborted) return { touched, complete: false };
    const n = await step();
    touched += n;
    if (options.after && (await options.after(n)) === false) return { touched, complete: n < options.batchSize };
    if (n < options.batchSize) return { touched, complete: true };
    // Yield so buffered writes get the database between batches.
    await pause(options.pauseMs);
  }
}

/** Waits `ms` (0: one turn of the event loop). @internal */
export function pause(ms: number): Promise<void> {
  return new Promise((resolve) => (ms > 0 ? setTimeout(resolve, ms) : setImmediate(resolve)));
}
