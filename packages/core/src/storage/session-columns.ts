import type { SessionRow } from './contract.js';

/** A session's stored columns, named as session conditions name them (`tenant_id`, `started_at`, …). */
export interface SessionColumns {
  session_id: string;
  type: string;
  tenant_id: string | null;
  actor_id: string | null;
  target_type: string | null;
  target_id: string | null;
  started_at: number;
}

/**
 * A {@link SessionRow} under its stored column names, for stores that write or match sessions by
 * column (the opening event is left out: each store encodes it its own way).
 *
 * @example
 * ```ts
 * import { toSessionColumns } from '@eventlog/core';
 * const columns = toSessionColumns({
 *   sessionId: 's1', type: 'connection.open', tenantId: 't1', actorId: null,
 *   targetType: 'stream', targetId: '7', startedAt: 0, event: '{}',
 * });
 * console.log(columns.started_at); // 0
 * ```
 */
export function toSessionColumns(row: SessionRow): SessionColumns {
  return {
    session_id: row.sessionId,
    type: row.type,
    tenant_id: row.tenantId,
    actor_id: row.actorId,
    target_type: row.targetType,
    target_id: row.targetId,
    started_at: row.startedAt,
  };
}

/**
 * A stored session record (columns as read from the engine, numbers possibly as strings) as the
 * contract's {@link SessionRow}.
 *
 * @example
 * ```ts
 * import { fromSessionColumns } from '@eventlog/core';
 * const row = fromSessionColumns({ session_id: 's1', type: 'connection.open', started_at: '5', event: '{}' });
 * console.log(row.startedAt); // 5
 * ```
 */
export function fromSessionColumns(record: Record<string, unknown>): SessionRow {
  return {
    sessionId: String(record.session_id),
    type: String(record.type),
    tenantId: (record.tenant_id as string | null) ?? null,
    actorId: (record.actor_id as string | null) ?? null,
    targetType: (record.target_type as string | null) ?? null,
    targetId: (record.target_id as string | null) ?? null,
    startedAt: Number(record.started_at),
    event: record.event,
  };
}
