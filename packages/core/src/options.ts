import type { BufferOptions } from './buffer/write-buffer.js';
import type { IntegrityOptions } from './integrity/options.js';
import type { QueryLimits } from './pagination/query.js';
import type { PrivacyOptions } from './privacy/write-privacy.js';
import type { ArchiveOptions, RetentionPolicy } from './retention/job-types.js';
import type { PayloadLimitOptions } from './schema/event.js';
import type { EventType } from './schema/event-type.js';
import type { RollupField } from './schema/fields.js';
import { DEFAULT_MAX_DATA_BYTES, DEFAULT_MAX_DATA_DEPTH } from './schema/payload.js';
import type { DimensionSpec, MetricSpec, Preset } from './schema/preset.js';
import type { EventStore } from './storage/contract.js';

/** Limits on reads and writes; each has a safe default. */
export interface LimitOptions extends Partial<QueryLimits>, PayloadLimitOptions {
  /** Most buckets one timeline may return. @default 5000 */
  maxTimelineBuckets?: number;
  /** Most rows `top()` may return. @default 1000 */
  maxTopLimit?: number;
  /** Most events one `recordMany()` call may carry. @default 100000 */
  maxBatchEvents?: number;
}

/**
 * The limits a log enforces, every default filled in; read them from `log.limits` so that an API in
 * front of the log derives its own caps from the same numbers.
 */
export interface EventLogLimits {
  /** Page size when a query names none. */
  readonly defaultPageSize: number;
  /** Largest page or window a query may ask for. */
  readonly maxPageSize: number;
  /** Deepest offset a numbered page or offset window may reach. */
  readonly maxOffset: number;
  /** Most buckets one timeline may return. */
  readonly maxTimelineBuckets: number;
  /** Most rows `top()` may return. */
  readonly maxTopLimit: number;
  /** Most events one `recordMany()` call may carry. */
  readonly maxBatchEvents: number;
  /** Deepest nesting of objects and arrays in an event's `data`. */
  readonly maxDataDepth: number;
  /** Largest `data`, in bytes of its UTF-8 JSON. */
  readonly maxDataBytes: number;
}

/**
 * The retention policies run by `log.startMaintenance()` and `log.jobs.runPolicy()`: named
 * policies by tenant, type or category (first match wins among delete policies) and a default for
 * every other event (`maxAgeDays`, or `default`).
 */
export interface RetentionOptions {
  /** Events no named policy matches are pruned after this many days (the `default` policy). */
  maxAgeDays?: number;
  /** Named policies, in order; see {@link RetentionPolicy}. */
  policies?: readonly RetentionPolicy[];
  /** The default policy with an archive; its `maxAgeDays` replaces the top-level one. */
  default?: { maxAgeDays: number; archive?: ArchiveOptions };
  /** How long a job's lease lock lasts before another process may take the job over; renewed at half. @default 60000 */
  leaseMs?: number;
  /** Rows per delete batch. @default the store's `deleteBatchSize` */
  batchSize?: number;
  /** Pause between delete batches so writers get the database. @default 5 */
  pauseMs?: number;
}

/** Options of `createEventLog`. */
export interface EventLogOptions<P extends readonly Preset[] = readonly Preset[]> {
  /** Where events live, e.g. `createSqliteStore({ filename: 'events.db' })`. */
  store: EventStore;
  /** Product presets bundling event types, dimensions and metrics. */
  presets?: P;
  /** Extra event types. */
  types?: readonly EventType[];
  /** Extra dimensions. */
  dimensions?: readonly DimensionSpec[];
  /** Extra metrics. */
  metrics?: readonly MetricSpec[];
  /** Accept types that are not registered. @default true when no type is registered, else false */
  allowUnknownTypes?: boolean;
  /** Write-path tuning. */
  buffer?: BufferOptions;
  /** Caps on page sizes, offsets, timelines, top-N and batches. */
  limits?: LimitOptions;
  /** The policy `startMaintenance()` runs. */
  retention?: RetentionOptions;
  /** Mask IP addresses in everything read back (GDPR mode); a view may override it. @default false */
  maskIp?: boolean;
  /**
   * Privacy applied when events are written (IP masking, redaction), before anything is stored
   * or delivered; unlike `maskIp`, the raw values never reach the store. @default no rules
   */
  privacy?: PrivacyOptions;
  /**
   * Tamper evidence: per-tenant hash chains sealed into signed checkpoints (docs/guide.md, "Tamper
   * evidence"). @default off
   */
  integrity?: IntegrityOptions;
  /** Source of "now" in epoch ms; inject a fixed clock in tests. @default Date.now */
  clock?: () => number;
  /** Run `store.migrate()` before first use. @default true */
  migrate?: boolean;
  /** Close the store when the log closes. @default true */
  closeStore?: boolean;
  /**
   * Whether the store keeps rollups and `stats`, `timeline`, `top` and `count` answer from them
   * when the filter allows (docs/rollups.md). Off by default for now: keeping them multiplies the
   * rows each insert writes (docs/benchmarks.md, "Rollups"). Off reads raw rows only and does not
   * ask the store to keep rollups (a store that another log on the same tables asked keeps them).
   * @default false
   */
  rollups?: boolean;
  /**
   * Envelope fields to keep a rollup table for, besides those the presets name (`['ip']`: `top`
   * by `ip` and reads filtered on `ip` values answer from rollups; docs/rollups.md). Only takes
   * effect with `rollups: true`. @default none
   */
  rollupFields?: readonly RollupField[];
}

/**
 * Options only the project's own tests pass: where the "error emitted with no listener" warning
 * goes. Not part of the public API. @internal
 */
export interface InternalOptions {
  /** Receives each warning line (without a newline). @default a write to `process.stderr` */
  warn?: (line: string) => void;
}

/** The limits used when a log names none. */
export const DEFAULT_LIMITS: EventLogLimits = Object.freeze({
  defaultPageSize: 50,
  maxPageSize: 1000,
  maxOffset: 100_000,
  maxTimelineBuckets: 5000,
  maxTopLimit: 1000,
  maxBatchEvents: 100_000,
  maxDataDepth: DEFAULT_MAX_DATA_DEPTH,
  maxDataBytes: DEFAULT_MAX_DATA_BYTES,
});

/** Fills in defaults and checks the limits fit together; a conflict is a `TypeError` at construction. @internal */
export function resolveLimits(options: LimitOptions | undefined): EventLogLimits {
  const given = Object.fromEntries(Object.entries(options ?? {}).filter(([, value]) => value !== undefined));
  const resolved: EventLogLimits = { ...DEFAULT_LIMITS, ...given };
  if (resolved.defaultPageSize > resolved.maxPageSize) throw new TypeError('limits.defaultPageSize exceeds limits.maxPageSize.');
  return Object.freeze(resolved);
}
