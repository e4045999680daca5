import { EventEmitter } from 'eventemitter3';
import { LogCore } from './core.js';
import type { ValidationIssue } from './errors.js';
import type { EventLogEvents } from './events.js';
import type { FilterInput } from './filter/filter.js';
import type { IntegrityApi, VerifyInput } from './integrity/integrity.js';
import type { VerifyReport } from './integrity/verify.js';
import type { EventLogLimits, EventLogOptions, InternalOptions } from './options.js';
import type { CursorQueryInput, OffsetQueryInput, PageQueryInput, QueryInput } from './pagination/query.js';
import { createExpireData } from './privacy/expire-data.js';
import { createCountByRead } from './read/count-by.js';
import { createExport } from './read/export.js';
import { createLatestRead } from './read/latest.js';
import { createQueryReads } from './read/query.js';
import { createStatsRead } from './read/stats.js';
import { createTimelineRead } from './read/timeline.js';
import { createTopRead } from './read/top.js';
import type { JobsApi } from './retention/job-types.js';
import { createJobs } from './retention/jobs.js';
import { createMaintenanceScheduler } from './retention/maintenance.js';
import { policySegments, retentionPolicies } from './retention/policies.js';
import { createPrune } from './retention/prune.js';
import { createRebuildRollups } from './rollups/rebuild.js';
import type { EventInput, StoredEvent } from './schema/event.js';
import type { DimensionSpec, EventTypeMap, MetricSpec, Preset } from './schema/preset.js';
import type { Registry } from './schema/registry.js';
import type { Principal } from './scope/principal.js';
import { createSessions } from './sessions/sessions.js';
import type { EventStore } from './storage/contract.js';
import type {
  CountByEntry,
  CountByInput,
  CursorResult,
  DataInput,
  DataOutput,
  EventLog,
  EventLogReader,
  EventLogView,
  ExpireDataInput,
  ExportInput,
  LatestInput,
  Maintenance,
  OffsetResult,
  PageResult,
  PresetDimensions,
  PresetMetrics,
  PresetTypes,
  PruneInput,
  ReadOptions,
  RebuildRollupsOptions,
  SessionsApi,
  Stats,
  Timeline,
  TimelineInput,
  TopEntry,
  TopInput,
  TypeName,
  ViewOptions,
} from './types.js';
import { createUnhandledErrorWarning } from './unhandled-error.js';
import { createMasker, createView, maskedSessions, type Operations } from './view.js';
import { createDelivery, createWrites } from './write/record.js';

export type { EventLogLimits, EventLogOptions, LimitOptions, RetentionOptions } from './options.js';
export type * from './types.js';

/**
 * Creates an event log over a store.
 *
 * @example
 * ```ts
 * import { z } from 'zod';
 * import { createEventLog, defineEventType, definePreset } from '@eventlog/core';
 * import { createSqliteStore } from '@eventlog/adapters/sqlite';
 *
 * const signIn = defineEventType('auth.sign_in', z.object({ method: z.string() }), { category: 'login' });
 * const log = createEventLog({
 *   store: createSqliteStore({ filename: ':memory:' }),
 *   presets: [definePreset({ name: 'auth', types: [signIn] })],
 * });
 * await log.record({ type: 'auth.sign_in', actor: { id: 'u1' }, outcome: 'success', data: { method: 'password' } });
 * const page = await log.query({ filter: { category: 'login' }, pageSize: 20 });
 * console.log(page.total);
 * await log.close();
 * ```
 */
export function createEventLog<
  const P extends readonly Preset[] = [],
  const D extends readonly DimensionSpec[] = [],
  const M extends readonly MetricSpec[] = [],
>(options: EventLogOptions<P> & { dimensions?: D; metrics?: M }): EventLog<PresetTypes<P>, PresetDimensions<P, D>, PresetMetrics<P, M>> {
  // The class implements the untyped reads once; the typed signatures only narrow what they return.
  return new EventLogImpl<PresetTypes<P>>(options) as unknown as EventLog<PresetTypes<P>, PresetDimensions<P, D>, PresetMetrics<P, M>>;
}

/**
 * The log: owns the emitter, the lifecycle and the root view (unrestricted, masking as the log's
 * options say); every operation lives in its own module and every read goes through a view.
 */
class EventLogImpl<T extends EventTypeMap> extends EventEmitter<EventLogEvents> implements EventLog {
  readonly registry: Registry;
  readonly store: EventStore;
  readonly limits: EventLogLimits;
  readonly sessions: SessionsApi;
  readonly jobs: JobsApi;
  readonly #core: LogCore;
  readonly #ops: Operations;
  readonly #root: EventLogView;
  readonly #prune: (input: PruneInput) => Promise<number>;
  readonly #expireData: (input: ExpireDataInput) => Promise<number>;
  readonly #rebuildRollups: (options?: RebuildRollupsOptions) => Promise<void>;
  readonly #maintenance: ReturnType<typeof createMaintenanceScheduler>;
  readonly #warn: (error: unknown) => void;
  #closed: Promise<void> | null = null;

  constructor(options: EventLogOptions<readonly Preset[]> & InternalOptions) {
    super();
    if (!options?.store) throw new TypeError('createEventLog needs a store, e.g. createSqliteStore({ filename: "events.db" }).');
    const policies = retentionPolicies(options.retention);
    const rootMask = createMasker(options.maskIp === true);
    const deliver = createDelivery(
      () => core,
      () => this.listenerCount('recorded') > 0,
      rootMask.event,
    );
    // The core reports with its own typed signature; the emitter's generic one cannot be named here.
    const emit = (name: string, ...rest: unknown[]) => (this.emit as (name: string, ...rest: unknown[]) => boolean)(name, ...rest);
    const core = new LogCore(options, emit, deliver);
    this.#core = core;
    this.registry = core.registry;
    this.store = core.store;
    this.limits = core.limits;
    this.#warn = createUnhandledErrorWarning(core.clock, options.warn);
    const writes = createWrites(core);
    const sessions = createSessions(core, writes.forPrincipal(undefined));
    this.#ops = {
      reads: createQueryReads(core),
      stats: createStatsRead(core),
      timeline: createTimelineRead(core),
      top: createTopRead(core),
      countBy: createCountByRead(core),
      latest: createLatestRead(core),
      exportCsv: createExport(core),
      sessions,
      writes,
    };
    const jobs = createJobs(core, {
      policies,
      leaseMs: options.retention?.leaseMs ?? 60_000,
      segments: (policy, before) => policySegments(core, policies, policy, before),
      batchSize: () => options.retention?.batchSize ?? core.store.capabilities.deleteBatchSize,
      pauseMs: options.retention?.pauseMs ?? 5,
    });
    const prune = createPrune(core, jobs);
    this.#prune = prune.prune;
    this.jobs = { ...jobs.api, prune: prune.pruneJob };
    this.#expireData = createExpireData(core, jobs);
    this.#maintenance = createMaintenanceScheduler(core, jobs.api, policies);
    this.#rebuildRollups = createRebuildRollups(core);
    this.#root = createView(core, this.#ops, {});
    this.sessions = maskedSessions(sessions, this.#root.sessions.list, rootMask);
  }

  /** Emits like any emitter, except that an `error` nobody listens to becomes a rate-limited warning on stderr. */
  override emit<K extends EventEmitter.EventNames<EventLogEvents>>(event: K, ...args: EventEmitter.EventArgs<EventLogEvents, K>): boolean {
    if (event === 'error' && this.listenerCount('error') === 0) {
      this.#warn(args[0]);
      return false;
    }
    return super.emit(event, ...args);
  }

  ready(): Promise<void> {
    return this.#core.ready();
  }

  get integrity(): IntegrityApi {
    return this.#core.integrity;
  }

  async verify(input: VerifyInput): Promise<VerifyReport> {
    await this.#core.ready();
    return this.#core.guard('verify', () => this.#core.integrity.verify(input));
  }

  view(options: ViewOptions = {}): EventLogView<T> {
    return createView(this.#core, this.#ops, options);
  }

  /** @deprecated Use `view({ principal })`. */
  scoped(principal: Principal): EventLogReader {
    return this.view({ principal });
  }

  record<K extends TypeName<T>>(event: EventInput<K, DataInput<T, K>>): Promise<StoredEvent<K, DataOutput<T, K>>> {
    return this.#root.record(event);
  }

  recordMany(events: readonly EventInput<TypeName<T>>[]): Promise<StoredEvent[]>;
  recordMany(events: readonly EventInput<TypeName<T>>[], options: { returning: 'ids' }): Promise<number[]>;
  recordMany(events: readonly EventInput<TypeName<T>>[], options?: { returning: 'ids' }): Promise<StoredEvent[] | number[]> {
    return options ? this.#root.recordMany(events, options) : this.#root.recordMany(events);
  }

  validate(events: readonly unknown[]): { index: number; issues: ValidationIssue[] }[] {
    return this.#root.validate(events);
  }

  async flush(): Promise<void> {
    this.#core.assertOpen();
    await this.#core.buffer.flush();
  }

  now(): number {
    return this.#core.clock();
  }

  get pendingWrites(): number {
    return this.#core.buffer.pending;
  }

  prune(input: PruneInput): Promise<number> {
    return this.#prune(input);
  }

  expireData(input: ExpireDataInput): Promise<number> {
    return this.#expireData(input);
  }

  rebuildRollups(options?: RebuildRollupsOptions): Promise<void> {
    return this.#rebuildRollups(options);
  }

  startMaintenance(options?: { intervalMs?: number; runOnStart?: boolean }): Maintenance {
    return this.#maintenance.start(options);
  }

  close(): Promise<void> {
    this.#closed ??= (async () => {
      this.#core.markClosed();
      await this.#maintenance.stopAll();
      await this.#core.buffer.close();
      await this.#core.integrity.stop();
      this.#core.subscribers.clear();
      if (this.#core.options.closeStore !== false) await this.store.close();
    })();
    return this.#closed;
  }

  query(input?: PageQueryInput, options?: ReadOptions): Promise<PageResult>;
  query(input: CursorQueryInput, options?: ReadOptions): Promise<CursorResult>;
  query(input: OffsetQueryInput, options?: ReadOptions): Promise<OffsetResult>;
  query(input?: QueryInput, options?: ReadOptions): Promise<PageResult | CursorResult | OffsetResult>;
  query(input?: QueryInput, options?: ReadOptions): Promise<PageResult | CursorResult | OffsetResult> {
    return this.#root.query(input, options);
  }

  count(filter?: FilterInput, options?: ReadOptions): Promise<number> {
    return this.#root.count(filter, options);
  }

  get(id: number, options?: ReadOptions): Promise<StoredEvent | null> {
    return this.#root.get(id, options);
  }

  stats(filter?: FilterInput, options?: ReadOptions): Promise<Stats> {
    return this.#root.stats(filter, options);
  }

  timeline(input?: TimelineInput, options?: ReadOptions): Promise<Timeline> {
    return this.#root.timeline(input, options);
  }

  top(input: TopInput, options?: ReadOptions): Promise<TopEntry[]> {
    return this.#root.top(input, options);
  }

  countBy(input: CountByInput, options?: ReadOptions): Promise<CountByEntry[]> {
    return this.#root.countBy(input, options);
  }

  latest(input: LatestInput, options?: ReadOptions): Promise<StoredEvent | null> {
    return this.#root.latest(input, options);
  }

  exportCsv(input?: ExportInput, options?: ReadOptions): AsyncIterable<string> {
    return this.#root.exportCsv(input, options);
  }

  subscribe(filter: FilterInput | undefined, listener: (event: StoredEvent) => void): () => void {
    return this.#root.subscribe(filter, listener);
  }
}
