import type { ActorInput, EventInput, StoredEvent, TargetInput } from '@eventlog/core';
import { PROXY_AUDIT_TYPE } from '@eventlog/http/proxy-logs';
import type { Request, Response } from 'express';
import { type AnyEventLog, getRequestContext } from './context.js';
import { defaultUser, resolveUser } from './request-logger.js';

/** One audit entry: what the current request's actor did to what. */
export interface AuditEntry {
  /** The verb, e.g. `delete_user`, `logs.clear`. */
  action: string;
  /** What it was done to: an id or name, or a full target. */
  target?: string | number | TargetInput;
  /** Human-readable details. */
  details?: string;
  /** @default 'success' */
  outcome?: string;
  /** Overrides the actor resolved from the request. */
  actor?: ActorInput;
  /** Tenant of the entry, for scoped reads. */
  tenantId?: string | number;
  /** Event type. @default the audit function's type, 'proxy.audit' */
  type?: string;
  /** Payload, validated by the event type's schema. */
  data?: unknown;
}

/** Options of {@link createAudit} and the third argument of {@link audit}. */
export interface AuditOptions {
  /** The log to record into. @default the log of the `requestLogger` that saw the request */
  log?: AnyEventLog;
  /** Event type of audit entries. @default 'proxy.audit' (what the `proxyLogs()` profile's audit log lists) */
  type?: string;
  /** Who is acting. @default the `requestLogger`'s `user` option, else `req.user` / `res.locals.user` / `req.auth.sub` */
  user?: (req: Request, res: Response) => ActorInput | string | number | null | undefined;
}

/** Records an audit entry for a request; resolves with the stored event, or null when recording failed. */
export type AuditFunction = (req: Request, entry: AuditEntry) => Promise<StoredEvent | null>;

/**
 * Creates an audit function bound to a log: `await audit(req, { action, target, details })` records
 * the entry for the request's actor, with its IP and user agent. It never rejects, so a failing
 * store cannot break the route: failures resolve null and reach the log's `error` event. Await it
 * when the entry must be stored before answering; leave it unawaited otherwise.
 *
 * @example
 * ```ts
 * import express from 'express';
 * import { createEventLog } from '@eventlog/core';
 * import { createSqliteStore } from '@eventlog/adapters/sqlite';
 * import { createAudit } from '@eventlog/express';
 *
 * const log = createEventLog({ store: createSqliteStore({ filename: 'events.db' }) });
 * const audit = createAudit({ log, user: (req) => req.get('x-user') });
 * const app = express();
 * app.delete('/users/:id', async (req, res) => {
 *   await audit(req, { action: 'delete_user', target: req.params.id, details: 'removed by support' });
 *   res.status(204).end();
 * });
 * ```
 */
export function createAudit(options: AuditOptions = {}): AuditFunction {
  return (req, entry) => audit(req, entry, options);
}

/**
 * Records an audit entry for the current request's actor in one call, using the log of the
 * `requestLogger` installed before the route (or `options.log`). Never rejects: failures resolve
 * null and reach the log's `error` event.
 *
 * @example
 * ```ts
 * import express from 'express';
 * import { createEventLog } from '@eventlog/core';
 * import { createSqliteStore } from '@eventlog/adapters/sqlite';
 * import { audit, requestLogger } from '@eventlog/express';
 *
 * const log = createEventLog({ store: createSqliteStore({ filename: 'events.db' }) });
 * const app = express();
 * app.use(requestLogger({ log, user: (req) => req.get('x-user') }));
 * app.post('/settings', (req, res) => {
 *   void audit(req, { action: 'update_settings', details: 'changed the retention' });
 *   res.json({ ok: true });
 * });
 * ```
 */
export async function audit(req: Request, entry: AuditEntry, options: AuditOptions = {}): Promise<StoredEvent | null> {
  const context = getRequestContext(req);
  const log = options.log ?? context?.log;
  if (!log) {
    // Misconfiguration, not a store failure; still never break the host's route.
    process.emitWarning('audit() found no log: install requestLogger({ log }) before the route or pass { log }.', 'EventlogWarning');
    return null;
  }
  try {
    const res = (req as Request & { res?: Response }).res;
    const actor =
      entry.actor ??
      (options.user && res
        ? resolveUser(options.user, req, res)
        : context
          ? context.user()
          : res
            ? resolveUser(defaultUser, req, res)
            : null);
    const target: TargetInput | undefined =
      entry.target === undefined
        ? undefined
        : typeof entry.target === 'object'
          ? entry.target
          : { id: String(entry.target), name: String(entry.target) };
    const event: EventInput = {
      type: entry.type ?? options.type ?? PROXY_AUDIT_TYPE,
      category: 'audit',
      action: entry.action,
      outcome: entry.outcome ?? 'success',
      severity: 'info',
      message: entry.details ?? null,
      actor: actor ? { type: 'user', ...actor } : null,
      ...(target ? { target } : {}),
      ...(entry.tenantId !== undefined ? { tenantId: entry.tenantId } : {}),
      ip: clientIp(req),
      userAgent: req.get?.('user-agent') ?? null,
      ...(entry.data !== undefined ? { data: entry.data } : {}),
    };
    return await log.record(event);
  } catch (error) {
    log.emit('error', error);
    return null;
  }
}

function clientIp(req: Request): string | null {
  const ip = req.ip ?? req.socket?.remoteAddress ?? null;
  return ip?.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip;
}
