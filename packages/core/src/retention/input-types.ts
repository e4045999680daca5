import type { FilterInput, TimeInput } from '../filter/filter.js';

/** Input of `log.prune()`. */
export interface PruneInput {
  /** Delete events strictly older than this. */
  before: TimeInput;
  /** Only events that also match this filter. */
  filter?: FilterInput;
  /** Rows per delete batch. @default the store's `deleteBatchSize` */
  batchSize?: number;
  /** Pause between batches. @default 5 */
  pauseMs?: number;
  /** Stops between batches when aborted; the rows deleted so far stay deleted. */
  signal?: AbortSignal;
  /** Count what would be deleted and delete nothing (the result is then 0; the count is in `log.jobs`). */
  dryRun?: boolean;
}

/** What `log.expireData()` removes, and from which events. */
export interface ExpireDataInput {
  /** Only events strictly older than this. */
  before: TimeInput;
  /** Only events that also match this filter. */
  filter?: FilterInput;
  /**
   * Paths into `data` to remove, such as `data.user.email` or `data.headers`; without them the
   * whole payload is removed (stored as no payload). @default the whole payload
   */
  fields?: readonly string[];
  /** Rows per update batch. @default the store's `deleteBatchSize` */
  batchSize?: number;
  /** Pause between batches so writers get the database. @default 5 */
  pauseMs?: number;
  /** Stops between batches when aborted; the rows changed so far stay changed. */
  signal?: AbortSignal;
  /** Count the events selected and change nothing (the count is in `log.jobs`). */
  dryRun?: boolean;
}
