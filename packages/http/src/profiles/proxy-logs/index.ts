import { createRouteGroup, json, type Profile } from '../../profile.js';
import { addAnalyticsRoutes } from './analytics.js';
import { type ProxyUser, proxyAuthenticator } from './auth.js';
import { createProxyContext } from './context.js';
import { createTokenService } from './jwt.js';
import type { ProxyLogsOptions } from './options.js';
import { proxyLogsPreset } from './preset.js';
import { addHookRoute, addLogRoutes, loginRoute } from './routes.js';

export { type ProxyAuthenticate, type ProxyUser, type ProxyUserEntry, proxyUsers } from './auth.js';
export { type ProxyRequestInput, proxyAuditEvent, proxyRequestEvent } from './events.js';
export type { ProxyHook, ProxyHookContext, ProxyLogsOptions } from './options.js';
export { PROXY_AUDIT_TYPE, PROXY_REQUEST_TYPE, proxyLogsPreset, proxyRequestDataSchema, proxyRetentionPolicy } from './preset.js';

/**
 * A forward proxy's logs-and-analytics admin API: `GET /api/logs` (limit/offset/sort/order/search),
 * `/api/logs/stats`, `/api/logs/timeline`, `POST /api/logs/clear` and `/api/logs/clear-old`,
 * `/api/audit-log`, the dashboard summary and the traffic, client, domain, user-agent,
 * file-extension and top-domain analytics, and `POST /api/auth/login` for JWTs. Answers are compact
 * `{"status":"success","data":…}` (lists add `total`, `limit`, `offset`); errors are
 * `{"status":"error","detail":…}` with the HTTP status.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * import { createEventLog } from '@eventlog/core';
 * import { createSqliteStore } from '@eventlog/adapters/sqlite';
 * import { createHandler } from '@eventlog/http';
 * import { toNodeHandler } from '@eventlog/http/node';
 * import { proxyLogs, proxyLogsPreset, proxyUsers } from '@eventlog/http/proxy-logs';
 *
 * const log = createEventLog({ store: createSqliteStore({ filename: 'proxy.db' }), presets: [proxyLogsPreset] });
 * const handler = createHandler({
 *   log,
 *   profiles: [
 *     proxyLogs({
 *       authenticate: proxyUsers([{ username: 'admin', password: process.env.ADMIN_PASSWORD ?? 'change-me' }]),
 *       jwtSecret: process.env.JWT_SECRET ?? 'a development secret of at least 32 bytes',
 *       gdpr: true,
 *       retentionDays: 30,
 *     }),
 *   ],
 * });
 * createServer(toNodeHandler(handler)).listen(8000);
 * ```
 */
export function proxyLogs(options: ProxyLogsOptions): Profile {
  if (typeof options?.authenticate !== 'function') throw new TypeError('proxyLogs needs an authenticate hook, e.g. proxyUsers([...]).');
  const context = createProxyContext(options);
  const tokens = createTokenService(options.jwtSecret, options.tokenTtlSeconds);
  const secured = createRouteGroup<ProxyUser>({ authenticate: proxyAuthenticator(options.authenticate, tokens, context.clock) });
  addLogRoutes(context, secured);
  addAnalyticsRoutes(context, secured);
  const hooks = options.hooks ?? {};
  addHookRoute(secured, '/api/security/score', hooks.securityScore, 'Security score (host hook)');
  addHookRoute(secured, '/api/analytics/shadow-it', hooks.shadowIt, 'Shadow-IT detection (host hook)');
  addHookRoute(secured, '/api/waf/stats', hooks.wafStats, 'WAF statistics (host hook)');
  addHookRoute(secured, '/api/waf/categories', hooks.wafCategories, 'WAF rule categories (host hook)');
  return {
    name: 'proxyLogs',
    preset: proxyLogsPreset,
    prefixes: [
      '/api/logs',
      '/api/audit-log',
      '/api/dashboard',
      '/api/traffic',
      '/api/clients',
      '/api/domains',
      '/api/analytics',
      '/api/security',
      '/api/waf',
      '/api/auth',
    ],
    routes: [loginRoute(context, tokens), ...secured.routes],
    success: (data) => json(data),
    failure: (error) => json({ status: 'error', detail: error.message }, error.status),
  };
}
