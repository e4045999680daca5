import type { z } from 'zod';
import { type BufferOptions, WriteBuffer } from './buffer/write-buffer.js';
import { EventLogError, isEventLogError, StoreError, ValidationError } from './errors.js';
import type { EventLogEvents } from './events.js';
import { type FilterInput, normalizeFilter } from './filter/filter.js';
import { Integrity } from './integrity/integrity.js';
import { type EventLogLimits, type EventLogOptions, resolveLimits } from './options.js';
import { createEventNormalizer, type StoredEvent } from './schema/event.js';
import { issuesOf, safeParseWorded } from './schema/messages.js';
import type { Preset } from './schema/preset.js';
import { createRegistry, type Registry } from './schema/registry.js';
import { applyScope } from './scope/principal.js';
import type { Condition, EventRow, EventStore } from './storage/contract.js';
import { type StoreDefaults, storeDefaults } from './storage/defaults.js';
import { toEvent } from './write/record.js';

/** The tenants a read or write is limited to; `null` is every tenant. @internal */
export interface Scope {
  readonly tenants: readonly string[] | null;
  /** A view's fixed filter as conditions, AND-ed into every read; none when absent. */
  readonly fixed?: readonly Condition[];
}

/** The unrestricted scope. @internal */
export const ROOT_SCOPE: Scope = Object.freeze({ tenants: null });

/** A live consumer registered with `subscribe`. @internal */
export interface Subscriber {
  /** Whether a stored row belongs to this subscriber (its filter and scope). */
  matches(row: EventRow): boolean;
  /** Receives the stored event, unmasked; the view that registered it masks. */
  listener(event: StoredEvent): void;
}

/** How the core reaches the log's emitter. @internal */
export type Emit = (event: keyof EventLogEvents, ...args: unknown[]) => void;

/**
 * The state every operation module shares: registry, store, limits, clock, the write buffer, and
 * the guards that turn store failures into typed errors and calls on a closed log into `CLOSED`.
 * @internal
 */
export class LogCore {
  readonly registry: Registry;
  readonly store: EventStore;
  readonly defaults: StoreDefaults;
  readonly limits: EventLogLimits;
  readonly clock: () => number;
  readonly normalize: ReturnType<typeof createEventNormalizer>;
  readonly buffer: WriteBuffer;
  /** Hash chains (tamper evidence); inert without the `integrity` option. */
  readonly integrity: Integrity;
  readonly subscribers = new Set<Subscriber>();
  private migration: Promise<void> | null = null;
  /** Set once migrated (or when migration is off): writes then enqueue in the caller's turn instead of after a microtask. */
  migrated = false;
  private closing = false;

  constructor(
    readonly options: EventLogOptions<readonly Preset[]>,
    private readonly emit: Emit,
    deliver: (rows: EventRow[], ids: number[]) => void,
  ) {
    this.store = options.store;
    this.defaults = storeDefaults(options.store);
    this.registry = createRegistry(options);
    this.clock = options.clock ?? Date.now;
    this.normalize = createEventNormalizer(this.registry, this.clock, options.limits);
    this.limits = resolveLimits(options.limits);
    this.integrity = new Integrity(options.integrity, {
      store: this.store,
      clock: this.clock,
      retention: options.retention,
      report: (error) => this.emit('error', error),
      ready: () => this.ready(),
    });
    this.integrity.schema(this.registry.storeSchema);
    this.buffer = new WriteBuffer(
      {
        engine: this.store.engine,
        insert: (rows) => this.integrity.insert(rows),
        isTransient: (error) => this.defaults.isTransientError(error),
        ready: (rows) => this.store.writeReady?.(rows),
        stored: deliver,
        event: (row, id, data) => toEvent(this, row, id, data),
        flushed: (rows, durationMs) => this.emit('flushed', { rows, durationMs }),
      },
      options.buffer as BufferOptions | undefined,
    );
  }

  /** Whether `close()` has begun. */
  get closed(): boolean {
    return this.closing;
  }

  /** Marks the log closed; every later call rejects with `CLOSED`. */
  markClosed(): void {
    this.closing = true;
  }

  /** Throws `CLOSED` once the log is closing or closed. */
  assertOpen(): void {
    if (this.closing) throw closedError();
  }

  /** Migrates the store once; a failed migration is retried by the next caller. */
  ready(): Promise<void> {
    if (this.closing) return Promise.reject(closedError());
    if (this.options.migrate === false) {
      this.migrated = true;
      return Promise.resolve();
    }
    // A log that keeps no rollups (the default: `rollups: true` turns them on) does not ask the store for their tables.
    const { rollups: _rollups, ...plain } = this.registry.storeSchema;
    const schema = this.options.rollups === true ? this.registry.storeSchema : plain;
    this.migration ??= this.store.migrate(this.integrity.schema(schema), { onProgress: (p) => this.emit('rollups', p) }).then(
      () => {
        this.migrated = true;
      },
      (error) => {
        this.migration = null;
        throw isEventLogError(error) ? error : new StoreError(this.store.engine, 'migrate', error);
      },
    );
    return this.migration;
  }

  /** Runs a store call; driver errors become a `StoreError`, and any failure after `close()` a `CLOSED` error. */
  async guard<R>(operation: string, fn: () => Promise<R>): Promise<R> {
    this.assertOpen();
    try {
      return await fn();
    } catch (error) {
      if (this.closing && !isEventLogError(error, 'VALIDATION_FAILED')) throw closedError(error);
      if (isEventLogError(error)) throw error;
      throw new StoreError(this.store.engine, operation, error, this.defaults.isTransientError(error));
    }
  }

  /** Emits on the log's emitter. */
  report<K extends keyof EventLogEvents>(event: K, ...args: EventLogEvents[K]): void {
    this.emit(event, ...args);
  }

  /** A validated filter as store conditions, narrowed to the scope's tenants and its fixed filter. */
  conditions(scope: Scope, filter: FilterInput | undefined, path?: string[]): Condition[] {
    return [...applyScope(normalizeFilter(filter, this.registry, path), scope.tenants), ...(scope.fixed ?? [])];
  }
}

/** The error every method of a closed log rejects with. @internal */
export function closedError(cause?: unknown): EventLogError {
  return new EventLogError(
    'CLOSED',
    'The event log is closed; create a new one to read or record events.',
    cause === undefined ? {} : { cause },
  );
}

/**
 * Parses an operation's input with its one schema; failures become a {@link ValidationError}
 * listing each problem once. Through {@link safeParseWorded}: valid input takes zod's fast path.
 * @internal
 */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const parsed = safeParseWorded(schema, input);
  if (!parsed.success) throw new ValidationError(issuesOf(parsed.error));
  return parsed.data;
}
