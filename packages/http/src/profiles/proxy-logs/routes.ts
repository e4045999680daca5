import { isIP } from 'node:net';
import type { StoredEvent } from '@eventlog/core';
import { z } from 'zod';
import { HttpError } from '../../errors.js';
import { queryInt, queryString } from '../../params.js';
import { json, type Route, type RouteGroup } from '../../profile.js';
import { startOfZonedDay } from '../zoned-time.js';
import { adminOnly, type ProxyUser } from './auth.js';
import { blockedFilters, type ProxyContext } from './context.js';
import { proxyAuditEvent } from './events.js';
import type { TokenService } from './jwt.js';
import type { ProxyHook } from './options.js';
import { PROXY_AUDIT_TYPE } from './preset.js';

const DAY = 86_400_000;
const END_OF_TIME = Date.UTC(9999, 11, 31) + 1;

const SORTS: Record<string, string> = {
  timestamp: 'time',
  source_ip: 'ip',
  destination: 'destination',
  status: 'status_code',
  bytes: 'bytes',
  method: 'method',
};

/** `hours` of the windowed endpoints: 1 to 720. @internal */
export const hoursParam = (fallback?: number) => queryInt({ min: 1, max: 720, ...(fallback === undefined ? {} : { default: fallback }) });

/** `POST /api/auth/login`, outside the authenticated group. @internal */
export function loginRoute(context: ProxyContext, tokens: TokenService): Route {
  return {
    method: 'POST',
    path: '/api/auth/login',
    body: z.object(
      {
        username: z.string({ error: 'is required' }).min(1, 'is required').max(128, 'must be at most 128 characters'),
        password: z.string({ error: 'is required' }).max(1024, 'must be at most 1024 characters'),
      },
      { error: 'body: send a JSON object with username and password' },
    ),
    maxBodyBytes: 8 * 1024,
    run: async ({ body, request }: { body: { username: string; password: string }; request: Request }) => {
      const user = await context.options.authenticate({ username: body.username, password: body.password }, request);
      if (!user) throw new HttpError('UNAUTHORIZED', 'Invalid username or password');
      const token = await tokens.issue(user.username, user.role ?? 'admin', context.clock());
      return json({ access_token: token, token_type: 'bearer', expires_in: tokens.ttlSeconds });
    },
    docs: { summary: 'Exchange a user name and password for a JWT', secured: false, tags: ['auth'] },
  };
}

/** The access-log, audit-log, dashboard and settings-hook routes, added to the authenticated group. @internal */
export function addLogRoutes(context: ProxyContext, group: RouteGroup<ProxyUser>): void {
  const { options, requests, time, clock, types, maxLimit } = context;
  const retentionDays = async () => {
    const days = typeof options.retentionDays === 'function' ? await options.retentionDays() : (options.retentionDays ?? 30);
    return Number.isFinite(days) && days >= 1 ? Math.floor(days) : 30;
  };
  const itemOf = (event: StoredEvent) => ({
    id: event.id,
    timestamp: time(event.time),
    client_ip: event.ip ?? '',
    method: String(event.dimensions.method ?? event.action ?? ''),
    destination: String(event.dimensions.destination ?? event.dimensions.host ?? event.target.name ?? ''),
    status: String(event.dimensions.status_text ?? event.dimensions.status_code ?? ''),
    bytes: event.metrics.bytes ?? 0,
  });

  group.route({
    method: 'GET',
    path: ['/api/logs', '/api/logs/'],
    query: z.object({
      limit: queryInt({ min: 1, max: maxLimit, default: 100 }),
      // The deepest offset is the log's `limits.maxOffset`, enforced by the core's offset query.
      offset: queryInt({ min: 0, default: 0 }),
      sort: z
        .unknown()
        .optional()
        .transform((v) => (typeof v === 'string' && Object.hasOwn(SORTS, v) ? v : 'timestamp')),
      order: z
        .unknown()
        .optional()
        .transform((v): 'asc' | 'desc' => (typeof v === 'string' && v.trim().toLowerCase() === 'asc' ? 'asc' : 'desc')),
      search: queryString({ max: 200 }),
    }),
    run: async ({ log, query }) => {
      const { view, gdpr } = await context.viewFor(log);
      const { limit, offset } = query;
      const filter = requests();
      const term = query.search?.trim();
      // An address is matched exactly against the client IP (not in GDPR mode, where addresses are hidden).
      if (term && isIP(term) && !gdpr) filter.ip = term;
      else if (term) filter.search = term;
      const sort = { field: SORTS[query.sort] ?? 'time', direction: query.order };
      const { items, total } = await view.query({ filter, sort, limit, offset });
      return { status: 'success', data: items.map(itemOf), total, limit, offset };
    },
    docs: { summary: 'Proxy access log entries', tags: ['logs'] },
  });

  group.route({
    method: 'GET',
    path: '/api/logs/stats',
    cost: 'expensive',
    run: async ({ log }) => {
      const { view } = await context.viewFor(log);
      const all = context.countRequests(view, requests());
      const [{ total, blocked }, { blocked: ipBlocks }, last] = await Promise.all([
        all,
        context.countRequests(view, requests({ dimensions: { destination_is_ip: 1 } }), all),
        options.lastImport ? options.lastImport() : view.latest({ type: types }).then((e) => (e ? e.time : null)),
      ]);
      const lastMs = last === null || last === undefined ? null : last instanceof Date ? last.getTime() : last;
      return {
        status: 'success',
        data: { total_count: total, blocked_count: blocked, ip_blocks_count: ipBlocks, last_import: lastMs === null ? null : time(lastMs) },
      };
    },
    docs: { summary: 'Totals of the access log', tags: ['logs'] },
  });

  group.route({
    method: 'GET',
    path: '/api/logs/timeline',
    cost: 'expensive',
    query: z.object({ hours: hoursParam(24) }),
    run: async ({ log, query }) => {
      const { view } = await context.viewFor(log);
      const rows = await context.hourly(view, query.hours ?? 24);
      return { status: 'success', data: rows.map(({ time: t, total, blocked }) => ({ time: t, total, blocked })) };
    },
    docs: { summary: 'Hourly request and block counts', tags: ['logs'] },
  });

  const optionalBody = z.looseObject({ days: z.unknown().optional() }, { error: 'body: send a JSON object (or nothing)' }).optional();

  group.route({
    method: 'POST',
    path: '/api/logs/clear',
    body: optionalBody,
    maxBodyBytes: 4 * 1024,
    run: async ({ log, auth: user, signal }) => {
      adminOnly(user);
      const deleted = await log.prune({ before: END_OF_TIME, filter: requests(), signal });
      await log.record(proxyAuditEvent(user.username, 'clear_logs', `Cleared all proxy logs (${deleted} entries)`));
      return { status: 'success', message: 'All logs cleared', deleted };
    },
    docs: { summary: 'Delete every access-log entry (audited)', tags: ['logs'] },
  });

  const daysSchema = queryInt({ min: 1, max: 36_500 });
  group.route({
    method: 'POST',
    path: '/api/logs/clear-old',
    query: z.object({ days: daysSchema }),
    body: optionalBody,
    maxBodyBytes: 4 * 1024,
    run: async ({ log, auth: user, query, body, signal }) => {
      adminOnly(user);
      let days = query.days;
      if (days === undefined && body?.days !== undefined) {
        const parsed = daysSchema.safeParse(typeof body.days === 'number' ? String(body.days) : body.days);
        if (!parsed.success) throw new HttpError('BAD_REQUEST', 'Invalid body field "days": must be a whole number from 1 to 36500.');
        days = parsed.data;
      }
      days ??= await retentionDays();
      const deleted = await log.prune({ before: clock() - days * DAY, filter: requests(), signal });
      await log.record(proxyAuditEvent(user.username, 'clear_old_logs', `Cleared proxy logs older than ${days} days (${deleted} entries)`));
      return { status: 'success', message: 'Cleared old logs', deleted, days };
    },
    docs: { summary: 'Delete entries older than the retention period (audited)', tags: ['logs'] },
  });

  group.route({
    method: 'GET',
    path: ['/api/audit-log', '/api/audit-log/'],
    query: z.object({ limit: queryInt({ min: 1, max: maxLimit, default: 100 }), offset: queryInt({ min: 0, default: 0 }) }),
    run: async ({ log, auth: user, query }) => {
      adminOnly(user);
      const { limit, offset } = query;
      const { items, total } = await log.query({ filter: { type: PROXY_AUDIT_TYPE }, limit, offset });
      const data = items.map((e) => ({
        id: e.id,
        username: e.actor.name ?? e.actor.id ?? '',
        action: e.action ?? '',
        target: e.target.name ?? e.target.id ?? '',
        details: e.message ?? '',
        timestamp: time(e.time),
      }));
      return { status: 'success', data, total, limit, offset };
    },
    docs: { summary: 'Audit log of admin actions', tags: ['audit'] },
  });

  group.route({
    method: 'GET',
    path: '/api/dashboard/summary',
    cost: 'expensive',
    run: async ({ log }) => {
      const { view } = await context.viewFor(log);
      const today = requests({ since: startOfZonedDay(clock(), context.timeZone) });
      const recentBlocks = async (count: number) => {
        // Keyset pages: the newest rows of each blocked filter without counting all of them.
        const pages = await Promise.all(
          blockedFilters(requests())
            .slice(0, 2)
            .map((filter) => view.query({ filter, limit: count })),
        );
        const seen = new Set<number>();
        return pages
          .flatMap((p) => p.items)
          .sort((a, b) => b.time - a.time || b.id - a.id)
          .filter((e) => !seen.has(e.id) && seen.add(e.id))
          .slice(0, count)
          .map((e) => {
            const item = itemOf(e);
            return { timestamp: item.timestamp, source_ip: item.client_ip, destination: item.destination, status: item.status };
          });
      };
      const all = context.countRequests(view, requests());
      const [{ total, blocked }, { total: todayTotal, blocked: todayBlocked }, recent] = await Promise.all([
        all,
        context.countRequests(view, today, all),
        recentBlocks(10),
      ]);
      return {
        status: 'success',
        data: {
          total_requests: total,
          blocked_requests: blocked,
          today_requests: todayTotal,
          today_blocked: todayBlocked,
          recent_blocks: recent,
        },
      };
    },
    docs: { summary: 'Dashboard totals and the latest blocks', tags: ['analytics'] },
  });
}

/** A settings endpoint answered by a host hook, else a clear 404. @internal */
export function addHookRoute(group: RouteGroup<ProxyUser>, path: string, hook: ProxyHook | undefined, summary: string): void {
  group.route({
    method: 'GET',
    path,
    run: async ({ auth: user, request, log }) => {
      if (!hook) throw new HttpError('NOT_FOUND', `${path} is not available: this server serves the proxy's logs, not its settings.`);
      return { status: 'success', data: (await hook({ user, request, log })) ?? null };
    },
    docs: { summary, tags: ['settings'] },
  });
}
