import type { StoreColumn } from '@eventlog/core';
import { sql } from 'kysely';
import type { AnyKysely, SqlDialect } from '../kysely/dialect.js';

const TRANSIENT = new Set(['SQLITE_BUSY', 'SQLITE_BUSY_SNAPSHOT', 'SQLITE_BUSY_RECOVERY', 'SQLITE_LOCKED', 'SQLITE_LOCKED_SHAREDCACHE']);

/** SQLite: one writer, integer division for buckets, ASCII case-insensitive LIKE. */
export const sqliteDialect: Omit<SqlDialect, 'insert'> = {
  engine: 'sqlite',
  capabilities: {
    returnsIds: true,
    atomicInsert: true,
    synchronousDelete: true,
    crossProcessLock: true,
    // SQLITE_MAX_VARIABLE_NUMBER is 32766 since 3.32.
    maxParameters: 32_766,
    // A SQLite delete holds the only write lock (and, with better-sqlite3, the event loop) for the
    // whole batch: measured on 1M rows, 2000-row batches kept a 10 ms writer waiting up to 1.2 s,
    // 500-row batches at most 152 ms (docs/benchmarks.md).
    deleteBatchSize: 500,
  },
  columnType(column: StoreColumn) {
    switch (column.type) {
      case 'integer':
        return 'integer';
      case 'float':
        return 'real';
      default:
        return 'text';
    }
  },
  idColumn: 'integer primary key autoincrement',
  timeBucket: (column, step) => sql<number>`(${sql.ref(column)} / ${sql.lit(step)}) * ${sql.lit(step)}`,
  // SQLite's LIKE is case-insensitive for ASCII letters.
  containsInsensitive: (column, pattern) => sql`${sql.ref(column)} like ${pattern} escape '!'`,
  deleteWithLimit: false,
  upsert: 'onConflict',
  dropIndexNeedsTable: false,
  async listIndexes(db: AnyKysely, table: string) {
    const rows = await sql<{ index_name: string; column_name: string }>`
      select il.name as index_name, ii.name as column_name
      from pragma_index_list(${table}) il, pragma_index_info(il.name) ii
      order by il.name, ii.seqno`.execute(db);
    const map = new Map<string, string[]>();
    for (const row of rows.rows) {
      const list = map.get(row.index_name) ?? [];
      list.push(row.column_name);
      map.set(row.index_name, list);
    }
    return map;
  },
  // better-sqlite3 has one connection and busy_timeout serialises other processes; DDL is IF NOT EXISTS.
  withMigrationLock: (db, _key, fn) => fn(db),
  isTransientError(error: unknown) {
    const code = (error as { code?: unknown } | null)?.code;
    return typeof code === 'string' && TRANSIENT.has(code);
  },
};
