import type { CountByEntry, EventLogView } from '@eventlog/core';
import { type FilterInput, isValidTimeZone } from '@eventlog/core';
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
  /** The last `hours` hours, or everything. */
  windowOf(hours: number | undefined): FilterInput;
  /** The view every read goes through, masking IPs in GDPR mode. */
  viewFor(log: AnyEventLog): Promise<{ view: EventLogView; gdpr: boolean }>;
  countBlocked(view: EventLogView, base: FilterInput): Promise<number>;
  /** All and blocked requests of a filter, from two grouped counts instead of one count per figure. */
  countRequests(view: EventLogView, base: FilterInput): Promise<{ total: number; blocked: number }>;
  /** Hourly totals, blocked counts and bytes over the last `hours` hours, one row per hour. */
  hourly(view: EventLogView, hours: number): Promise<{ time: string; total: number; blocked: number; bytes: number }[]>;
}

/** Resolves the options into the shared context, checking them up front. @internal */
export function createProxyContext(options: ProxyLogsOptions): ProxyContext {
  const timeZone = options.timeZone ?? 'UTC';
  if (!isValidTimeZone(timeZone)) throw new TypeError(`proxyLogs: "${timeZone}" is not an IANA time zone.`);
  const types = [...(options.types ?? [PROXY_REQUEST_TYPE])];
  const clock = options.clock ?? Date.now;
  const time = (ms: number) => formatSqlTime(ms, timeZone);
  const requests = (extra: FilterInput = {}): FilterInput => ({ ...extra, type: types });
  // Blocked = outcome blocked + status 403 − both. Counting by outcome over the filter and over its
  // 403 rows gives all four terms (and the total) in two grouped reads.
  const countRequests = async (view: EventLogView, base: FilterInput) => {
    const [all, forbidden] = await Promise.all([
      view.countBy({ by: 'outcome', filter: base }),
      view.countBy({ by: 'outcome', filter: blockedFilters(base)[1] }),
    ]);
    const sum = (groups: CountByEntry[], blockedOnly: boolean) =>
      groups.reduce((n, g) => (!blockedOnly || (typeof g.value === 'string' && BLOCKED_OUTCOMES.includes(g.value)) ? n + g.count : n), 0);
    return { total: sum(all, false), blocked: sum(all, true) + sum(forbidden, false) - sum(forbidden, true) };
  };
  const countBlocked = async (view: EventLogView, base: FilterInput): Promise<number> => (await countRequests(view, base)).blocked;
  return {
    options,
    timeZone,
    clock,
    types,
    maxLimit: options.maxLimit ?? 1000,
    time,
    requests,
    windowOf: (hours) => (hours === undefined ? {} : { since: clock() - hours * HOUR, until: clock() + 1 }),
    async viewFor(log) {
      const gdpr = typeof options.gdpr === 'function' ? Boolean(await options.gdpr()) : Boolean(options.gdpr);
      return { view: log.view(gdpr ? { maskIp: true } : {}), gdpr };
    },
    countBlocked,
    countRequests,
    async hourly(view, hours) {
      const now = clock();
      // Whole local hours: the oldest bucket starts at the top of its hour, the newest holds now.
      const filter = requests({ since: startOfZonedHour(now - (hours - 1) * HOUR, timeZone), until: now + 1 });
      const [all, ...blocked] = await Promise.all([
        view.timeline({ filter, bucket: 'hour', timeZone, metrics: ['bytes'] }),
        ...blockedFilters(filter).map((f) => view.timeline({ filter: f, bucket: 'hour', timeZone })),
      ]);
      const counts = blocked.map((t) => new Map(t.points.map((p) => [p.start, p.count])));
      return all!.points.map((p) => ({
        time: time(p.start),
        total: p.count,
        blocked: (counts[0]?.get(p.start) ?? 0) + (counts[1]?.get(p.start) ?? 0) - (counts[2]?.get(p.start) ?? 0),
        bytes: p.sums.bytes ?? 0,
      }));
    },
  };
}
