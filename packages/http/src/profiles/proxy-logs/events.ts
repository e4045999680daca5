import { type EventInput, type HttpRequestInput, httpRequestEvent } from '@eventlog/core';
import { PROXY_AUDIT_TYPE } from './preset.js';

/**
 * Plain facts about one request, for {@link proxyRequestEvent}: the core's `HttpRequestInput`.
 */
export type ProxyRequestInput = HttpRequestInput;

/**
 * Builds a `proxy.request` event from plain request facts: the core's `httpRequestEvent`, under
 * the proxy profile's name.
 *
 * @example
 * ```ts
 * import { proxyRequestEvent } from '@eventlog/http/proxy-logs';
 * const event = proxyRequestEvent({ clientIp: '10.0.0.5', method: 'GET', destination: 'http://198.51.100.7/x.exe', status: 403, userAgent: 'curl/8.5.0' });
 * event.dimensions?.destination_is_ip; // 1
 * ```
 */
export const proxyRequestEvent: typeof httpRequestEvent = httpRequestEvent;

/**
 * An audit-log row: who (a user name) did what to the access log, in words.
 *
 * @example
 * ```ts
 * import { proxyAuditEvent } from '@eventlog/http/proxy-logs';
 * const event = proxyAuditEvent('admin', 'clear_logs', 'Cleared all proxy logs (12 entries)');
 * ```
 */
export function proxyAuditEvent(username: string, action: string, details: string): EventInput<typeof PROXY_AUDIT_TYPE> {
  return {
    type: PROXY_AUDIT_TYPE,
    category: 'audit',
    actor: { type: 'user', id: username, name: username },
    action,
    target: { type: 'table', name: 'proxy_logs' },
    message: details,
  };
}
