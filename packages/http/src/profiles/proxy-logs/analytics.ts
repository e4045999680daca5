import type { EventLogView, FilterInput, TopEntry } from '@eventlog/core';
import { z } from 'zod';
import { queryInt } from '../../params.js';
import type { AnyEventLog, RouteGroup } from '../../profile.js';
import type { ProxyUser } from './auth.js';
import { blockedFilters, type ProxyContext } from './context.js';
import { hoursParam } from './routes.js';

const limitParam = (fallback: number, max: number) => queryInt({ min: 1, max, default: fallback });

function percent(part: number, whole: number): number {
  return whole > 0 ? Math.round((part / whole) * 10_000) / 100 : 0;
}

const USER_AGENT_KINDS: [string, RegExp][] = [
  ['Bot / Crawler', /bot\b|crawl|spider|slurp|bingpreview|facebookexternalhit/i],
  [
    'OS / Software Update',
    /windows-update-agent|microsoft-delivery-optimization|debian apt|apt-http|\bapt\/|\byum\/|\bdnf\/|softwareupdate|appstored/i,
  ],
  ['Command-Line Tool', /^(curl|wget|httpie|aria2|powershell)\b/i],
  [
    'Script / Library',
    /python-requests|python-urllib|aiohttp|go-http-client|\bjava\/|okhttp|axios|node-fetch|undici|libwww-perl|\bruby\b|apache-httpclient|\bdart\b/i,
  ],
  ['Mobile App', /cfnetwork|dalvik/i],
  ['Web Browser', /^mozilla\/\d.*(chrome|firefox|safari|edg|opr)\//i],
];

/** The service type of a user agent, for the user-agent breakdown. @internal */
export function classifyUserAgent(agent: string): string {
  if (agent.trim() === '') return 'Unknown';
  for (const [kind, pattern] of USER_AGENT_KINDS) if (pattern.test(agent)) return kind;
  return 'Other';
}

/**
 * Top values of `by` with their request count, blocked count and bytes. Blocked is counted as
 * `/api/logs/stats` counts it: the blocked outcomes, plus the 403s with another outcome, the
 * second read per value only when the whole filter has such 403s (usually none: then every read
 * here comes from the `ip` or `host` rollup table, and none names `status_code` beside it). When
 * the view masks IPs, the top values are masked (merged) ones that no filter can match, so blocked
 * counts come from masked top lists of the whole filter instead of lists restricted to the values.
 */
async function topWithBlocked(
  context: ProxyContext,
  log: AnyEventLog,
  view: EventLogView,
  by: 'ip' | 'host',
  base: FilterInput,
  limit: number,
  masked: boolean,
) {
  const [byOutcome, byStatus, both] = blockedFilters(base);
  const wide = (f: FilterInput) => view.top({ by, filter: f, limit: log.limits.maxTopLimit });
  // Masked, the blocked lists do not depend on the top values: the first one is read beside them.
  const [top, unblocked, maskedByOutcome] = await Promise.all([
    view.top({ by, filter: base, limit, orderBy: 'count' }),
    context.unblockedForbidden(view, base),
    masked ? wide(byOutcome) : null,
  ]);
  if (top.length === 0) return [];
  const values = top.map((t) => t.value);
  const restrict = (f: FilterInput): FilterInput =>
    by === 'ip' ? { ...f, ip: values as string[] } : { ...f, dimensions: { ...f.dimensions, host: values } };
  const topOf = (f: FilterInput) => (masked ? wide(f) : view.top({ by, filter: restrict(f), limit: values.length }));
  // Lists whose counts add up to each value's blocked count, with their signs.
  const lists: [TopEntry[] | Promise<TopEntry[]>, 1 | -1][] = [[maskedByOutcome ?? topOf(byOutcome), 1]];
  if (unblocked.count > 0 && unblocked.outcomes) {
    // The 403s with an unblocked outcome, by those outcomes: one list instead of 403s minus both.
    lists.push([topOf({ ...byStatus, outcome: unblocked.outcomes }), 1]);
  } else if (unblocked.count > 0) {
    lists.push([topOf(byStatus), 1], [topOf(both), -1]);
  }
  const parts = await Promise.all(lists.map(([list]) => list));
  const blockedOf = (value: string | number) =>
    parts.reduce((n, rows, i) => n + (lists[i]?.[1] ?? 1) * (rows.find((r) => r.value === value)?.count ?? 0), 0);
  return top.map((t) => ({ value: t.value, requests: t.count, blocked: blockedOf(t.value), bytes: t.sums.bytes ?? 0 }));
}

/** The traffic, client, domain, user-agent and file-extension analytics, added to the authenticated group. @internal */
export function addAnalyticsRoutes(context: ProxyContext, group: RouteGroup<ProxyUser>): void {
  const { requests, windowOf } = context;
  const maxUserAgents = context.options.maxUserAgents ?? 1000;

  group.route({
    method: 'GET',
    path: '/api/traffic/statistics',
    cost: 'expensive',
    query: z.object({ hours: hoursParam(24) }),
    run: async ({ log, query }) => {
      const { view } = await context.viewFor(log);
      const hours = query.hours ?? 24;
      const now = context.clock();
      const base = requests(windowOf(hours, now));
      const counts = context.countRequests(view, base);
      const [statsResult, { blocked }, methods, statuses, perHour] = await Promise.all([
        view.stats(base),
        counts,
        view.top({ by: 'method', filter: base, limit: 20 }),
        view.top({ by: 'status_code', filter: base, limit: 20 }),
        context.hourly(view, hours, { now, outer: counts }),
      ]);
      return {
        status: 'success',
        data: {
          hours,
          total_requests: statsResult.count,
          blocked_requests: blocked,
          allowed_requests: statsResult.count - blocked,
          total_bytes: statsResult.sums.bytes ?? 0,
          requests_last_minute: statsResult.rpm,
          methods: methods.map((m) => ({ method: String(m.value), count: m.count })),
          status_codes: statuses.map((s) => ({ status_code: Number(s.value), count: s.count })),
          hourly: perHour,
        },
      };
    },
    docs: { summary: 'Traffic totals, methods, status codes and hourly volume', tags: ['analytics'] },
  });

  group.route({
    method: 'GET',
    path: '/api/clients/statistics',
    cost: 'expensive',
    query: z.object({ limit: limitParam(10, 100), hours: hoursParam() }),
    run: async ({ log, query }) => {
      const { view, gdpr } = await context.viewFor(log);
      const rows = await topWithBlocked(context, log, view, 'ip', requests(windowOf(query.hours)), query.limit ?? 10, gdpr);
      const data = rows.map((r) => ({ client_ip: String(r.value), requests: r.requests, blocked: r.blocked, bytes: r.bytes }));
      return { status: 'success', data: data.sort((a, b) => b.requests - a.requests) };
    },
    docs: { summary: 'Top clients by requests', tags: ['analytics'] },
  });

  group.route({
    method: 'GET',
    path: '/api/domains/statistics',
    cost: 'expensive',
    query: z.object({ limit: limitParam(10, 100), hours: hoursParam() }),
    run: async ({ log, query }) => {
      const { view } = await context.viewFor(log);
      const rows = await topWithBlocked(context, log, view, 'host', requests(windowOf(query.hours)), query.limit ?? 10, false);
      return {
        status: 'success',
        data: rows.map((r) => ({ domain: String(r.value), requests: r.requests, blocked: r.blocked, bytes: r.bytes })),
      };
    },
    docs: { summary: 'Top accessed domains', tags: ['analytics'] },
  });

  group.route({
    method: 'GET',
    path: '/api/analytics/top-domains',
    cost: 'expensive',
    query: z.object({ limit: limitParam(50, 200), hours: hoursParam() }),
    run: async ({ log, query }) => {
      const { view } = await context.viewFor(log);
      const rows = await view.top({ by: 'host', filter: requests(windowOf(query.hours)), limit: query.limit ?? 50 });
      return { status: 'success', data: rows.map((r) => ({ domain: String(r.value), count: r.count })) };
    },
    docs: { summary: 'Top domains for the word cloud', tags: ['analytics'] },
  });

  group.route({
    method: 'GET',
    path: '/api/analytics/user-agents',
    cost: 'expensive',
    query: z.object({ hours: hoursParam(), limit: limitParam(20, 100) }),
    run: async ({ log, query }) => {
      const { view } = await context.viewFor(log);
      const base = requests(windowOf(query.hours));
      const [total, agents] = await Promise.all([view.count(base), view.top({ by: 'userAgent', filter: base, limit: maxUserAgents })]);
      const byType = new Map<string, number>();
      let known = 0;
      for (const agent of agents) {
        const kind = classifyUserAgent(String(agent.value));
        byType.set(kind, (byType.get(kind) ?? 0) + agent.count);
        known += agent.count;
      }
      // Requests without a user agent, and any beyond the scanned distinct agents.
      if (total > known) byType.set('Unknown', (byType.get('Unknown') ?? 0) + total - known);
      const serviceTypes = [...byType.entries()]
        .map(([service_type, count]) => ({ service_type, count, percentage: percent(count, total) }))
        .sort((a, b) => b.count - a.count);
      const topAgents = agents.slice(0, query.limit ?? 20).map((a) => ({
        user_agent: String(a.value),
        service_type: classifyUserAgent(String(a.value)),
        count: a.count,
      }));
      return { status: 'success', data: { total_requests: total, service_types: serviceTypes, user_agents: topAgents } };
    },
    docs: { summary: 'Service-type breakdown by user agent', tags: ['analytics'] },
  });

  group.route({
    method: 'GET',
    path: '/api/analytics/file-extensions',
    cost: 'expensive',
    query: z.object({ hours: hoursParam(), limit: limitParam(20, 100) }),
    run: async ({ log, query }) => {
      const { view } = await context.viewFor(log);
      const base = requests(windowOf(query.hours));
      const [total, rows] = await Promise.all([
        view.count(base),
        view.top({ by: 'file_extension', filter: base, limit: query.limit ?? 20 }),
      ]);
      return {
        status: 'success',
        data: rows.map((r: TopEntry) => ({
          extension: String(r.value),
          count: r.count,
          bytes: r.sums.bytes ?? 0,
          percentage: percent(r.count, total),
        })),
      };
    },
    docs: { summary: 'File-extension distribution of requested paths', tags: ['analytics'] },
  });
}
