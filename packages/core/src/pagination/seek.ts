import { timeBounds, withTimeRange } from '../filter/filter.js';
import type { Condition, EventStore, FindQuery, SortDirection, StoredRow } from '../storage/contract.js';

/**
 * From this offset on, a numbered or offset page is read in two steps (see {@link findWindow}).
 * Below it, skipping rows costs less than the extra round trip.
 */
export const SEEK_FROM_OFFSET = 1000;

type Find = (query: FindQuery) => Promise<StoredRow[]>;

/**
 * The number of rows of `where` in each `stepMs`-long UTC time bucket (`start`: the bucket's first
 * instant), or null when the log cannot tell without reading the rows (no rollups for that filter).
 * @internal
 */
export type BucketCounts = (where: readonly Condition[], stepMs: number) => Promise<{ start: number; count: number }[] | null>;

/** The bucket sizes a deep window is narrowed through, largest first: a day, then an hour (the rollup grains). */
const NARROWING_STEPS = [86_400_000, 3_600_000] as const;

/**
 * Narrows the search for the row at `position` (0-based, in `direction` order by time) to the hour
 * that holds it, from bucket counts: first the day, then the hour within it. Returns the narrowed
 * conditions and the row's position inside them; `empty` when fewer rows match; null when counts
 * are not available. Buckets split time exactly, so rows that tie in time share a bucket and the
 * order inside the narrowed range is the order of the whole.
 */
async function narrowToHour(
  counts: BucketCounts,
  where: readonly Condition[],
  position: number,
  direction: SortDirection,
): Promise<{ where: readonly Condition[]; position: number } | 'empty' | null> {
  let scope = where;
  let left = position;
  for (const step of NARROWING_STEPS) {
    const buckets = await counts(scope, step);
    if (!buckets) return null;
    buckets.sort((a, b) => (direction === 'desc' ? b.start - a.start : a.start - b.start));
    const bucket = buckets.find((b) => {
      if (left < b.count) return true;
      left -= b.count;
      return false;
    });
    if (!bucket) return 'empty';
    const bounds = timeBounds(scope);
    const end = bucket.start + step;
    scope = withTimeRange(scope, Math.max(bounds.gte ?? bucket.start, bucket.start), Math.min(bounds.lt ?? end, end));
  }
  return { where: scope, position: left };
}

/**
 * Reads `limit` rows after skipping `offset` of them, in the order `orderBy`. A deep window
 * (offset ≥ {@link SEEK_FROM_OFFSET}, sorted by `time` or `id`) is read by seeking: first the key
 * `(sort value, id)` of the row just before the window, asking for those two columns only, so the
 * engine can skip through an index without reading the skipped rows; then the window itself as a
 * keyset page strictly after that key, which an index answers directly. Both steps see the same
 * filter and tie-break, so the rows are the ones `OFFSET` would return.
 *
 * Skipping still walks `offset` index entries, and more when the filter is a list (SQLite sorts
 * each value's run). With `counts` (rollups), a window sorted by time first finds the day and then
 * the hour that holds the row before it, so the key is read with an offset inside that hour.
 * @internal
 */
export async function findWindow(
  find: Find,
  query: Omit<FindQuery, 'offset' | 'after'> & { readonly offset: number },
  counts?: BucketCounts,
): Promise<StoredRow[]> {
  const { offset, ...rest } = query;
  const column = query.orderBy.column;
  if (offset < SEEK_FROM_OFFSET || (column !== 'time' && column !== 'id')) return find(offset ? { ...rest, offset } : rest);
  let where = query.where;
  let position = offset - 1;
  if (counts && column === 'time') {
    const narrowed = await narrowToHour(counts, where, position, query.orderBy.direction);
    if (narrowed === 'empty') return [];
    if (narrowed) ({ where, position } = narrowed);
  }
  const [key] = await find({
    where,
    orderBy: query.orderBy,
    limit: 1,
    offset: position,
    columns: ['id', column],
    ...(query.signal ? { signal: query.signal } : {}),
  });
  if (!key) return [];
  return find({ ...rest, after: { value: Number(key[column]), id: Number(key.id) } });
}

/** The store's `find`, bound, for {@link findWindow}. @internal */
export const findOf =
  (store: EventStore): Find =>
  (query) =>
    store.find(query);
