import { z } from 'zod';
import { type LogCore, parseInput, ROOT_SCOPE } from '../core.js';
import { EventLogError } from '../errors.js';
import { type FilterInput, type TimeInput, timeBounds, toEpochMs, withTimeRange } from '../filter/filter.js';
import type { ExpireDataInput } from '../types.js';

const BATCH_MESSAGE = 'must be a whole number from 1 to 100000';
// Segments are embedded in the engines' JSON path syntax, so they are held to plain key names.
const FIELD = /^data(?:\.[A-Za-z0-9_-]{1,128}){1,16}$/;
const FIELD_MESSAGE = 'must be a path into data such as "data.user.email" (keys of letters, digits, "_" or "-")';

const expireSchema = (defaultBatchSize: number) =>
  z.object(
    {
      before: z.unknown().transform((value, ctx) => {
        const ms = value === undefined || value === null ? Number.NaN : toEpochMs(value as TimeInput);
        if (Number.isFinite(ms)) return ms;
        ctx.addIssue({ code: 'custom', message: 'must be a time' });
        return z.NEVER;
      }),
      filter: z.unknown().optional(),
      fields: z.array(z.string().regex(FIELD, FIELD_MESSAGE), 'must be a list of paths').min(1, 'must name at least one path').optional(),
      batchSize: z.preprocess(
        (v) => v ?? defaultBatchSize,
        z.number(BATCH_MESSAGE).int(BATCH_MESSAGE).min(1, BATCH_MESSAGE).max(100_000, BATCH_MESSAGE),
      ),
      pauseMs: z.preprocess((v) => v ?? 5, z.number('must be a number of milliseconds').min(0, 'must not be negative')),
      signal: z.custom<AbortSignal>((s) => typeof s === 'object' && s !== null && 'aborted' in s, 'must be an AbortSignal').optional(),
    },
    'must be an object with "before"',
  );

/**
 * Field time-to-live: removes `data` (or paths of it) from old events in bounded batches through
 * the store's optional `redactData`, keeping every other column, so counts, metrics, dimensions
 * and rollups over them stay as they were. @internal
 */
export function createExpireData(core: LogCore) {
  let schema: ReturnType<typeof expireSchema> | undefined;
  return async function expireData(input: ExpireDataInput): Promise<number> {
    core.assertOpen();
    schema ??= expireSchema(core.store.capabilities.deleteBatchSize);
    const { before, batchSize, pauseMs, fields, ...q } = parseInput(schema, input);
    const redactData = core.store.redactData;
    if (!redactData) {
      throw new EventLogError(
        'UNSUPPORTED',
        `The ${core.store.engine} store cannot remove data from stored events (it has no redactData).`,
      );
    }
    const conditions = core.conditions(ROOT_SCOPE, q.filter as FilterInput | undefined);
    const bounds = timeBounds(conditions);
    const where = withTimeRange(conditions, bounds.gte, Math.min(before, bounds.lt ?? before));
    const paths = fields ? [...new Set(fields.map((field) => field.slice('data.'.length)))] : null;
    await core.ready();
    let changed = 0;
    for (;;) {
      if (q.signal?.aborted) break;
      const n = await core.guard('redactData', () => redactData.call(core.store, { where, limit: batchSize }, paths));
      changed += n;
      if (n < batchSize) break;
      // Yield so buffered writes get the database between batches.
      await new Promise((resolve) => (pauseMs > 0 ? setTimeout(resolve, pauseMs) : setImmediate(resolve)));
    }
    return changed;
  };
}
