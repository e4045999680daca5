import type { EventEmitter } from 'eventemitter3';
import type { z } from 'zod';
import type { ForbiddenError, ValidationIssue } from './errors.js';
import type { EventLogEvents } from './events.js';
import type { DEFAULT_CSV_FIELDS } from './export/csv.js';
import type { FilterInput, OneOrMany } from './filter/filter.js';
import type { IntegrityApi, VerifyInput } from './integrity/integrity.js';
import type { VerifyReport } from './integrity/verify.js';
import type { EventLogLimits } from './options.js';
import type { CursorQueryInput, OffsetQueryInput, PageQueryInput, QueryInput } from './pagination/query.js';
import type { ReadOptions } from './read/read-options.js';
import type { ExpireDataInput, PruneInput } from './retention/input-types.js';
import type { JobsApi } from './retention/job-types.js';
import type { EventInput, StoredEvent } from './schema/event.js';
import type { StringField } from './schema/fields.js';
import type { DimensionSpec, EventTypeMap, MetricSpec, Preset, SpecNames } from './schema/preset.js';
import type { Registry } from './schema/registry.js';
import type { Principal } from './scope/principal.js';
import type { SessionsApi, SessionsReader } from './sessions/session-types.js';
import type { Bucket, TimelinePoint } from './stats/timeline.js';
import type { EventStore, RollupProgress, SortDirection } from './storage/contract.js';

export type { ReadOptions } from './read/read-options.js';
export type { ExpireDataInput, PruneInput } from './retention/input-types.js';
export type {
  ClosedSession,
  OpenSession,
  SessionFilter,
  SessionListInput,
  SessionsApi,
  SessionsReader,
} from './sessions/session-types.js';

declare const dynamicNameBrand: unique symbol;

/**
 * A field, dimension or metric name known only at run time, accepted wherever a typed log checks
 * names at compile time. Make one with `dynamic(name)`; the log still checks it at run time and
 * rejects an unknown name with a `ValidationError`.
 *
 * @example
 * ```ts
 * import { dynamic, type DynamicName } from '@eventlog/core';
 * const column: DynamicName = dynamic(process.env.GROUP_BY ?? 'model_name');
 * console.log(column);
 * ```
 */
export type DynamicName = string & { readonly [dynamicNameBrand]: true };

/** True for `any`, which a plain `EventLog` (and the http package's `AnyEventLog`) carries. */
type IsAny<T> = 0 extends 1 & T ? true : false;

/** Canonical fields `query()` may sort on. */
export type SortableField = 'id' | 'time' | Exclude<StringField, 'userAgent'> | 'durationMs';

/** A sort field a log accepts: a sortable canonical field, a declared dimension or metric, or a {@link DynamicName}. */
export type SortField<D extends string = string, M extends string = string> = SortableField | D | M | DynamicName;

/** A field `top({ by })` groups on: a canonical string field, a declared dimension, or a {@link DynamicName}. */
export type TopField<D extends string = string> = StringField | D | DynamicName;

/** An export column by name: a canonical field, `data`, a declared dimension or metric, or a {@link DynamicName}. */
export type ExportColumnName<D extends string = string, M extends string = string> =
  | (typeof DEFAULT_CSV_FIELDS)[number]
  | 'data'
  | D
  | M
  | DynamicName;

/** A sort order whose field the compiler checks against a log's names. */
export interface TypedSortInput<D extends string = string, M extends string = string> {
  field: SortField<D, M>;
  /** @default 'desc' */
  direction?: SortDirection;
}

/** Event type names a read on a typed log may select: the registered names, or a {@link DynamicName}. */
export type TypeSelector<T extends EventTypeMap> = TypeName<T> | DynamicName;

/**
 * What a value becomes after a JSON round trip, as reads return `data` (stores keep it as JSON
 * text): a `Date` or anything with `toJSON` becomes what that returns, functions and symbols in
 * objects are dropped. For a JSON-safe schema this is exactly its output type.
 */
export type JsonOf<T> = unknown extends T
  ? T
  : T extends string | number | boolean | null | undefined
    ? T
    : T extends { toJSON(...args: never[]): infer J }
      ? JsonOf<J>
      : T extends readonly unknown[]
        ? { [I in keyof T]: JsonOf<T[I]> }
        : T extends Dropped
          ? never
          : { [P in keyof T as T[P] extends Dropped ? never : P]: JsonOf<T[P]> };

/** Values `JSON.stringify` leaves out of an object. */
type Dropped = ((...args: never[]) => unknown) | symbol;

/**
 * The event a read returns when it selects the type names `K`: one member per registered type,
 * with `data` typed by that type's schema (the JSON form of its output, see {@link JsonOf}). Selecting nothing, or a
 * {@link DynamicName}, gives the union of every registered type; a log without registered types
 * gives `StoredEvent` with `data: unknown`.
 */
export type EventOf<T extends EventTypeMap, K extends string = TypeName<T>> =
  IsAny<T> extends true
    ? StoredEvent
    : string extends TypeName<T>
      ? StoredEvent
      : K extends DynamicName
        ? EventOf<T>
        : K extends keyof T
          ? StoredEvent<K, JsonOf<z.output<T[K]>>>
          : StoredEvent<K, unknown>;

/** A query input with its filter and sort checked against a log's types and names. */
export type TypedQuery<Q, K extends string, D extends string, M extends string> = Omit<Q, 'filter' | 'sort'> & {
  filter?: FilterInput<K, D, M>;
  sort?: TypedSortInput<D, M>;
};

/** A numbered page. */
export interface PageResult<E = StoredEvent> {
  items: E[];
  total: number;
  page: number;
  pageSize: number;
  totalPages: number;
}

/** A window by offset. */
export interface OffsetResult<E = StoredEvent> {
  items: E[];
  total: number;
  offset: number;
  limit: number;
}

/** A keyset page. */
export interface CursorResult<E = StoredEvent> {
  items: E[];
  /** Pass back as `cursor` for the next page; null on the last page. */
  nextCursor: string | null;
}

/** Result of {@link EventLogReader.stats}. */
export interface Stats {
  /** Events matching the filter. */
  count: number;
  /** Sum of every declared metric over the matching events. */
  sums: Record<string, number>;
  /** Events matching the filter's non-time conditions in the last 60 s. */
  rpm: number;
  /** Sum of the token metrics over those events. */
  tpm: number;
}

/** Input of {@link EventLogReader.timeline}; the parameters are the names a typed log accepts. */
export interface TimelineInput<Type extends string = string, D extends string = string, M extends string = string> {
  filter?: FilterInput<Type, D, M>;
  /** @default 'hour' */
  bucket?: Bucket;
  /** IANA zone the buckets follow (DST-correct). @default 'UTC' */
  timeZone?: string;
  /** Metrics to sum per bucket. @default [] */
  metrics?: readonly (M | DynamicName)[];
}

/** Result of {@link EventLogReader.timeline}. */
export interface Timeline {
  bucket: Bucket;
  timeZone: string;
  points: TimelinePoint[];
}

/** Input of {@link EventLogReader.top}; the parameters are the names a typed log accepts. */
export interface TopInput<Type extends string = string, D extends string = string, M extends string = string> {
  /** A canonical string field (e.g. `ip`, `actorId`) or a dimension. */
  by: TopField<D>;
  filter?: FilterInput<Type, D, M>;
  /** @default 10 */
  limit?: number;
  /** Rank by count or by the sum of a metric. @default 'count' */
  orderBy?: 'count' | M | DynamicName;
}

/** One row of {@link EventLogReader.top}. */
export interface TopEntry {
  value: string | number;
  count: number;
  sums: Record<string, number>;
}

/** Input of {@link EventLogReader.countBy}; the parameters are the names a typed log accepts. */
export interface CountByInput<Type extends string = string, D extends string = string, M extends string = string> {
  /** A canonical string field (e.g. `outcome`, `category`) or a dimension; not `ip` (use `top`). */
  by: TopField<D>;
  filter?: FilterInput<Type, D, M>;
}

/** One group of {@link EventLogReader.countBy}: a value (`null` for events without one) and its count. */
export interface CountByEntry {
  value: string | number | null;
  count: number;
}

/** Input of {@link EventLogReader.latest}; the parameters are the names a typed log accepts. */
export interface LatestInput<Type extends string = string, D extends string = string, M extends string = string> {
  type?: OneOrMany<Type>;
  target?: { type?: string; id: string | number };
  filter?: FilterInput<Type, D, M>;
}

/**
 * An export column that a product shapes itself: its header, and the cell of each event. The cell
 * goes through the same quoting and formula-injection guard as every other cell.
 *
 * @example
 * ```ts
 * import type { ExportColumn } from '@eventlog/core';
 * const who: ExportColumn = { header: 'Who', value: (event) => event.actor.name ?? event.actor.id };
 * ```
 */
export interface ExportColumn {
  /** The header cell. */
  header: string;
  /** The cell of one event (masked when the reading view masks IPs). */
  value: (event: StoredEvent) => string | number | boolean | null | undefined;
}

/** Input of {@link EventLogReader.exportCsv}; the parameters are the names a typed log accepts. */
export interface ExportInput<Type extends string = string, D extends string = string, M extends string = string> {
  filter?: FilterInput<Type, D, M>;
  /**
   * Canonical fields, dimensions, metrics or `data` by name, or {@link ExportColumn} mappings.
   * @default canonical fields, then dimensions, then metrics
   */
  columns?: readonly (ExportColumnName<D, M> | ExportColumn)[];
  /** Zone for the `time` column. @default 'UTC' */
  timeZone?: string;
  /** date-fns pattern for `time`. @default "yyyy-MM-dd'T'HH:mm:ss.SSSXXX" */
  timeFormat?: string;
  /** Emit a header row. @default true */
  header?: boolean;
  /** @default 'desc' */
  order?: 'asc' | 'desc';
  /** Rows fetched per page; small pages keep peak memory low (docs/benchmarks.md, export). @default 500 */
  batchSize?: number;
  /** Stop after this many rows. */
  maxRows?: number;
}

/** A running retention task. */
export interface Maintenance {
  /** Runs one retention pass now (if this process gets the lock) and returns the rows deleted. */
  run(): Promise<number>;
  /** Stops the schedule and waits for a running pass. */
  stop(): Promise<void>;
}

/**
 * Everything that reads; what a view offers besides its writes. On a log built from presets
 * (`T` their payload schemas, `D` and `M` their dimension and metric names) a filter on `type`
 * narrows the events' `data`, and field, dimension and metric names are checked at compile time;
 * with the defaults every name is accepted and `data` is `unknown`.
 */
// biome-ignore lint/suspicious/noExplicitAny: so that a plain reader accepts one typed by any presets.
export interface EventLogReader<T extends EventTypeMap = any, D extends string = string, M extends string = string> {
  /** Numbered pages with a total. */
  query<K extends TypeSelector<T> = TypeName<T>>(
    input?: TypedQuery<PageQueryInput, K, D, M>,
    options?: ReadOptions,
  ): Promise<PageResult<EventOf<T, K>>>;
  /** Keyset pages. */
  query<K extends TypeSelector<T> = TypeName<T>>(
    input: TypedQuery<CursorQueryInput, K, D, M>,
    options?: ReadOptions,
  ): Promise<CursorResult<EventOf<T, K>>>;
  /** A window by offset, with a total. */
  query<K extends TypeSelector<T> = TypeName<T>>(
    input: TypedQuery<OffsetQueryInput, K, D, M>,
    options?: ReadOptions,
  ): Promise<OffsetResult<EventOf<T, K>>>;
  /** Any kind of page, chosen by the input's fields. */
  query<K extends TypeSelector<T> = TypeName<T>>(
    input?: TypedQuery<QueryInput, K, D, M>,
    options?: ReadOptions,
  ): Promise<PageResult<EventOf<T, K>> | CursorResult<EventOf<T, K>> | OffsetResult<EventOf<T, K>>>;
  /** Number of events matching the filter. */
  count(filter?: FilterInput<TypeSelector<T>, D, M>, options?: ReadOptions): Promise<number>;
  /** One event by id, or null. */
  get(id: number, options?: ReadOptions): Promise<EventOf<T> | null>;
  /** Count, metric sums, RPM and TPM over a filter. */
  stats(filter?: FilterInput<TypeSelector<T>, D, M>, options?: ReadOptions): Promise<Stats>;
  /** Counts and sums per minute, hour or day in a time zone. */
  timeline(input?: TimelineInput<TypeSelector<T>, D, M>, options?: ReadOptions): Promise<Timeline>;
  /** The most frequent values of a field or dimension. */
  top(input: TopInput<TypeSelector<T>, D, M>, options?: ReadOptions): Promise<TopEntry[]>;
  /**
   * Counts per value of a field over a filter, every value (and `null`) included, in one grouped
   * read: several figures that are sums of groups cost one query instead of one count each. Fails
   * with a validation error when the field has more than `limits.maxTopLimit` distinct values.
   */
  countBy(input: CountByInput<TypeSelector<T>, D, M>, options?: ReadOptions): Promise<CountByEntry[]>;
  /** The newest event of a target (e.g. a stream's last state), or null. */
  latest<K extends TypeSelector<T> = TypeName<T>>(input: LatestInput<K, D, M>, options?: ReadOptions): Promise<EventOf<T, K> | null>;
  /** Streams matching events as CSV chunks with constant memory. */
  exportCsv(input?: ExportInput<TypeSelector<T>, D, M>, options?: ReadOptions): AsyncIterable<string>;
  /** Delivers each matching event after it is stored; returns the unsubscribe function. */
  subscribe<K extends TypeSelector<T> = TypeName<T>>(
    filter: FilterInput<K, D, M> | undefined,
    listener: (event: EventOf<T, K>) => void,
  ): () => void;
  /** Open sessions. */
  readonly sessions: SessionsReader;
}

/** Options of {@link EventLog.view}. */
export interface ViewOptions {
  /** Who reads and writes; reads and writes are limited to its tenants. @default unrestricted (like an admin) */
  principal?: Principal;
  /** Mask IP addresses in everything the view returns. @default the log's own `maskIp` */
  maskIp?: boolean;
  /**
   * A fixed filter AND-ed into every read of the view (query, get, count, stats, timeline, top,
   * latest, export, subscribe, and sessions by their opening event), so no filter a caller passes
   * can widen it. It may not bound time (`since`/`until`): that is a `ValidationError`. Writes are
   * checked by the principal only. @default none
   */
  filter?: FilterInput;
}

/** Names of the registered types, or any string when none are registered. */
export type TypeName<T extends EventTypeMap> = [keyof T] extends [never] ? string : keyof T & string;

/** The `data` input type of a registered event type. */
export type DataInput<T extends EventTypeMap, K extends string> = K extends keyof T ? z.input<T[K]> : unknown;

/** The stored `data` type of a registered event type. */
export type DataOutput<T extends EventTypeMap, K extends string> = K extends keyof T ? z.output<T[K]> : unknown;

/**
 * A principal-bound view of a log: every read limited to the principal's tenants, every write
 * checked against them, IPs masked when asked. What an API in front of the log hands each caller.
 *
 * @example
 * ```ts
 * import { createEventLog } from '@eventlog/core';
 * import { createSqliteStore } from '@eventlog/adapters/sqlite';
 *
 * const log = createEventLog({ store: createSqliteStore() });
 * const reseller = log.view({ principal: { role: 'reseller', id: 'r1', tenantIds: ['t1', 't2'] }, maskIp: true });
 * await reseller.record({ type: 'login', tenantId: 't2', ip: '203.0.113.45' }); // stored with its full address
 * const page = await reseller.query(); // only t1 and t2, addresses masked: 203.0.113.0
 * console.log(page.total, log.limits.maxPageSize);
 * await log.close();
 * ```
 */
// biome-ignore lint/suspicious/noExplicitAny: so that a plain view accepts one typed by any presets.
export interface EventLogView<T extends EventTypeMap = any, D extends string = string, M extends string = string>
  extends EventLogReader<T, D, M> {
  /**
   * Validates and stores one event; resolves when it is stored. Users and resellers only write
   * into their own tenants (an event without `tenantId` gets the principal's tenant when that is
   * unambiguous); anything else is a `ValidationError` on `tenantId`.
   */
  record<K extends TypeName<T>>(event: EventInput<K, DataInput<T, K>>): Promise<StoredEvent<K, DataOutput<T, K>>>;
  /**
   * Validates every event first; stores all of them or none (on stores with `capabilities.atomicInsert`).
   * An event outside the view's tenants rejects the call with `FORBIDDEN` ({@link ForbiddenError}).
   */
  recordMany(events: readonly EventInput<TypeName<T>>[]): Promise<StoredEvent[]>;
  /**
   * The same write, resolving with the stored ids only (in input order; 0 where the store assigns
   * none) instead of the events: for bulk loaders that would discard the events, it skips building them.
   *
   * @example
   * ```ts
   * import { createEventLog } from '@eventlog/core';
   * import { createSqliteStore } from '@eventlog/adapters/sqlite';
   *
   * const log = createEventLog({ store: createSqliteStore() });
   * const ids = await log.recordMany([{ type: 'a' }, { type: 'b' }], { returning: 'ids' }); // [1, 2]
   * await log.close();
   * ```
   */
  recordMany(events: readonly EventInput<TypeName<T>>[], options: { returning: 'ids' }): Promise<number[]>;
  /**
   * Checks events without storing them: one entry per invalid event, empty when all are valid. An
   * event outside the view's tenants is a permission problem, not a malformed event: it throws
   * `FORBIDDEN` ({@link ForbiddenError}).
   */
  validate(events: readonly unknown[]): { index: number; issues: ValidationIssue[] }[];
}

/** The full event log: writes, reads, retention, sessions and live consumers. */
// biome-ignore lint/suspicious/noExplicitAny: so that a plain `EventLog` accepts a log typed by any presets.
export interface EventLog<T extends EventTypeMap = any, D extends string = string, M extends string = string>
  extends EventLogView<T, D, M>,
    EventEmitter<EventLogEvents> {
  /** Event types, dimensions and metrics in force. */
  readonly registry: Registry;
  /** The store the log writes to. */
  readonly store: EventStore;
  /** The limits in force, every default filled in; APIs derive their caps from these. */
  readonly limits: EventLogLimits;
  /** Migrates the store (once); every other method waits for it. */
  ready(): Promise<void>;
  /** Resolves when everything recorded so far is stored. */
  flush(): Promise<void>;
  /** The log's current time in epoch ms (its `clock`), so callers compute windows the way the log does. */
  now(): number;
  /** Rows accepted by `record`/`recordMany` and not yet stored; bounded by `buffer.maxPending`. */
  readonly pendingWrites: number;
  /** Deletes old events in bounded batches and returns how many. */
  prune(input: PruneInput): Promise<number>;
  /**
   * Drops the `data` payload, or listed paths of it, from events older than `before` while
   * keeping the rows with their counts, metrics and dimensions (field time-to-live); returns how
   * many events changed. Rejects with `UNSUPPORTED` when the store has no `redactData`.
   */
  expireData(input: ExpireDataInput): Promise<number>;
  /**
   * Retention jobs: run policies, ad-hoc prunes with dry runs and archives, resume what a dead
   * process left, cancel, and read the job history.
   */
  readonly jobs: JobsApi;
  /**
   * Recomputes the store's rollup tables from the events, one UTC day at a time (each day in one
   * transaction, so answers stay exact while it runs); rejects with `UNSUPPORTED` when the store
   * keeps no rollups.
   */
  rebuildRollups(options?: RebuildRollupsOptions): Promise<void>;
  /** Starts the retention task of `options.retention`. */
  startMaintenance(options?: { intervalMs?: number; runOnStart?: boolean }): Maintenance;
  /** A view bound to a principal and a masking choice. */
  view(options?: ViewOptions): EventLogView<T, D, M>;
  /**
   * A read-only view limited to a principal's tenants.
   * @deprecated Use `log.view({ principal })`, which also scopes writes.
   */
  scoped(principal: Principal): EventLogReader;
  /** Opening, closing and listing live sessions. */
  readonly sessions: SessionsApi;
  /** Hash chains and checkpoints (tamper evidence); its methods reject with `UNSUPPORTED` without the `integrity` option. */
  readonly integrity: IntegrityApi;
  /**
   * Checks a tenant's hash chain, its checkpoints and the anchors given, and reports what was
   * modified, deleted, inserted or reordered (docs/guide.md, "Tamper evidence"). Rejects with
   * `UNSUPPORTED` without the `integrity` option.
   */
  verify(input: VerifyInput): Promise<VerifyReport>;
  /** Drains the buffer, stops maintenance and closes the store; afterwards every method rejects with `CLOSED`. */
  close(): Promise<void>;
}

/** Preset type maps merged into one. */
export type PresetTypes<P extends readonly Preset[]> =
  UnionToIntersection<P[number] extends infer U ? (U extends Preset<infer M> ? M : never) : never> extends infer R
    ? R extends EventTypeMap
      ? R
      : EventTypeMap
    : EventTypeMap;

/**
 * Dimension names of presets plus extra specs: `string` (any name) when no preset is given or a
 * preset's names are not literals.
 */
export type PresetDimensions<P extends readonly Preset[], Extra extends readonly DimensionSpec[] = []> = P extends readonly []
  ? string
  : (P[number] extends infer U ? (U extends Preset<infer _T, infer N, infer _M> ? N : never) : never) | SpecNames<Extra>;

/**
 * Metric names of presets plus extra specs: `string` (any name) when no preset is given or a
 * preset's names are not literals.
 */
export type PresetMetrics<P extends readonly Preset[], Extra extends readonly MetricSpec[] = []> = P extends readonly []
  ? string
  : (P[number] extends infer U ? (U extends Preset<infer _T, infer _D, infer N> ? N : never) : never) | SpecNames<Extra>;

type UnionToIntersection<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void ? I : never;

/** Options of {@link EventLog.rebuildRollups}. */
export interface RebuildRollupsOptions {
  /** Told after each finished day of each rollup table. */
  onProgress?: (progress: RollupProgress) => void;
}
