import { z } from 'zod';
import { type LogCore, parseInput, ROOT_SCOPE } from '../core.js';
import { type FilterInput, type TimeInput, timeBounds, toEpochMs, withTimeRange } from '../filter/filter.js';
import type { PruneInput } from '../types.js';
import type { ArchiveOptions, JobInfo, PruneJobInput } from './job-types.js';
import type { createJobs } from './jobs.js';

const BATCH_MESSAGE = 'must be a whole number from 1 to 100000';

/** The input shared by the batched passes (prune, expireData): a cutoff, a filter and the batch knobs. @internal */
export const batchedPassSchema = (defaultBatchSize: number, defaultPauseMs: number) =>
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
      pauseMs: z.preprocess((v) => v ?? defaultPauseMs, z.number('must be a number of milliseconds').min(0, 'must not be negative')),
      signal: z.custom<AbortSignal>((s) => typeof s === 'object' && s !== null && 'aborted' in s, 'must be an AbortSignal').optional(),
      dryRun: z.boolean('must be true or false').optional(),
      archive: z
        .object(
          {
            format: z.enum(['jsonl', 'csv'], 'must be jsonl or csv').optional(),
            gzip: z.boolean('must be true or false').optional(),
            directory: z.string('must be a directory path').min(1, 'must be a directory path').optional(),
            stream: z.custom<ArchiveOptions['stream']>((v) => typeof v === 'function', 'must be a function').optional(),
          },
          'must be { directory } or { stream }',
        )
        .refine((a) => !a.directory !== !a.stream, 'needs either a directory or a stream')
        .optional(),
    },
    'must be an object with "before"',
  );

/** The one time-bounded selection of a batched pass: the filter, with `before` as the upper bound. @internal */
export function passConditions(core: LogCore, before: number, filter: unknown) {
  // The filter may narrow the range from below; `before` is always the upper bound.
  const conditions = core.conditions(ROOT_SCOPE, filter as FilterInput | undefined);
  const bounds = timeBounds(conditions);
  return withTimeRange(conditions, bounds.gte, Math.min(before, bounds.lt ?? before));
}

/** Ad-hoc prunes, each run as a job (`log.prune`, `log.jobs.prune`). @internal */
export function createPrune(core: LogCore, jobs: ReturnType<typeof createJobs>) {
  const retention = core.options.retention;
  // Built on first use: a store's capabilities may only be known once it has migrated (MySQL).
  let schema: ReturnType<typeof batchedPassSchema> | undefined;
  async function pruneJob(input: PruneJobInput): Promise<JobInfo> {
    core.assertOpen();
    await core.ready();
    schema ??= batchedPassSchema(retention?.batchSize ?? core.store.capabilities.deleteBatchSize, retention?.pauseMs ?? 5);
    const { before, batchSize, pauseMs, filter, signal, dryRun, archive } = parseInput(schema, input);
    const where = passConditions(core, before, filter);
    return jobs.runAdHoc(
      { kind: 'delete', name: 'prune', before, segments: [where], fields: null, batchSize, pauseMs, dryRun: dryRun === true },
      archive as ArchiveOptions | undefined,
      signal,
    );
  }
  return {
    pruneJob,
    /** Deletes old events in bounded batches, pausing between them so writers get the database. */
    prune: async (input: PruneInput): Promise<number> => (await pruneJob(input)).processed,
  };
}
