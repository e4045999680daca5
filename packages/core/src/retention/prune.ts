import { z } from 'zod';
import { type LogCore, parseInput, ROOT_SCOPE } from '../core.js';
import { type FilterInput, type TimeInput, timeBounds, toEpochMs, withTimeRange } from '../filter/filter.js';
import type { PruneInput } from '../types.js';

const BATCH_MESSAGE = 'must be a whole number from 1 to 100000';

const pruneSchema = (defaultBatchSize: number, defaultPauseMs: number) =>
  z.object(
    {
      before: z.unknown().transform((value, ctx) => {
        const ms = value === undefined || value === null ? Number.NaN : toEpochMs(value as TimeInput);
        if (Number.isFinite(ms)) return ms;
        ctx.addIssue({ code: 'custom', message: 'must be a time' });
        return z.NEVER;
      }),
      filter: z.unknown().optional(),
      batchSize: z.preprocess(
        (v) => v ?? defaultBatchSize,
        z.number(BATCH_MESSAGE).int(BATCH_MESSAGE).min(1, BATCH_MESSAGE).max(100_000, BATCH_MESSAGE),
      ),
      pauseMs: z.preprocess((v) => v ?? defaultPauseMs, z.number('must be a number of milliseconds')),
      signal: z.custom<AbortSignal>((s) => typeof s === 'object' && s !== null && 'aborted' in s, 'must be an AbortSignal').optional(),
    },
    'must be an object with "before"',
  );

/** Deletes old events in bounded batches, pausing between them so writers get the database. @internal */
export function createPrune(core: LogCore) {
  const retention = core.options.retention;
  // Built on first use: a store's capabilities may only be known once it has migrated (MySQL).
  let schema: ReturnType<typeof pruneSchema> | undefined;
  return async function prune(input: PruneInput): Promise<number> {
    core.assertOpen();
    schema ??= pruneSchema(retention?.batchSize ?? core.store.capabilities.deleteBatchSize, retention?.pauseMs ?? 5);
    const { before, batchSize, pauseMs, ...q } = parseInput(schema, input);
    // The filter may narrow the range from below; `before` is always the upper bound.
    const conditions = core.conditions(ROOT_SCOPE, q.filter as FilterInput | undefined);
    const bounds = timeBounds(conditions);
    const where = withTimeRange(conditions, bounds.gte, Math.min(before, bounds.lt ?? before));
    await core.ready();
    let deleted = 0;
    for (;;) {
      if (q.signal?.aborted) break;
      const n = await core.guard('delete', () => core.store.delete({ where, limit: batchSize }));
      deleted += n;
      if (n < batchSize) break;
      // Yield so buffered writes get the database between batches.
      await new Promise((resolve) => (pauseMs > 0 ? setTimeout(resolve, pauseMs) : setImmediate(resolve)));
    }
    core.report('pruned', { deleted, before });
    return deleted;
  };
}
