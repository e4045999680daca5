import type { EventStore, FindQuery, StoredRow } from '../storage/contract.js';

/**
 * From this offset on, a numbered or offset page is read in two steps (see {@link findWindow}).
 * Below it, skipping rows costs less than the extra round trip.
 */
export const SEEK_FROM_OFFSET = 1000;

type Find = (query: FindQuery) => Promise<StoredRow[]>;

/**
 * Reads `limit` rows after skipping `offset` of them, in the order `orderBy`. A deep window
 * (offset ≥ {@link SEEK_FROM_OFFSET}, sorted by `time` or `id`) is read by seeking: first the key
 * `(sort value, id)` of the row just before the window, asking for those two columns only, so the
 * engine can skip through an index without reading the skipped rows; then the window itself as a
 * keyset page strictly after that key, which an index answers directly. Both steps see the same
 * filter and tie-break, so the rows are the ones `OFFSET` would return. @internal
 */
export async function findWindow(
  find: Find,
  query: Omit<FindQuery, 'offset' | 'after'> & { readonly offset: number },
): Promise<StoredRow[]> {
  const { offset, ...rest } = query;
  const column = query.orderBy.column;
  if (offset < SEEK_FROM_OFFSET || (column !== 'time' && column !== 'id')) return find(offset ? { ...rest, offset } : rest);
  const [key] = await find({
    where: query.where,
    orderBy: query.orderBy,
    limit: 1,
    offset: offset - 1,
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
