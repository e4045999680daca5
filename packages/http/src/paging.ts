import type { EventLogReader, FilterInput, SortInput, StoredEvent } from '@eventlog/core';

/** Input of {@link queryOffset}. */
export interface OffsetQueryInput {
  filter?: FilterInput;
  sort?: SortInput;
  /** Rows to return (1 … the log's `maxPageSize`). */
  limit: number;
  /** Rows to skip (0 … the log's `maxOffset`). */
  offset: number;
}

/**
 * Reads `limit` rows starting at any `offset` through the core's numbered pages, for wire formats
 * that page by limit/offset (XUI, the proxy API). The window spans at most two pages of size
 * `limit`, so this costs at most two page queries; limits and scoping stay the core's.
 *
 * @example
 * ```ts
 * import { createEventLog } from '@eventlog/core';
 * import { createSqliteStore } from '@eventlog/adapters/sqlite';
 * import { queryOffset } from '@eventlog/http';
 * const log = createEventLog({ store: createSqliteStore() });
 * const { items, total } = await queryOffset(log, { limit: 100, offset: 250 });
 * ```
 */
export async function queryOffset(reader: EventLogReader, input: OffsetQueryInput): Promise<{ items: StoredEvent[]; total: number }> {
  const { limit, offset } = input;
  const page = Math.floor(offset / limit) + 1;
  const skip = offset % limit;
  const base = { ...(input.filter ? { filter: input.filter } : {}), ...(input.sort ? { sort: input.sort } : {}), pageSize: limit };
  const first = await reader.query({ ...base, page });
  if (skip === 0 || first.items.length < limit) return { items: first.items.slice(skip, skip + limit), total: first.total };
  const second = await reader.query({ ...base, page: page + 1 });
  return { items: [...first.items.slice(skip), ...second.items.slice(0, skip)], total: first.total };
}
