import type { ColumnType } from '../schema/fields.js';
import type { ChainStore } from './chain-contract.js';

/** A column the store must hold, derived by the core from canonical fields, dimensions and metrics. */
export interface StoreColumn {
  readonly name: string;
  readonly type: ColumnType;
  /** For `string` columns: the longest value the core will ever write. */
  readonly maxLength: number | undefined;
  readonly nullable: boolean;
  readonly kind: 'canonical' | 'dimension' | 'metric';
}

/** An index the store must hold, with its columns in this exact order. */
export interface IndexSpec {
  /** Name without the table prefix; stores prefix it. */
  readonly name: string;
  readonly columns: readonly string[];
}

/**
 * The rollup tables the core asks for (docs/rollups.md): one base table keyed by time bucket,
 * tenant, type, category and outcome, plus one per marked dimension with that dimension added.
 */
export interface RollupSpec {
  /**
   * Columns with a table of their own: dimensions marked `rollup: true`, then the envelope fields
   * named in `rollupFields` (by column: `ip`). A store treats both alike.
   */
  readonly dimensions: readonly string[];
  /** Metric columns whose sums every rollup table keeps. */
  readonly metrics: readonly string[];
}

/** The table layout the core needs, passed to {@link EventStore.migrate}. */
export interface StoreSchema {
  readonly version: number;
  readonly columns: readonly StoreColumn[];
  readonly indexes: readonly IndexSpec[];
  /** Rollup tables to keep; a store without rollups ignores it. */
  readonly rollups?: RollupSpec;
}

/** Progress of a rollup backfill or rebuild, one call per finished chunk. */
export interface RollupProgress {
  /** The rollup table: `base`, or the marked dimension's or rollup field's column name. */
  readonly table: string;
  /** Chunks (UTC days of events) done so far in this table. */
  readonly done: number;
  /** Chunks this table needs in all. */
  readonly total: number;
}

/** Options of {@link EventStore.migrate}. */
export interface MigrateOptions {
  /** Told after each chunk of a rollup backfill. */
  readonly onProgress?: (progress: RollupProgress) => void;
}

/** Whole rollup buckets of one grain (bucket width in ms) whose start lies in `[gte, lt)`; an absent bound is open. */
export interface RollupSpan {
  readonly grain: number;
  readonly gte?: number;
  readonly lt?: number;
}

/**
 * Input of {@link EventStore.aggregateRollups}: an aggregate answered from rollup rows for the
 * whole buckets (`spans`) plus raw event rows for the partial ones (`edges`), in one answer.
 */
export interface RollupQuery {
  /** The marked dimension or rollup field (`ip`) whose table answers, or null for the base table. */
  readonly dimension: string | null;
  /**
   * Conditions on `tenant_id`, `type`, `category`, `outcome` and `dimension` only (never on time):
   * applied to rollup rows and edge rows alike.
   */
  readonly where: readonly Condition[];
  /**
   * Rollup buckets to read; disjoint, and together with `edges` they cover the range exactly once
   * (less `minus`, which they cover too).
   */
  readonly spans: readonly RollupSpan[];
  /** Raw-row time ranges `[gte, lt)` read from the events table. */
  readonly edges: readonly { readonly gte: number; readonly lt: number }[];
  /**
   * Raw-row time ranges `[gte, lt)` whose rows are subtracted (counted -1, metrics negated): the
   * parts of `spans`' buckets outside the range, read instead of an edge when they hold fewer
   * events (a range ending now reads its current hour from the rollups, minus the rest of the hour
   * to come). Disjoint from `edges`; each lies in a bucket of `spans`. Absent unless the store
   * declares `capabilities.rollupMinus`.
   */
  readonly minus?: readonly { readonly gte: number; readonly lt: number }[];
  /** As in {@link AggregateQuery}; a `timeStepMs` is a multiple of every grain in `spans`. */
  readonly groupBy?: GroupBy;
  readonly sum: readonly string[];
  readonly orderBy?: AggregateQuery['orderBy'];
  readonly limit?: number;
}

/** A scalar value in a stored row. */
export type RowValue = string | number | null;

/**
 * A row as the core writes it: column name → value, `data` already serialised to JSON text.
 * `id` is absent on insert.
 */
export type EventRow = Record<string, RowValue>;

/**
 * A row as a store returns it: numbers MUST be JS numbers (never strings or bigints) and `data`
 * MUST be JSON text equal to what `JSON.stringify` gives for the stored value (null when the row
 * has none), never a value the driver parsed: a parsed JSON string cannot be told from JSON text.
 */
export type StoredRow = Record<string, unknown>;

/** A normalised filter condition. Column names come from the core's whitelist only. */
export type Condition =
  /** `column IN (values)`; `values` is never empty. */
  | { readonly op: 'in'; readonly column: string; readonly values: readonly (string | number)[] }
  /** `column IS NOT NULL`. */
  | { readonly op: 'notNull'; readonly column: string }
  /** Numeric bounds, each optional: `gte <= column < lt`, `gt`, `lte` likewise. */
  | {
      readonly op: 'range';
      readonly column: string;
      readonly gte?: number;
      readonly gt?: number;
      readonly lte?: number;
      readonly lt?: number;
    }
  /**
   * Case-insensitive substring match of `term` in any of `columns`. `term` is raw user text: the
   * store MUST escape its own wildcard characters (`%`, `_`, the escape character).
   */
  | { readonly op: 'search'; readonly columns: readonly string[]; readonly term: string }
  /**
   * Holds when `conditions` do not all hold; a condition that is unknown for the row (a NULL
   * column) counts as not holding, so `not` of `in` on a NULL column is true. Retention policies use
   * it to leave the rows of other policies alone.
   */
  | { readonly op: 'not'; readonly conditions: readonly Condition[] };

/** Sort direction. */
export type SortDirection = 'asc' | 'desc';

/**
 * What every read of the contract may carry besides its conditions. A store MAY honour `signal`:
 * when it aborts, a store that can SHOULD cancel the running statement on the server and reject;
 * one that cannot (an embedded, synchronous engine) lets the statement finish. The core checks the
 * signal before and after every store call and between export chunks, and rejects with `ABORTED`
 * whatever the store did, so honouring it only frees the server sooner.
 */
export interface StoreReadOptions {
  readonly signal?: AbortSignal;
}

/** Input of {@link EventStore.find}. */
export interface FindQuery extends StoreReadOptions {
  /** All conditions must hold (AND). */
  readonly where: readonly Condition[];
  /** Primary order; the store MUST break ties by `id` in the same direction. */
  readonly orderBy: { readonly column: string; readonly direction: SortDirection };
  readonly limit: number;
  readonly offset?: number;
  /**
   * Keyset position: return only rows strictly after `(value, id)` in the sort order. Only used
   * with non-null sort columns (`time`, `id`).
   */
  readonly after?: { readonly value: number; readonly id: number };
  /**
   * Columns the caller reads (exports); every column when absent. A store MAY return more, and
   * MUST include `id` and the order column.
   */
  readonly columns?: readonly string[];
}

/** Input of {@link EventStore.stream}: a find without paging, in batches of `batchSize` rows. */
export interface StreamQuery extends StoreReadOptions {
  readonly where: readonly Condition[];
  readonly orderBy: FindQuery['orderBy'];
  /** At most this many rows in all; every matching row when absent. */
  readonly limit?: number;
  /** Largest batch the iterator yields. */
  readonly batchSize: number;
  /** As in {@link FindQuery.columns}. */
  readonly columns?: readonly string[];
}

/** How {@link EventStore.aggregate} groups rows. */
export type GroupBy =
  /** By the value of one column; null values form their own group unless excluded by `where`. */
  | { readonly column: string }
  /** By `floor(time / stepMs) * stepMs`, the UTC-aligned start of each step. */
  | { readonly timeStepMs: number };

/** Input of {@link EventStore.aggregate}. */
export interface AggregateQuery extends StoreReadOptions {
  readonly where: readonly Condition[];
  readonly groupBy?: GroupBy;
  /** Metric columns to sum; a sum over no rows or only nulls is 0. */
  readonly sum: readonly string[];
  /** Order of groups: by row count or by one summed column. Without it, order is unspecified. */
  readonly orderBy?: { readonly by: 'count' | string; readonly direction: SortDirection };
  readonly limit?: number;
}

/** One group of an aggregate. `key` is absent without `groupBy`. */
export interface AggregateRow {
  readonly key?: string | number | null;
  readonly count: number;
  readonly sums: Readonly<Record<string, number>>;
}

/** Input of {@link EventStore.delete}. */
export interface DeleteQuery {
  readonly where: readonly Condition[];
  /** At most this many rows, oldest `(time, id)` first. */
  readonly limit: number;
}

/**
 * An open session as a store keeps it. Field names are camelCase like the rest of the API; a store
 * maps them to its own column names (`sessionId` → `session_id`, …).
 */
export interface SessionRow {
  readonly sessionId: string;
  readonly type: string;
  readonly tenantId: string | null;
  readonly actorId: string | null;
  readonly targetType: string | null;
  readonly targetId: string | null;
  /** When the session opened, epoch ms. */
  readonly startedAt: number;
  /** The opening event, as JSON text (stores MAY return it parsed). */
  readonly event: unknown;
}

/** Input of {@link EventStore.listSessions}. */
export interface SessionQuery {
  /**
   * Conditions on the session columns, named as stored (`type`, `tenant_id`, `actor_id`,
   * `target_type`, `target_id`, `started_at`), like every other condition.
   */
  readonly where: readonly Condition[];
  readonly limit: number;
  readonly offset?: number;
}

/** What a store can do beyond the required contract, declared rather than discovered. */
export interface StoreCapabilities {
  /** `insert` returns the assigned ids in input order. */
  readonly returnsIds: boolean;
  /** `insert` stores all rows of a call or none (so `recordMany` is all-or-nothing). */
  readonly atomicInsert: boolean;
  /** Deletes take effect before `delete` resolves (false for engines with asynchronous mutations). */
  readonly synchronousDelete: boolean;
  /** `tryLock` excludes other processes, not only this one. */
  readonly crossProcessLock: boolean;
  /** Largest number of bound parameters in one statement (stores that inline literals give their batch limit). */
  readonly maxParameters: number;
  /** A delete batch size that keeps writers responsive on this engine. */
  readonly deleteBatchSize: number;
  /**
   * `aggregateRollups` subtracts the raw rows of {@link RollupQuery.minus}; the core sends `minus`
   * only to stores that declare it. @default false
   */
  readonly rollupMinus?: boolean;
}

/** State of a retention job. */
export type JobStatus = 'pending' | 'running' | 'succeeded' | 'failed' | 'cancelled';

/** A job as a store keeps it; `state` is JSON text owned by the core, stored and returned verbatim. */
export interface JobRow {
  /** Unique id (the core's UUID). */
  readonly id: string;
  /** Policy name, or `prune` / `expireData` for ad-hoc jobs. */
  readonly name: string;
  /** `delete` or `expireData`. */
  readonly kind: string;
  readonly status: JobStatus;
  /** Epoch ms. */
  readonly createdAt: number;
  /** Epoch ms. */
  readonly updatedAt: number;
  /** Set by {@link JobStore.requestCancel}; only that call writes it. */
  readonly cancelRequested: boolean;
  /** The core's JSON text: spec, counters, archive record. */
  readonly state: string;
}

/** Input of {@link JobStore.list}. */
export interface JobQuery {
  /** Only jobs of this name. */
  readonly name?: string;
  /** Only jobs in one of these states; every state when absent. */
  readonly status?: readonly JobStatus[];
  readonly limit: number;
  readonly offset?: number;
}

/** The jobs table: the history and resumable state of retention jobs, in the events' database. */
export interface JobStore {
  /** Inserts a new job; MUST reject when the id exists. */
  create(row: JobRow): Promise<void>;
  /**
   * Writes `status`, `updatedAt` and `state` of an existing job. MUST NOT change
   * `cancelRequested`, so a cancel requested meanwhile (from any process) is never lost.
   */
  update(row: Pick<JobRow, 'id' | 'status' | 'updatedAt' | 'state'>): Promise<void>;
  /**
   * Sets `cancelRequested` on a job that is `pending` or `running`; resolves whether it did
   * (false for an unknown or finished job).
   */
  requestCancel(id: string): Promise<boolean>;
  /** One job, or null. */
  get(id: string): Promise<JobRow | null>;
  /** Jobs newest first (`createdAt` desc, then `id` desc). */
  list(query: JobQuery): Promise<JobRow[]>;
}

/** Releases a lock taken with {@link EventStore.tryLock}. */
export type ReleaseLock = () => Promise<void>;

/**
 * The contract every store implements. The core only ever passes normalised input: column names
 * from its own whitelist, validated values, decoded cursors.
 *
 * Required members are marked by their MUST rules; the two optional ones (`tryLock`,
 * `isTransientError`) MAY be left out, and the core then supplies a default:
 * - without `tryLock`, locks exclude other callers in this process only (so two processes MAY both
 *   run retention; the deletes stay correct, only the work is doubled), and
 *   `capabilities.crossProcessLock` MUST be false;
 * - without `isTransientError`, no error is retried by the write buffer.
 */
export interface EventStore {
  /** Engine name used in errors and benchmarks, e.g. `sqlite`. */
  readonly engine: string;
  /** What the store can do beyond the required contract. */
  readonly capabilities: StoreCapabilities;
  /**
   * Brings the tables to `schema`: MUST be idempotent, MUST be safe when several processes call it
   * at once, MUST add missing columns and MUST recreate indexes whose columns differ.
   */
  migrate(schema: StoreSchema, options?: MigrateOptions): Promise<void>;
  /**
   * Stores rows; MUST be atomic when `capabilities.atomicInsert`, and MUST return ids in input
   * order when `capabilities.returnsIds` (otherwise an empty array).
   */
  insert(rows: readonly EventRow[]): Promise<number[]>;
  /**
   * Rows matching the query in its order; MUST break ties by `id` in the sort direction. MAY honour
   * `query.signal` (see {@link StoreReadOptions}).
   */
  find(query: FindQuery): Promise<StoredRow[]>;
  /**
   * Every row matching the query, in its order, streamed from one query in batches of at most
   * `batchSize` rows, pulled one at a time (the store reads no further ahead than its driver's
   * buffer while the consumer is busy: back-pressure). Same rows, order and shapes as `find`
   * would return page by page; `limit` bounds the total, `offset` and `after` are not used. MUST
   * stop reading and release the query when the consumer stops iterating (`return()`), and SHOULD
   * cancel it when `query.signal` aborts. MAY be absent: exports then page through `find`.
   */
  stream?(query: StreamQuery): AsyncIterable<StoredRow[]>;
  /** Number of rows matching every condition; MUST be a JS number. MAY honour `options.signal` (see {@link StoreReadOptions}). */
  count(where: readonly Condition[], options?: StoreReadOptions): Promise<number>;
  /** Counts and sums, optionally grouped. Counts and sums MUST be JS numbers. */
  aggregate(query: AggregateQuery): Promise<AggregateRow[]>;
  /**
   * Deletes up to `limit` matching rows, oldest first, and returns how many it deleted. A store
   * MAY delete more in one call when it can drop whole partitions without holding writers (the
   * count MUST then be the true one); the core keeps calling while a call deletes `limit` or more.
   */
  delete(query: DeleteQuery): Promise<number>;
  /** Inserts or replaces an open session; a second open under the same id MUST replace the first. */
  openSession(row: SessionRow): Promise<void>;
  /**
   * Removes an open session and returns it, or null when none is open under that id. Concurrent
   * closers in one process MUST see the session once; across processes only when the engine has
   * transactions (the SQL stores do).
   */
  closeSession(sessionId: string): Promise<SessionRow | null>;
  /** Open sessions, oldest first (by `startedAt`, then `sessionId`). */
  listSessions(query: SessionQuery): Promise<SessionRow[]>;
  /**
   * Takes a named lock for at most `ttlMs` without waiting; MUST resolve null when another holder
   * has it. MUST exclude other processes when `capabilities.crossProcessLock`. MAY be absent: the
   * core then uses an in-process lock.
   */
  tryLock?(name: string, ttlMs: number): Promise<ReleaseLock | null>;
  /**
   * Whether an error thrown by this store is worth retrying (dropped connection, deadlock, busy);
   * MUST NOT throw. MAY be absent: the core then treats every error as permanent.
   */
  isTransientError?(error: unknown): boolean;
  /**
   * While the store would rather the next insert of `rows` rows wait (SQLite: a checkpoint is
   * copying its WAL on another thread), a promise that resolves when it may go on; otherwise
   * `undefined`. MUST NOT reject. The core's write path awaits it before each batch, so that how long
   * an insert holds the event loop is measured without the wait. A store SHOULD scale the wait with
   * `rows`: a single event written alongside a busy job must not wait as long as a bulk batch.
   * MAY be absent: the core then never waits.
   */
  writeReady?(rows: number): Promise<void> | undefined;
  /**
   * Removes the `data` payload (`fields` null: `data` becomes NULL) or the listed paths of it
   * (`fields`: dot-separated keys such as `user.email`, each segment letters, digits, `_` or `-`)
   * from up to `limit` rows matching `where`, oldest `(time, id)` first, and returns how many rows
   * it changed. MUST only pick rows that still hold something to remove, so that repeated calls
   * end; MUST NOT change any other column. MAY be absent: `log.expireData()` then rejects with
   * `UNSUPPORTED`.
   */
  redactData?(query: { readonly where: readonly Condition[]; readonly limit: number }, fields: readonly string[] | null): Promise<number>;
  /**
   * Hash-chained appends and signed checkpoints (tamper evidence, `storage/chain-contract.ts`). MAY
   * be absent: `integrity` options then fail with `UNSUPPORTED`.
   */
  readonly chain?: ChainStore;
  /**
   * The jobs table (migration version 4), so retention jobs are observable, resumable by another
   * process and cancellable from anywhere. MAY be absent: jobs are then kept in this process only
   * (no resume after a restart, no cross-process cancel).
   */
  readonly jobs?: JobStore;
  /**
   * Answers an aggregate from rollup rows plus raw edge rows. MUST equal {@link aggregate} over the
   * same rows (groups whose count is 0 are left out), MUST resolve null when it cannot answer (the
   * table is not built or still backfilling) so the core asks {@link aggregate} instead. A store
   * that keeps rollups MUST update them in the transaction of every insert and delete. MAY be
   * absent: the core then answers everything from raw rows.
   */
  aggregateRollups?(query: RollupQuery): Promise<AggregateRow[] | null>;
  /** Recomputes every rollup table from the events, resumably, reporting each chunk. MAY be absent. */
  rebuildRollups?(options?: MigrateOptions): Promise<void>;
  /** Releases what the store created; MUST NOT close a client the host passed in. */
  close(): Promise<void>;
}

/**
 * The former name of the store contract, as it was: an {@link EventStore} that implements the
 * optional members too (every store shipped with eventlog does), so code written against it keeps
 * calling `tryLock` and `isTransientError` directly.
 * @deprecated Use {@link EventStore}; this alias will be removed in a future major version.
 */
export type StorageAdapter = EventStore & Required<Pick<EventStore, 'tryLock' | 'isTransientError'>>;
