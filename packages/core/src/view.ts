import { z } from 'zod';
import { type LogCore, parseInput, type Scope, type Subscriber } from './core.js';
import { type FilterInput, matchesConditions } from './filter/filter.js';
import type { QueryInput } from './pagination/query.js';
import { maskIp } from './privacy/mask-ip.js';
import type { createCountByRead } from './read/count-by.js';
import type { createExport } from './read/export.js';
import type { createLatestRead } from './read/latest.js';
import type { createQueryReads } from './read/query.js';
import type { createStatsRead } from './read/stats.js';
import type { createTimelineRead } from './read/timeline.js';
import { type createTopRead, topColumn } from './read/top.js';
import type { EventInput, StoredEvent } from './schema/event.js';
import { fixedConditions } from './scope/fixed-filter.js';
import { allowedTenants, type Principal } from './scope/principal.js';
import type { SessionsApi } from './sessions/session-types.js';
import type { createSessions } from './sessions/sessions.js';
import type { StoredRow } from './storage/contract.js';
import type { EventLogView, OpenSession, ReadOptions, TopEntry, TopInput, ViewOptions } from './types.js';
import type { createWrites } from './write/record.js';

/** Every operation a view binds to its principal. @internal */
export interface Operations {
  reads: ReturnType<typeof createQueryReads>;
  stats: ReturnType<typeof createStatsRead>;
  timeline: ReturnType<typeof createTimelineRead>;
  top: ReturnType<typeof createTopRead>;
  countBy: ReturnType<typeof createCountByRead>;
  latest: ReturnType<typeof createLatestRead>;
  exportCsv: ReturnType<typeof createExport>;
  sessions: ReturnType<typeof createSessions>;
  writes: ReturnType<typeof createWrites>;
}

/**
 * IP masking, the only place it happens: events, sessions, top-N values and export rows all pass
 * through one of these before a caller sees them. @internal
 */
export interface Masker {
  readonly enabled: boolean;
  event(event: StoredEvent): StoredEvent;
  session(session: OpenSession): OpenSession;
  /** Masks `ip` values and merges entries that mask to the same value, re-ranked by `orderBy`. */
  top(entries: TopEntry[], input: TopInput): TopEntry[];
  /** Masks a stored row in place, before any export column reads it. */
  row: ((row: StoredRow) => void) | undefined;
}

/** The masking of a view; a no-op when `enabled` is false. @internal */
export function createMasker(enabled: boolean): Masker {
  const event = (e: StoredEvent): StoredEvent => (enabled ? { ...e, ip: maskIp(e.ip) } : e);
  return {
    enabled,
    event,
    session: (s) => (enabled ? { ...s, event: event(s.event) } : s),
    top: (entries, input) => (enabled && topColumn(input.by) === 'ip' ? mergeMasked(entries, input.orderBy ?? 'count') : entries),
    row: enabled
      ? (row) => {
          if (typeof row.ip === 'string') row.ip = maskIp(row.ip);
        }
      : undefined,
  };
}

/** The log's own sessions API: writes through `sessions`, answers masked by `mask`. @internal */
export function maskedSessions(sessions: Operations['sessions'], list: SessionsApi['list'], mask: Masker): SessionsApi {
  return {
    list,
    open: async (event) => mask.session(await sessions.open(event)),
    close: async (id, closing) => {
      const closed = await sessions.close(id, closing);
      return closed && { ...closed, opened: mask.event(closed.opened), closed: closed.closed && mask.event(closed.closed) };
    },
  };
}

function mergeMasked(entries: TopEntry[], orderBy: string): TopEntry[] {
  const merged = new Map<string, TopEntry>();
  for (const entry of entries) {
    const value = maskIp(String(entry.value)) ?? '';
    const seen = merged.get(value);
    if (!seen) {
      merged.set(value, { value, count: entry.count, sums: { ...entry.sums } });
      continue;
    }
    seen.count += entry.count;
    for (const [name, sum] of Object.entries(entry.sums)) seen.sums[name] = (seen.sums[name] ?? 0) + sum;
  }
  const rank = (e: TopEntry) => (orderBy === 'count' ? e.count : (e.sums[orderBy] ?? 0));
  return [...merged.values()].sort((a, b) => rank(b) - rank(a));
}

const viewOptionsSchema = z.object(
  { principal: z.unknown().optional(), maskIp: z.boolean('must be true or false').optional(), filter: z.unknown().optional() },
  'must be an object',
);

/**
 * A view bound to a principal, a fixed filter and a masking choice: every read scoped to the
 * principal's tenants and the fixed filter, every write checked by its write rule, every result
 * masked when asked. @internal
 */
export function createView(core: LogCore, ops: Operations, options: ViewOptions = {}): EventLogView {
  const parsed = parseInput(viewOptionsSchema, options);
  const principal = parsed.principal as Principal | undefined;
  const tenants = principal === undefined ? null : allowedTenants(principal);
  // The fixed filter is AND-ed into every read through the scope, so no caller's filter can widen it.
  const fixed = fixedConditions(parsed.filter as FilterInput | undefined, core.registry);
  const scope: Scope = fixed.length ? { tenants, fixed } : { tenants };
  const mask = createMasker(parsed.maskIp ?? core.options.maskIp === true);
  const items = <R extends { items: StoredEvent[] }>(result: R): R =>
    mask.enabled ? { ...result, items: result.items.map(mask.event) } : result;
  const nullable = (event: StoredEvent | null) => (event ? mask.event(event) : null);
  const writes = ops.writes.forPrincipal(principal);

  return {
    // One implementation behind the interface's overloads, which only narrow the result by input kind.
    query: (async (input?: QueryInput, options?: ReadOptions) =>
      items(await ops.reads.query(scope, input, options))) as EventLogView['query'],
    count: (filter, options) => ops.reads.count(scope, filter, options),
    get: async (id, options) => nullable(await ops.reads.get(scope, id, options)),
    stats: (filter, options) => ops.stats(scope, filter, options),
    timeline: (input, options) => ops.timeline(scope, input, options),
    top: async (input, options) => mask.top(await ops.top(scope, input, options), input),
    countBy: (input, options) => ops.countBy(scope, input, options),
    latest: async (input, options) => nullable(await ops.latest(scope, input, options)),
    exportCsv: (input, options) => ops.exportCsv(scope, input, mask.row, options),
    subscribe: (filter: FilterInput | undefined, listener: (event: StoredEvent) => void) => {
      core.assertOpen();
      if (typeof listener !== 'function') throw new TypeError('subscribe needs a listener function.');
      const conditions = core.conditions(scope, filter);
      const subscriber: Subscriber = {
        matches: (row) => matchesConditions(row, conditions),
        listener: (event) => listener(mask.event(event)),
      };
      core.subscribers.add(subscriber);
      return () => {
        core.subscribers.delete(subscriber);
      };
    },
    sessions: { list: async (input) => (await ops.sessions.list(scope, input)).map(mask.session) },
    // Without masking the writes' own promises are returned: no second layer per call. With masking, a
    // promise chain, not an async function: a call waiting for room in the buffer would keep a suspended
    // frame (and the validated copy of its event) alive.
    record: (mask.enabled ? (event: EventInput) => writes.record(event).then(mask.event) : writes.record) as EventLogView['record'],
    recordMany: ((events: readonly EventInput[], options?: { returning: 'ids' }) =>
      options?.returning === 'ids'
        ? writes.recordMany(events, true)
        : mask.enabled
          ? writes.recordMany(events).then((stored) => stored.map(mask.event))
          : writes.recordMany(events)) as EventLogView['recordMany'],
    validate: writes.validate,
  };
}
