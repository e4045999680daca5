export { type AuditEntry, type AuditFunction, type AuditOptions, audit, createAudit } from './audit.js';
export {
  DEFAULT_REDACTED_HEADERS,
  DEFAULT_REDACTED_QUERY,
  REDACTED,
  type RequestLoggerOptions,
  type RequestRecord,
  requestLogger,
  toRequestEvent,
} from './request-logger.js';
export { type EventlogRouter, type EventlogRouterOptions, eventlogRouter } from './router.js';
