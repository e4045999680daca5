import type { CountByEntry, EventLogView, Timeline } from '@eventlog/core';
import { type FilterInput, isValidTimeZone, MAX_LIST_VALUES } from '@eventlog/core';
import type { AnyEventLog } from '../../profile.js';
import { formatSqlTime, startOfZonedHour } from '../zoned-time.js';
import type { ProxyLogsOptions } from './options.js';
import { PROXY_REQUEST_TYPE } from './preset.js';

const BLOCKED_OUTCOMES = ['BLOCKED', 'DENIED', 'Blocked', 'Denied', 'blocked', 'denied'];
/** One hour in milliseconds. @internal */
export const HOUR = 3_600_000;

/** The three filters whose counts give "blocked" by inclusion–exclusion: outcome, status 403, both. @internal */
export function blockedFilters(base: FilterInput): [FilterInput, FilterInput, FilterInput] {
  const byStatus = { ...base.dimensions, status_code: 403 };
  return [
    { ...base, outcome: BLOCKED_OUTCOMES },
    { ...base, dimensions: byStatus },
    { ...base, outcome: BLOCKED_OUTCOMES, dimensions: byStatus },
  ];
}

/** A filter's 403s whose outcome is not a blocked one. @internal */
export interface UnblockedForbidden {
  readonly count: number;
  /**
   * Their outcomes, when a filter can select exactly them: none is null (a filter cannot ask for
   * null) and there are at most `MAX_LIST_VALUES`; else null.
   */
  readonly outcomes: string[] | null;
}

/** Requests of a filter, as the proxy counts them. @internal */
export interface RequestCounts {
  readonly total: number;
  /** Outcome blocked or denied, or status 403. */
  readonly blocked: number;
  /** Status 403 with an outcome that is not a blocked one (none when the outcome was derived from the status). */
  readonly forbiddenUnblocked: number;
}

/** What the proxy profile's routes share: resolved options and the reads several routes make. @internal */
export interface ProxyContext {
  readonly options: ProxyLogsOptions;
  readonly timeZone: string;
  readonly clock: () => number;
  readonly types: string[];
  readonly maxLimit: number;
  /** `YYYY-MM-DD HH:MM:SS` in the profile's zone. */
  time(ms: number): string;
  /** A filter on request events. */
  requests(extra?: FilterInput): FilterInput;
  /** The last `hours` hours up to `now` (the clock by default), or everything. */
  windowOf(hours: number | undefined, now?: number): FilterInput;
  /** The view every read goes through, masking IPs in GDPR mode. */
  viewFor(log: AnyEventLog): Promise<{ view: EventLogView; gdpr: boolean }>;
  /**
   * All and blocked requests of a filter, from grouped counts instead of one count per figure: a
   * count by outcome, and one by outcome over its 403 rows. With `outer`, the counts of a filter
   * that `base` narrows, the second is skipped when `outer` has no 403 row with an unblocked
   * outcome (then `base` has none either).
   */
  countRequests(view: EventLogView, base: FilterInput, outer?: Promise<RequestCounts>): Promise<RequestCounts>;
  /**
   * The 403s of `base` whose outcome is not blocked or denied, from one grouped count by outcome
   * (rollups answer it from the `status_code` table). A filter that `base` narrows has none when
   * `count` is 0, and only these outcomes among its 403s otherwise.
   */
  unblockedForbidden(view: EventLogView, base: FilterInput): Promise<UnblockedForbidden>;
  /**
   * Hourly totals, blocked counts and bytes over the last `hours` hours up to `now`, one row per
   * hour. `outer` are the counts of `requests(windowOf(hours, now))`, which holds these hours.
   */
  hourly(
    view: EventLogView,
    hours: number,
    within?: { now: number; outer: Promise<RequestCounts> },
  ): Promise<{ time: string; total: number; blocked: number; bytes: number }[]>;
}

/** Resolves the options into the shared context, checking them up front. @internal */
export function createProxyContext(options: ProxyLogsOptions): ProxyContext {
  const timeZone = options.timeZone ?? 'UTC';
  if (!isValidTimeZone(timeZone)) throw new TypeError(`proxyLogs: "${timeZone}" is not an IANA time zone.`);
  const types = [...(options.types ?? [PROXY_REQUEST_TYPE])];
  const clock = options.clock ?? Date.now;
  const time = (ms: number) => formatSqlTime(ms, timeZone);
  const requests = (extra: FilterInput = {}): FilterInput => ({ ...extra, type: types });
  const isBlocked = (g: CountByEntry) => typeof g.value === 'string' && BLOCKED_OUTCOMES.includes(g.value);
  const sum = (groups: CountByEntry[], blockedOnly: boolean) =>
    groups.reduce((n, g) => (!blockedOnly || isBlocked(g) ? n + g.count : n), 0);
  // Blocked = outcome blocked + (status 403 with any other outcome). The second term is a count by
  // outcome over the 403 rows (rollups answer it from the status_code table), and it is 0 for
  // every narrower filter once it is 0 for a wider one.
  const unblockedForbidden = async (view: EventLogView, base: FilterInput): Promise<UnblockedForbidden> => {
    const groups = await view.countBy({ by: 'outcome', filter: blockedFilters(base)[1] });
    const unblocked = groups.filter((g) => !isBlocked(g));
    const outcomes =
      unblocked.every((g) => g.value !== null) && unblocked.length <= MAX_LIST_VALUES ? unblocked.map((g) => String(g.value)) : null;
    return { count: sum(unblocked, false), outcomes };
  };
  const forbiddenUnblocked = async (view: EventLogView, base: FilterInput) => (await unblockedForbidden(view, base)).count;
  const countRequests = async (view: EventLogView, base: FilterInput, outer?: Promise<RequestCounts>): Promise<RequestCounts> => {
    const extra = outer
      ? outer.then((o) => (o.forbiddenUnblocked === 0 ? 0 : forbiddenUnblocked(view, base)))
      : forbiddenUnblocked(view, base);
    const [all, unblocked] = await Promise.all([view.countBy({ by: 'outcome', filter: base }), extra]);
    return { total: sum(all, false), blocked: sum(all, true) + unblocked, forbiddenUnblocked: unblocked };
  };
  const windowOf = (hours: number | undefined, now = clock()): FilterInput =>
    hours === undefined ? {} : { since: now - hours * HOUR, until: now + 1 };
  return {
    options,
    timeZone,
    clock,
    types,
    maxLimit: options.maxLimit ?? 1000,
    time,
    requests,
    windowOf,
    async viewFor(log) {
      const gdpr = typeof options.gdpr === 'function' ? Boolean(await options.gdpr()) : Boolean(options.gdpr);
      return { view: log.view(gdpr ? { maskIp: true } : {}), gdpr };
    },
    countRequests,
    unblockedForbidden,
    async hourly(view, hours, within) {
      const now = within?.now ?? clock();
      // Whole local hours: the oldest bucket starts at the top of its hour, the newest holds now.
      const since = startOfZonedHour(now - (hours - 1) * HOUR, timeZone);
      const filter = requests({ since, until: now + 1 });
      const [byOutcome, byStatus, both] = blockedFilters(filter);
      const outer = within && since >= Number(windowOf(hours, now).since) ? within.outer : undefined;
      const unblocked = outer ? outer.then((o) => o.forbiddenUnblocked) : forbiddenUnblocked(view, filter);
      const timeline = (f: FilterInput, metrics: string[] = []) => view.timeline({ filter: f, bucket: 'hour', timeZone, metrics });
      const [all, blockedOutcome, forbidden] = await Promise.all([
        timeline(filter, ['bytes']),
        timeline(byOutcome),
        // Per hour, 403 rows whose outcome is not blocked: only read when there are any.
        unblocked.then((n) => (n === 0 ? null : Promise.all([timeline(byStatus), timeline(both)]))),
      ]);
      const countsOf = (t: Timeline) => new Map(t.points.map((p) => [p.start, p.count]));
      const [outcomes, statuses, overlaps] = [blockedOutcome, forbidden?.[0], forbidden?.[1]].map((t) => (t ? countsOf(t) : undefined));
      return all.points.map((p) => ({
        time: time(p.start),
        total: p.count,
        blocked: (outcomes?.get(p.start) ?? 0) + (statuses?.get(p.start) ?? 0) - (overlaps?.get(p.start) ?? 0),
        bytes: p.sums.bytes ?? 0,
      }));
    },
  };
}
