import {
  type AggregateQuery,
  type AggregateRow,
  type Condition,
  createMemoryJobStore,
  type DeleteQuery,
  type EventRow,
  type FindQuery,
  matchesConditions,
  type ReleaseLock,
  type RowValue,
  type SessionQuery,
  type SessionRow,
  type SortDirection,
  type StorageAdapter,
  type StoreCapabilities,
  type StoreColumn,
  type StoredRow,
  type StoreSchema,
  toSessionColumns,
} from '@eventlog/core';
import { type Lease, takeLease } from '../shared/lease.js';

/** A memory store: the storage contract on plain arrays and maps, for tests, demos and as a reference. */
export interface MemoryStore extends StorageAdapter {
  /** Number of stored events (a cheap check for tests). */
  readonly size: number;
}

/** A stored event row: every column of the schema, `id` included. */
type Row = Record<string, RowValue>;

/**
 * Creates a store that keeps events, sessions and locks in this process's memory. It is the
 * reference implementation of the storage contract: each method below states the guarantee it
 * gives and how, in the simplest code that gives it, and the store passes the whole conformance
 * suite. Data lives as long as the store: nothing is persisted, and other processes do not see it.
 *
 * @example
 * ```ts
 * import { createEventLog } from '@eventlog/core';
 * import { createMemoryStore } from '@eventlog/adapters/memory';
 * const log = createEventLog({ store: createMemoryStore() });
 * await log.record({ type: 'app.started' });
 * console.log(await log.count()); // 1
 * await log.close();
 * ```
 */
export function createMemoryStore(): MemoryStore {
  /** Events in id order, which is also insertion order. */
  let rows: Row[] = [];
  let nextId = 1;
  /** The columns `migrate` was given, by name (`id` excluded: the store assigns it). */
  const columns = new Map<string, StoreColumn>();
  const sessions = new Map<string, SessionRow>();
  const locks = new Map<string, Lease>();
  let closed = false;

  const open = () => {
    if (closed) throw new Error('The memory store is closed.');
  };

  const store: MemoryStore = {
    engine: 'memory',

    capabilities: {
      // Ids are assigned in `insert`, so they are known when it returns.
      returnsIds: true,
      // Every row is checked before any is added, so a batch is stored whole or not at all.
      atomicInsert: true,
      // A delete is a synchronous array filter.
      synchronousDelete: true,
      // The data lives in one process: no other process can ask for the lock.
      crossProcessLock: false,
      // Nothing is bound: the core may hand any number of rows to one call.
      maxParameters: Number.MAX_SAFE_INTEGER,
      // A delete never blocks writers for longer than it takes to filter the array once.
      deleteBatchSize: 10_000,
    } satisfies StoreCapabilities,

    get size() {
      return rows.length;
    },

    /**
     * Idempotent and additive: a column already known is kept, a new one is added, and existing
     * rows read it as null. There are no indexes to recreate (every read scans the array), and a
     * single-threaded process cannot run two migrations at once.
     */
    async migrate(schema: StoreSchema) {
      open();
      for (const column of schema.columns) {
        if (column.name === 'id' || columns.has(column.name)) continue;
        columns.set(column.name, column);
        for (const row of rows) row[column.name] = null;
      }
    },

    /**
     * Atomic: every row is checked against the schema's non-null columns before any is stored.
     * Returns the assigned ids in input order. Rows are copied, so the caller may reuse its objects.
     */
    async insert(input: readonly EventRow[]) {
      open();
      for (const [i, row] of input.entries()) {
        for (const column of columns.values()) {
          if (!column.nullable && (row[column.name] === null || row[column.name] === undefined)) {
            throw new TypeError(`Row ${i} has no value for the non-null column "${column.name}".`);
          }
        }
      }
      const ids: number[] = [];
      for (const row of input) {
        const stored: Row = { id: nextId++ };
        for (const name of columns.keys()) stored[name] = row[name] ?? null;
        rows.push(stored);
        ids.push(stored.id as number);
      }
      return ids;
    },

    /**
     * Matching rows in `(orderBy.column, id)` order, ties broken by `id` in the same direction, NULLs
     * sorting as the smallest value (as SQLite and MySQL do); `after` is a strict keyset position.
     * Numbers stay numbers and `data` is the JSON text the core wrote.
     */
    async find(query: FindQuery) {
      open();
      const { column, direction } = query.orderBy;
      let found = rows.filter((row) => matchesConditions(row, query.where));
      if (query.after) {
        const { value, id } = query.after;
        found = found.filter((row) => compareKeys(row[column] ?? null, row.id as number, value, id, direction) > 0);
      }
      found.sort((a, b) => compareKeys(a[column] ?? null, a.id as number, b[column] ?? null, b.id as number, direction));
      const start = query.offset ?? 0;
      const page = found.slice(start, start + query.limit);
      const wanted = query.columns ? new Set(['id', column, ...query.columns]) : undefined;
      return page.map((row): StoredRow => (wanted ? pick(row, wanted) : { ...row }));
    },

    async count(where: readonly Condition[]) {
      open();
      let n = 0;
      for (const row of rows) if (matchesConditions(row, where)) n++;
      return n;
    },

    /**
     * Counts and sums as JS numbers; a sum over no rows or only nulls is 0. Groups by a column's
     * value (null is its own group) or by `floor(time / step) * step`.
     */
    async aggregate(query: AggregateQuery) {
      open();
      const groups = new Map<RowValue, { count: number; sums: Record<string, number> }>();
      const groupBy = query.groupBy;
      for (const row of rows) {
        if (!matchesConditions(row, query.where)) continue;
        const key =
          groupBy === undefined
            ? null
            : 'column' in groupBy
              ? (row[groupBy.column] ?? null)
              : Math.floor((row.time as number) / groupBy.timeStepMs) * groupBy.timeStepMs;
        let group = groups.get(key);
        if (!group) {
          group = { count: 0, sums: Object.fromEntries(query.sum.map((m) => [m, 0])) };
          groups.set(key, group);
        }
        group.count++;
        for (const metric of query.sum) {
          const value = row[metric];
          if (typeof value === 'number') group.sums[metric] = (group.sums[metric] as number) + value;
        }
      }
      if (groupBy === undefined && groups.size === 0) {
        groups.set(null, { count: 0, sums: Object.fromEntries(query.sum.map((m) => [m, 0])) });
      }
      let result: AggregateRow[] = [...groups].map(([key, group]) => (groupBy === undefined ? group : { key, ...group }));
      const order = query.orderBy;
      if (order) {
        const measure = (r: AggregateRow) => (order.by === 'count' || !(order.by in r.sums) ? r.count : (r.sums[order.by] as number));
        result.sort(
          (a, b) => (order.direction === 'asc' ? 1 : -1) * (measure(a) - measure(b)) || compareValues(a.key ?? null, b.key ?? null),
        );
      }
      if (query.limit !== undefined) result = result.slice(0, query.limit);
      return result;
    },

    /**
     * Removes `data` (or the given paths of it) from at most `limit` matching rows that still hold
     * any of it, oldest `(time, id)` first, and returns how many rows changed.
     */
    async redactData(query: { readonly where: readonly Condition[]; readonly limit: number }, fields: readonly string[] | null) {
      open();
      const paths = fields?.map((field) => field.split('.'));
      const holds = (row: Row) =>
        typeof row.data === 'string' && (!paths || paths.some((path) => removePath(JSON.parse(row.data as string), path, false)));
      const chosen = rows
        .filter((row) => matchesConditions(row, query.where) && holds(row))
        .sort((a, b) => compareKeys(a.time ?? null, a.id as number, b.time ?? null, b.id as number, 'asc'))
        .slice(0, query.limit);
      for (const row of chosen) {
        if (!paths) {
          row.data = null;
          continue;
        }
        const value: unknown = JSON.parse(row.data as string);
        for (const path of paths) removePath(value, path, true);
        row.data = JSON.stringify(value);
      }
      return chosen.length;
    },

    /** Deletes at most `limit` matching rows, oldest `(time, id)` first, and returns the true count. */
    async delete(query: DeleteQuery) {
      open();
      const doomed = rows
        .filter((row) => matchesConditions(row, query.where))
        .sort((a, b) => compareKeys(a.time ?? null, a.id as number, b.time ?? null, b.id as number, 'asc'))
        .slice(0, query.limit);
      if (doomed.length === 0) return 0;
      const gone = new Set(doomed);
      rows = rows.filter((row) => !gone.has(row));
      return doomed.length;
    },

    /** Inserts or replaces the session under its id. */
    async openSession(row: SessionRow) {
      open();
      sessions.set(row.sessionId, { ...row });
    },

    /**
     * Removes and returns the session. The read and the delete happen in one synchronous step, so
     * of several concurrent closers exactly one sees the session.
     */
    async closeSession(sessionId: string) {
      open();
      const row = sessions.get(sessionId);
      if (!row) return null;
      sessions.delete(sessionId);
      return row;
    },

    /** Open sessions matching the conditions, oldest first (ties by session id). */
    async listSessions(query: SessionQuery) {
      open();
      const start = query.offset ?? 0;
      return [...sessions.values()]
        .filter((s) => matchesConditions(toSessionColumns(s) as unknown as EventRow, query.where))
        .sort((a, b) => a.startedAt - b.startedAt || compareValues(a.sessionId, b.sessionId))
        .slice(start, start + query.limit)
        .map((s) => ({ ...s }));
    },

    /** Takes the named lock unless another holder's lease is still running (see `shared/lease.ts`). */
    async tryLock(name: string, ttlMs: number): Promise<ReleaseLock | null> {
      open();
      return takeLease(locks, name, ttlMs);
    },

    /** Nothing here fails for a reason that a retry would fix. */
    isTransientError: () => false,

    /** Retention jobs, in this process's memory like the events. */
    jobs: createMemoryJobStore(),

    /** Drops the data; the store owns no client, so there is nothing of the host's to leave open. */
    async close() {
      closed = true;
      rows = [];
      sessions.clear();
      locks.clear();
    },
  };
  return store;
}

/** Orders values as the SQL stores do: NULL first, numbers numerically, strings by code unit. */
function compareValues(a: RowValue | undefined, b: RowValue | undefined): number {
  if (a === b) return 0;
  if (a === null || a === undefined) return -1;
  if (b === null || b === undefined) return 1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const x = String(a);
  const y = String(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Compares two `(value, id)` keys in the given direction; `id` breaks ties in the same direction. */
function compareKeys(a: RowValue, aId: number, b: RowValue, bId: number, direction: SortDirection): number {
  const order = compareValues(a, b) || aId - bId;
  return direction === 'asc' ? order : -order;
}

function pick(row: Row, wanted: ReadonlySet<string>): StoredRow {
  const out: StoredRow = {};
  for (const name of wanted) if (name in row) out[name] = row[name];
  return out;
}

/** Whether `path` (object keys) exists in a parsed payload; deletes it when `remove`. */
function removePath(value: unknown, path: readonly string[], remove: boolean): boolean {
  let node = value;
  for (let i = 0; i < path.length; i++) {
    if (node === null || typeof node !== 'object' || Array.isArray(node) || !Object.hasOwn(node, path[i] as string)) return false;
    if (i === path.length - 1) {
      if (remove) delete (node as Record<string, unknown>)[path[i] as string];
      return true;
    }
    node = (node as Record<string, unknown>)[path[i] as string];
  }
  return false;
}
