import type { DeleteQuery, FilterInput } from '@eventlog/core';
import type { CliContext } from '../context.js';
import { CliError } from '../errors.js';
import { createProgress, type ProgressMode } from '../progress.js';

/** Options of {@link pruneEvents}. */
export interface PruneOptions {
  before: number;
  filter: FilterInput;
  dryRun: boolean;
  batchSize?: number;
  pauseMs?: number;
  progress: ProgressMode;
  signal: AbortSignal;
}

/** The filter `prune` deletes: the given filter, with `before` as the upper time bound. */
export function pruneFilter(before: number, filter: FilterInput): FilterInput {
  const until = filter.until === undefined ? before : Math.min(before, Number(filter.until));
  return { ...filter, until };
}

/**
 * Deletes the matching events older than `before` in bounded batches (writers get the database
 * between them), holding the store's retention lock so two prunes or a prune and the library's
 * scheduled retention never run at once. A dry run counts the same selection and deletes nothing.
 */
export async function pruneEvents(ctx: CliContext, options: PruneOptions): Promise<{ count: number; total: number; interrupted: boolean }> {
  const { log, store } = ctx;
  const total = await log.count(pruneFilter(options.before, options.filter));
  if (options.dryRun) return { count: total, total, interrupted: false };
  const release = await store.tryLock('retention', 10 * 60_000);
  if (!release) throw new CliError('Another prune or retention run holds the lock on this store; try again when it has finished.');
  const progress = createProgress({ label: 'prune', unit: 'count', itemName: undefined, total, mode: options.progress });
  // Counting what each delete batch removes gives the progress without extra queries.
  const original = store.delete.bind(store);
  let deleted = 0;
  store.delete = async (query: DeleteQuery) => {
    const n = await original(query);
    deleted += n;
    progress.update(Math.min(deleted, total));
    return n;
  };
  try {
    const count = await log.prune({
      before: options.before,
      filter: options.filter,
      signal: options.signal,
      ...(options.batchSize ? { batchSize: options.batchSize } : {}),
      ...(options.pauseMs !== undefined ? { pauseMs: options.pauseMs } : {}),
    });
    return { count, total, interrupted: options.signal.aborted };
  } finally {
    store.delete = original;
    progress.stop();
    await release();
  }
}
