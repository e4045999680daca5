// TODO(core-api): the principal-bound view and the resolved limits of issue 11 are being added to
// @eventlog/core as `log.view({ principal, maskIp })` and `log.limits` (see the core API contract).
// Profiles call `viewOf(log, …)` and `limitsOf(log)` so that the day the core has them these two
// functions reduce to `log.view(options)` and `log.limits`; until then the fallback below builds the
// same view from `log.scoped()`, `log.validate()` and the core's IP masking. The integrator replaces
// this file (and its callers' imports) with the core API; nothing here is exported from the package.
import {
  type CursorResult,
  csvLine,
  type EventInput,
  type EventLogReader,
  type ExportInput,
  type FilterInput,
  maskIp,
  type OpenSession,
  type Principal,
  type StoredEvent,
  type TopEntry,
  ValidationError,
  type ValidationIssue,
} from '@eventlog/core';
import type { AnyEventLog } from './profile.js';

/** Options of {@link viewOf}: whose tenants the view is bound to, and whether it masks IPs. @internal */
export interface ViewOptions {
  principal?: Principal;
  maskIp?: boolean;
}

/** One CSV column: a field name, or a header with a row mapping. @internal */
export type ExportColumn = string | { header: string; value: (event: StoredEvent) => string | number | boolean | null | undefined };

/** Export input whose columns may be mappings. @internal */
export interface ViewExportInput extends Omit<ExportInput, 'columns'> {
  columns?: readonly ExportColumn[];
}

/** Reads scoped to a principal (and masked on request), plus scoped writes. @internal */
export interface EventLogView extends Omit<EventLogReader, 'exportCsv'> {
  exportCsv(input?: ViewExportInput): AsyncIterable<string>;
  record(event: EventInput): Promise<StoredEvent>;
  recordMany(events: readonly EventInput[]): Promise<StoredEvent[]>;
  validate(events: readonly unknown[]): { index: number; issues: ValidationIssue[] }[];
}

/** The limits a log enforces. @internal */
export interface LogLimits {
  readonly defaultPageSize: number;
  readonly maxPageSize: number;
  readonly maxOffset: number;
  readonly maxTimelineBuckets: number;
  readonly maxTopLimit: number;
  readonly maxBatchEvents: number;
}

/** `log.limits`. @internal */
export function limitsOf(log: AnyEventLog): LogLimits {
  // Every log of the core holds its resolved limits; before issue 11 the property is only untyped.
  return (log as unknown as { limits: LogLimits }).limits;
}

/** `log.view(options)`. @internal */
export function viewOf(log: AnyEventLog, options: ViewOptions = {}): EventLogView {
  const view = (log as { view?: (options: ViewOptions) => EventLogView }).view;
  if (typeof view === 'function') return view.call(log, options);
  return fallbackView(log, options);
}

function fallbackView(log: AnyEventLog, options: ViewOptions): EventLogView {
  const principal = options.principal;
  const reader: EventLogReader = principal && principal.role !== 'admin' ? log.scoped(principal) : log;
  const mask = options.maskIp === true;
  const event = <E extends StoredEvent | null>(e: E): E => (mask && e ? ({ ...e, ip: maskIp(e.ip) } as E) : e);
  const scopeAll = (events: readonly unknown[]) => events.map((e, i) => scopeWrite(principal, e, i));
  const check = (events: readonly unknown[]) => {
    const invalid = log.validate(events);
    if (invalid.length) {
      const first = invalid[0]!;
      const error = new ValidationError(first.issues.map((issue) => ({ ...issue, path: ['events', first.index, ...issue.path] })));
      (error as { eventIndex?: number }).eventIndex = first.index;
      throw error;
    }
  };
  const view: EventLogView = {
    query: (async (input?: Parameters<EventLogReader['query']>[0]) => {
      const result = await reader.query(input as never);
      return { ...result, items: result.items.map(event) };
    }) as EventLogReader['query'],
    count: (filter) => reader.count(filter),
    get: async (id) => event(await reader.get(id)),
    stats: (filter) => reader.stats(filter),
    timeline: (input) => reader.timeline(input),
    top: async (input) => {
      const rows = await reader.top(input);
      return mask && input.by === 'ip' ? mergeMasked(rows) : rows;
    },
    latest: async (input) => event(await reader.latest(input)),
    exportCsv: (input = {}) => exportRows(reader, input, event),
    subscribe: (filter, listener) => reader.subscribe(filter, (e) => listener(event(e))),
    sessions: {
      list: async (input) => (await reader.sessions.list(input)).map((s: OpenSession) => ({ ...s, event: event(s.event) })),
    } as EventLogReader['sessions'],
    validate: (events) => {
      if (!Array.isArray(events)) return log.validate(events);
      const invalid: { index: number; issues: ValidationIssue[] }[] = [];
      const scoped = events.map((e, index) => {
        try {
          return scopeWrite(principal, e, index);
        } catch (error) {
          if (!(error instanceof ValidationError)) throw error;
          invalid.push({ index, issues: [{ path: ['tenantId'], message: 'must name one of your tenants' }] });
          return e;
        }
      });
      const flagged = new Set(invalid.map((i) => i.index));
      for (const entry of log.validate(scoped)) if (!flagged.has(entry.index)) invalid.push(entry);
      return invalid.sort((a, b) => a.index - b.index);
    },
    record: async (input) => {
      const [scoped] = scopeAll([input]);
      check([scoped]);
      return event(await log.record(scoped as EventInput));
    },
    recordMany: async (inputs) => {
      const scoped = scopeAll(inputs);
      check(scoped);
      return (await log.recordMany(scoped as EventInput[])).map(event);
    },
  };
  return view;
}

/** Users and resellers write only into their own tenants; an event without tenantId gets the principal's when unambiguous. */
function scopeWrite(principal: Principal | undefined, event: unknown, index: number): unknown {
  if (!principal || principal.role === 'admin' || typeof event !== 'object' || event === null || Array.isArray(event)) return event;
  const record = event as Record<string, unknown>;
  if (principal.role === 'user') return { ...record, tenantId: principal.tenantId ?? principal.id };
  const tenant = record.tenantId === undefined || record.tenantId === null ? undefined : String(record.tenantId);
  if (tenant === undefined && principal.tenantIds.length === 1) return { ...record, tenantId: principal.tenantIds[0] };
  if (tenant === undefined || !principal.tenantIds.includes(tenant)) {
    const error = new ValidationError([{ path: ['events', index, 'tenantId'], message: 'must name one of your tenants' }]);
    (error as { eventIndex?: number }).eventIndex = index;
    throw error;
  }
  return record;
}

function mergeMasked(rows: readonly TopEntry[]): TopEntry[] {
  const merged = new Map<string, TopEntry>();
  for (const row of rows) {
    const value = maskIp(String(row.value)) ?? '';
    const entry = merged.get(value);
    if (!entry) {
      merged.set(value, { ...row, value, sums: { ...row.sums } });
      continue;
    }
    entry.count += row.count;
    for (const [name, sum] of Object.entries(row.sums)) entry.sums[name] = (entry.sums[name] ?? 0) + sum;
  }
  return [...merged.values()].sort((a, b) => b.count - a.count);
}

function exportRows(
  reader: EventLogReader,
  input: ViewExportInput,
  event: <E extends StoredEvent | null>(e: E) => E,
): AsyncIterable<string> {
  const columns = input.columns;
  if (!columns?.some((c) => typeof c !== 'string')) return reader.exportCsv(input as ExportInput);
  const mapped = (columns ?? []).map((c) =>
    typeof c === 'string' ? { header: c, value: (e: StoredEvent) => String((e as unknown as Record<string, unknown>)[c] ?? '') } : c,
  );
  const filter: FilterInput = input.filter ?? {};
  const maxRows = input.maxRows ?? Number.POSITIVE_INFINITY;
  return (async function* rows() {
    if (input.header !== false) yield csvLine(mapped.map((c) => c.header));
    let cursor: string | null = null;
    let written = 0;
    while (written < maxRows) {
      const limit = Math.min(input.batchSize ?? 500, maxRows - written);
      const sort = input.order ? { sort: { field: 'time', direction: input.order } } : {};
      const result: CursorResult = await reader.query({ filter, limit, cursor, ...sort });
      let chunk = '';
      for (const e of result.items) chunk += csvLine(mapped.map((c) => c.value(event(e))));
      written += result.items.length;
      if (chunk) yield chunk;
      if (!result.nextCursor) return;
      cursor = result.nextCursor;
    }
  })();
}
