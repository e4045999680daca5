import type { SessionQuery, SessionRow } from '@eventlog/core';
import { fromSessionColumns, toSessionColumns } from '@eventlog/core';
import { oneAtATime } from '../shared/one-at-a-time.js';
import { DISTRIBUTED_INSERT, select } from './client.js';
import type { ClickhouseContext } from './context.js';
import { quoteIdentifier, quoteNumber, quoteString } from './sql.js';
import { type ColumnInfo, whereSql } from './where.js';

const SESSION_FIELDS = ['type', 'tenant_id', 'actor_id', 'target_type', 'target_id', 'started_at', 'event'] as const;
const SESSION_NUMERIC: ColumnInfo = { numeric: new Set(['started_at']) };
// Session closes in flight in this process, by table and session id.
const CLOSING = new Map<string, Promise<unknown>>();

/**
 * The store's sessions: versioned rows in a `ReplacingMergeTree`, where opening and closing both
 * insert and reads take the newest row of each session.
 */
export function createSessions(context: ClickhouseContext) {
  const { client, cluster, tables, ids } = context;

  const insertRow = async (values: Record<string, unknown>) => {
    await client.insert({
      table: tables.sessions,
      values: [values],
      format: 'JSONEachRow',
      ...(cluster ? { clickhouse_settings: DISTRIBUTED_INSERT } : {}),
    });
  };

  const readSessions = async (inner: string, outer: string, limit: number, offset: number): Promise<SessionRow[]> => {
    const latest = SESSION_FIELDS.map((f) => `argMax(${quoteIdentifier(f)}, version) AS ${f}_`);
    const fields = SESSION_FIELDS.map((f) => `${f}_ AS ${quoteIdentifier(f)}`);
    const sql =
      `SELECT session_id, ${fields.join(', ')} FROM (` +
      `SELECT session_id, argMax(is_open, version) AS open_, ${latest.join(', ')} FROM ${tables.sessions} WHERE ${inner} GROUP BY session_id` +
      `) WHERE open_ = 1 AND ${outer} ORDER BY started_at, session_id LIMIT ${quoteNumber(limit)}${offset ? ` OFFSET ${quoteNumber(offset)}` : ''}`;
    const rows = await select<Record<string, unknown>>(client, sql);
    return rows.map(fromSessionColumns);
  };

  return {
    async openSession(row: SessionRow): Promise<void> {
      const [version] = ids.next(1);
      const event = typeof row.event === 'string' ? row.event : JSON.stringify(row.event);
      await insertRow({ ...toSessionColumns(row), event, is_open: 1, version });
    },

    closeSession(sessionId: string): Promise<SessionRow | null> {
      // Two closes in this process never both see the session open; across processes they can
      // (there is no compare-and-set), and both then return it.
      const key = `${tables.sessions}:${sessionId}`;
      return oneAtATime(CLOSING, key, async () => {
        const [row] = await readSessions(`session_id = ${quoteString(sessionId)}`, '1', 1, 0);
        if (!row) return null;
        const [version] = ids.next(1);
        await insertRow({ ...toSessionColumns(row), event: '', is_open: 0, version });
        return row;
      });
    },

    listSessions(query: SessionQuery): Promise<SessionRow[]> {
      return readSessions('1', whereSql(query.where, SESSION_NUMERIC), query.limit, query.offset ?? 0);
    },
  };
}
