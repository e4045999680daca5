import type { LogCore } from '../core.js';
import { ForbiddenError, isEventLogError, ValidationError, type ValidationIssue } from '../errors.js';
import { createWritePrivacy } from '../privacy/write-privacy.js';
import { type EventInput, type NormalizedEvent, rowToEvent, type StoredEvent } from '../schema/event.js';
import { normalizeTenantId } from '../schema/tenant.js';
import type { Principal } from '../scope/principal.js';
import type { EventRow } from '../storage/contract.js';

/** One invalid event of a `validate()` call. */
export interface InvalidEvent {
  index: number;
  issues: ValidationIssue[];
}

/**
 * Applies a principal's write rule to one event: admins write anywhere; a user's events always
 * carry the user's tenant; a reseller's must name one of its tenants, or get its only tenant when
 * they name none. Returns the event to store, or why it is refused (a `FORBIDDEN` error). @internal
 */
export function scopeWrite(
  principal: Principal | undefined,
  event: unknown,
  index: number | undefined,
): { event: unknown } | { forbidden: string } {
  if (!principal || principal.role === 'admin' || typeof event !== 'object' || event === null || Array.isArray(event)) return { event };
  const input = event as Record<string, unknown>;
  if (principal.role === 'user') return { event: { ...input, tenantId: principal.tenantId ?? principal.id } };
  const tenant = input.tenantId === undefined || input.tenantId === null ? undefined : normalizeTenantId(String(input.tenantId));
  if (tenant === undefined && principal.tenantIds.length === 1) return { event: { ...input, tenantId: principal.tenantIds[0] } };
  if (tenant === undefined || !principal.tenantIds.some((t) => normalizeTenantId(String(t)) === tenant)) {
    const field = index === undefined ? 'tenantId' : `events[${index}].tenantId`;
    return { forbidden: `${field}: must name one of your tenants` };
  }
  return { event };
}

/** The writes of one view: bound to its principal once, so a call pays for no scoping it does not need. @internal */
export interface Writes {
  record(event: EventInput): Promise<StoredEvent>;
  recordMany(events: readonly EventInput[]): Promise<StoredEvent[]>;
  /** The same write, resolving with the stored ids only (no event objects are built). */
  recordMany(events: readonly EventInput[], idsOnly: true): Promise<number[]>;
  validate(events: readonly unknown[]): InvalidEvent[];
}

/**
 * Validation and storage of events; `forPrincipal` binds them to a principal (or none). Results
 * are unmasked (the view masks). @internal
 */
export function createWrites(core: LogCore): { forPrincipal(principal: Principal | undefined): Writes } {
  // Validate first so the type's schema sees the real values, then apply the log's privacy rules,
  // so that the store, the buffer, subscribers and `record()`'s result only ever see the protected row.
  const protect = createWritePrivacy(core.options.privacy, core.registry);
  const normalize: (event: unknown, index?: number) => NormalizedEvent = protect
    ? (event, index) => protect(core.normalize(event, index))
    : core.normalize;

  function forPrincipal(principal: Principal | undefined): Writes {
    // Admins and the log itself write anywhere: no write rule to apply per event.
    const normalizeScoped =
      !principal || principal.role === 'admin'
        ? normalize
        : (event: unknown, index?: number) => {
            const scoped = scopeWrite(principal, event, index);
            // Writing outside one's tenants is a permission problem, not a malformed event: FORBIDDEN.
            if ('forbidden' in scoped) throw new ForbiddenError(scoped.forbidden);
            return normalize(scoped.event, index);
          };

    // Not async: one promise per call (the buffer's), and a refused event still rejects rather than throws.
    // A suspended async frame would also keep its temporaries (the validated copy of the whole event)
    // alive while the call waits for room in the buffer.
    function record(event: EventInput): Promise<StoredEvent> {
      let normalized: NormalizedEvent;
      try {
        core.assertOpen();
        normalized = normalizeScoped(event);
      } catch (error) {
        return Promise.reject(error);
      }
      // The buffer builds the event once stored (core.ts: toEvent): no promise or closure of our own per call.
      const { row, data } = normalized;
      return core.migrated ? core.buffer.enqueueEvent(row, data) : core.ready().then(() => core.buffer.enqueueEvent(row, data));
    }

    function recordMany(events: readonly EventInput[]): Promise<StoredEvent[]>;
    function recordMany(events: readonly EventInput[], idsOnly: true): Promise<number[]>;
    async function recordMany(events: readonly EventInput[], idsOnly = false): Promise<StoredEvent[] | number[]> {
      core.assertOpen();
      if (!Array.isArray(events)) throw new ValidationError([{ path: ['events'], message: 'must be an array of events' }]);
      if (events.length > core.limits.maxBatchEvents) {
        throw new ValidationError([{ path: ['events'], message: `may hold at most ${core.limits.maxBatchEvents} events` }]);
      }
      if (events.length === 0) return [];
      const rows: EventRow[] = new Array(events.length);
      const data: unknown[] = new Array(events.length);
      for (let i = 0; i < events.length; i++) {
        const normalized = normalizeScoped(events[i], i);
        rows[i] = normalized.row;
        data[i] = normalized.data;
      }
      if (!core.migrated) await core.ready();
      const ids = await core.buffer.enqueue(rows);
      if (idsOnly) return rows.map((_, i) => ids[i] ?? 0);
      for (let i = 0; i < rows.length; i++) data[i] = toEvent(core, rows[i]!, ids[i] ?? 0, data[i]);
      return data as StoredEvent[];
    }

    function validate(events: readonly unknown[]): InvalidEvent[] {
      if (!Array.isArray(events)) return [{ index: -1, issues: [{ path: ['events'], message: 'must be an array of events' }] }];
      const invalid: InvalidEvent[] = [];
      events.forEach((event, index) => {
        try {
          normalizeScoped(event, index);
        } catch (error) {
          if (!isEventLogError(error, 'VALIDATION_FAILED')) throw error;
          invalid.push({ index, issues: (error as ValidationError).issues });
        }
      });
      return invalid;
    }

    return { record, recordMany, validate };
  }

  return { forPrincipal };
}

/** Tells {@link toEvent} to parse `data` from the row's JSON. @internal */
export const PARSE: unique symbol = Symbol('parse');

/** The event of a row just written; `data` is its validated payload, or {@link PARSE} to read it from the row. @internal */
export function toEvent(core: LogCore, row: EventRow, id: number, data: unknown): StoredEvent {
  const event = rowToEvent(row, core.registry, data === PARSE);
  event.id = id;
  if (data !== PARSE) event.data = data;
  return event;
}

/**
 * Hands stored rows to subscribers and `recorded` listeners, building each event at most once and
 * only when someone wants it. A throwing subscriber is reported as an `error` event. @internal
 */
export function createDelivery(core: () => LogCore, wantsRecorded: () => boolean, mask: (event: StoredEvent) => StoredEvent) {
  return (rows: EventRow[], ids: number[]): void => {
    const log = core();
    const recorded = wantsRecorded();
    if (!recorded && log.subscribers.size === 0) return;
    const events: StoredEvent[] = [];
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!;
      let event: StoredEvent | undefined;
      for (const subscriber of log.subscribers) {
        if (!subscriber.matches(row)) continue;
        event ??= toEvent(log, row, ids[i] ?? 0, PARSE);
        try {
          subscriber.listener(event);
        } catch (error) {
          log.report('error', error);
        }
      }
      if (recorded) events.push(mask(event ?? toEvent(log, row, ids[i] ?? 0, PARSE)));
    }
    if (recorded) log.report('recorded', events);
  };
}
