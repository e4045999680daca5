import {
  defineEventType,
  definePreset,
  HTTP_REQUEST_TYPE,
  httpRequestDataSchema,
  httpRequestsPreset,
  type RetentionPolicy,
} from '@eventlog/core';
import { z } from 'zod';

/**
 * The event type of one proxied (or served) HTTP request: the core's generic `HTTP_REQUEST_TYPE`.
 *
 * @example
 * ```ts
 * import { PROXY_REQUEST_TYPE } from '@eventlog/http/proxy-logs';
 * const filter = { type: PROXY_REQUEST_TYPE, dimensions: { status_code: 403 } };
 * ```
 */
export const PROXY_REQUEST_TYPE = HTTP_REQUEST_TYPE;

/**
 * The event type of one audit-log row (an admin action).
 *
 * @example
 * ```ts
 * import { createEventLog } from '@eventlog/core';
 * import { createSqliteStore } from '@eventlog/adapters/sqlite';
 * import { PROXY_AUDIT_TYPE, proxyLogsPreset } from '@eventlog/http/proxy-logs';
 * const log = createEventLog({ store: createSqliteStore(), presets: [proxyLogsPreset] });
 * await log.record({ type: PROXY_AUDIT_TYPE, actor: { name: 'admin' }, action: 'update_settings', target: { name: 'waf' }, message: 'Enabled WAF' });
 * ```
 */
export const PROXY_AUDIT_TYPE = 'proxy.audit';

/**
 * The `data` payload of `proxy.request`: the core's `httpRequestDataSchema`.
 *
 * @example
 * ```ts
 * import { proxyRequestDataSchema } from '@eventlog/http/proxy-logs';
 * proxyRequestDataSchema.parse({ url: 'http://example.com/a.zip' });
 * ```
 */
export const proxyRequestDataSchema = httpRequestDataSchema;

/**
 * Event types, dimensions and metrics of the forward proxy's access log and audit log: the core's
 * `httpRequestsPreset` (a request is a `proxy.request` event, see `httpRequestEvent`) plus the
 * `proxy.audit` type. An HTTP access log (e.g. the Express request logger) records the same shape.
 *
 * @example
 * ```ts
 * import { createEventLog } from '@eventlog/core';
 * import { createSqliteStore } from '@eventlog/adapters/sqlite';
 * import { proxyLogsPreset, proxyRequestEvent } from '@eventlog/http/proxy-logs';
 *
 * const log = createEventLog({ store: createSqliteStore(), presets: [proxyLogsPreset] });
 * await log.record(proxyRequestEvent({ clientIp: '192.168.1.10', method: 'CONNECT', destination: 'example.com:443', status: '200 Connection established', bytes: 4096 }));
 * ```
 */
export const proxyLogsPreset = definePreset({
  name: 'proxyLogs',
  types: [...httpRequestsPreset.types, defineEventType(PROXY_AUDIT_TYPE, z.looseObject({}).optional(), { category: 'audit' })],
  dimensions: httpRequestsPreset.dimensions,
  metrics: httpRequestsPreset.metrics,
  rollupFields: httpRequestsPreset.rollupFields ?? [],
});

/**
 * The proxy's `clear-old` setting (`log_retention_days`) as a retention policy: access-log entries
 * older than `days` are deleted by `log.startMaintenance()` as a job, as `POST /api/logs/clear-old`
 * does on demand; the audit log is left alone.
 *
 * @example
 * ```ts
 * import { createEventLog } from '@eventlog/core';
 * import { createSqliteStore } from '@eventlog/adapters/sqlite';
 * import { proxyLogsPreset, proxyRetentionPolicy } from '@eventlog/http/proxy-logs';
 * const log = createEventLog({ store: createSqliteStore(), presets: [proxyLogsPreset], retention: { policies: [proxyRetentionPolicy(14)] } });
 * log.startMaintenance();
 * ```
 */
export function proxyRetentionPolicy(days = 30): RetentionPolicy {
  return { name: 'proxy-requests', match: { type: PROXY_REQUEST_TYPE }, maxAgeDays: days };
}
