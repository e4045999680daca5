import type { EventInput, StorageAdapter, StoreSchema } from '@eventlog/core';
import type { WorkloadId } from './workloads.js';

// What one engine contributes to the benchmark: how to build an eventlog store, and the raw
// driver doing the same work on an identical table with identical indexes. Workloads are written
// once against these interfaces; adding an engine means adding one module under engines/.

/** Where a store or raw table lives; plain JSON so a child process can reopen it. */
export type Location = Record<string, string>;

/** A required entry of a {@link Location}. */
export function locate(location: Location, key: string): string {
  const value = location[key];
  if (value === undefined) throw new Error(`location ${JSON.stringify(location)} has no "${key}"`);
  return value;
}

/** Facts every engine module receives. */
export interface EngineContext {
  /** A private temporary directory of this run (removed at the end). */
  readonly tmpDir: string;
  /** A short id unique to this run (letters and digits), for table names on shared servers. */
  readonly runId: string;
}

/** An eventlog store the benchmark created, and how to get rid of it. */
export interface StoreHandle {
  readonly store: StorageAdapter;
  readonly location: Location;
  /** Drops the store's tables or files; the store is closed by the event log. */
  drop(): Promise<void>;
}

/** One raw bulk-insert method, e.g. prepared statements in a transaction or COPY. */
export interface RawInsertMethod {
  readonly name: string;
  /** Inserts the events as one unit (transaction or statement set) of the given size. */
  insert(events: readonly EventInput[]): Promise<void>;
}

export interface PageParams {
  readonly tenantId: string;
  readonly type: string;
  readonly since: number;
  readonly until: number;
  readonly page: number;
  readonly pageSize: number;
}

export interface KeysetParams {
  readonly tenantId: string;
  readonly limit: number;
  /** Rows strictly after this (time, id) in descending order. */
  readonly after: { readonly time: number; readonly id: number };
}

export interface StatsParams {
  readonly tenantId: string;
  readonly since: number;
  readonly until: number;
  /** Start of the RPM/TPM window (now - 60 s). */
  readonly recentSince: number;
  readonly metrics: readonly string[];
  readonly tokenMetrics: readonly string[];
}

export interface TimelineParams {
  readonly tenantId: string;
  readonly since: number;
  readonly until: number;
  readonly stepMs: number;
  readonly metrics: readonly string[];
}

export interface TopParams {
  readonly column: string;
  readonly since: number;
  readonly limit: number;
  readonly metrics: readonly string[];
}

/** A raw result row of a grouped aggregate. */
export interface RawGroup {
  key: string | number;
  count: number;
  sums: Record<string, number>;
}

/** The raw driver on its own table: the physical limit eventlog is measured against. */
export interface RawHandle {
  readonly location: Location;
  /** Bulk-insert methods; ingest is compared with the fastest. */
  readonly insertMethods: readonly RawInsertMethod[];
  /** One autocommitted single-row insert (the concurrent writer during prune). */
  insertOne(event: EventInput): Promise<void>;
  count(): Promise<number>;
  page(params: PageParams): Promise<{ rows: Record<string, unknown>[]; total: number }>;
  keyset(params: KeysetParams): Promise<Record<string, unknown>[]>;
  stats(params: StatsParams): Promise<{ count: number; sums: Record<string, number>; rpm: number; tpm: number }>;
  /** Buckets of `stepMs` keyed by start time, with the empty ones filled. */
  timeline(params: TimelineParams): Promise<{ start: number; count: number; sums: Record<string, number> }[]>;
  top(params: TopParams): Promise<RawGroup[]>;
  /** Deletes up to `limit` rows older than `before`, oldest first. */
  pruneBatch(before: number, limit: number): Promise<number>;
  close(): Promise<void>;
  /** Removes the table or file. */
  drop(): Promise<void>;
}

/** A row sink for exports: resolves when the consumer has room again. */
export type Write = (chunk: string) => Promise<void> | void;

/**
 * What an engine may decline to compare: a workload, or `prune-writer`, the concurrent single-row
 * writer during prune (prune is then timed without writers on both sides).
 */
export type SkippableId = Exclude<WorkloadId, 'ingest-batch'> | 'prune-writer';

/** One engine: eventlog store factory plus the raw driver. */
export interface EngineModule {
  readonly name: string;
  /**
   * The raw table numbers its rows itself instead of sharing eventlog's ids (an engine without
   * auto-increment, where eventlog's store makes its own ids). Answers are then compared by row
   * content (time, type, message) rather than by id, the CSV exports without their id column, and
   * the raw side walks to the keyset position on its own.
   */
  readonly ownIds?: boolean;
  /**
   * What cannot be compared meaningfully with raw on this engine, each with the reason the run
   * prints instead of a figure.
   */
  readonly skip?: Readonly<Partial<Record<SkippableId, string>>>;
  /**
   * Refreshes the planner statistics of both tables after the bulk load, as autovacuum or a DBA
   * would before anyone queries them (a server may run with autovacuum off; see docs/benchmarks.md).
   */
  analyze?(store: Location, raw: Location): Promise<void>;
  /** null when the engine can run here, otherwise why not (missing store module, server down). */
  check(): Promise<string | null>;
  /** Creates a new, empty eventlog store under `slot`. */
  createStore(context: EngineContext, slot: string): Promise<StoreHandle>;
  /** Reopens a store created by {@link createStore} (in the export child process). */
  openStore(location: Location): Promise<StorageAdapter>;
  /** Creates the raw table under `slot` with the columns and indexes of `schema` (eventlog's layout). */
  createRaw(context: EngineContext, slot: string, schema: StoreSchema): Promise<RawHandle>;
  /**
   * Streams every raw row, newest first, as CSV with the given columns (in the export child
   * process). Returns the number of rows.
   */
  exportRaw(location: Location, schema: StoreSchema, write: Write): Promise<number>;
  /** Checks that the eventlog and raw tables have the same columns and indexes; returns the differences. */
  compareSchemas(store: Location, raw: Location): Promise<string[]>;
  /** Removes whatever the run left behind on a server (e.g. its schema), even after a failure. */
  cleanup?(context: EngineContext): Promise<void>;
}
