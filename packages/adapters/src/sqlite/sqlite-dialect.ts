import { sql } from 'kysely';
import { columnTypes, type SqlDialect } from '../kysely/dialect.js';
import { indexColumns } from '../kysely/introspection.js';
import { transientClassifier } from '../kysely/transient.js';

const TRANSIENT = new Set(['SQLITE_BUSY', 'SQLITE_BUSY_SNAPSHOT', 'SQLITE_BUSY_RECOVERY', 'SQLITE_LOCKED', 'SQLITE_LOCKED_SHAREDCACHE']);

/**
 * SQLite: one writer, integer division for buckets, ASCII case-insensitive LIKE, every flag at its
 * default. The store adds its prepared-statement insert and cached reads (`sqlite-store.ts`).
 */
export const sqliteDialect: SqlDialect = {
  engine: 'sqlite',
  capabilities: {
    // SQLITE_MAX_VARIABLE_NUMBER is 32766 since 3.32.
    maxParameters: 32_766,
    // A SQLite delete holds the only write lock (and, with better-sqlite3, the event loop) for the
    // whole batch, so batches stay small (docs/benchmarks.md).
    deleteBatchSize: 500,
  },
  columnType: columnTypes({ string: () => 'text', text: 'text', integer: 'integer', float: 'real', json: 'text' }),
  idColumn: 'integer primary key autoincrement',
  timeBucket: (column, step) => sql<number>`(${sql.ref(column)} / ${sql.lit(step)}) * ${sql.lit(step)}`,
  // SQLite's LIKE is case-insensitive for ASCII letters.
  containsInsensitive: (column, pattern) => sql`${sql.ref(column)} like ${pattern} escape '!'`,
  introspection: {
    async listIndexes(db, table) {
      const rows = await sql<{ index_name: string; column_name: string }>`
        select il.name as index_name, ii.name as column_name
        from pragma_index_list(${table}) il, pragma_index_info(il.name) ii
        order by il.name, ii.seqno`.execute(db);
      return indexColumns(rows.rows);
    },
  },
  locks: {
    // Replaced by the store, which knows the database file (BEGIN IMMEDIATE, see sqlite-store.ts).
    withMigrationLock: (db, _key, fn) => fn(db),
  },
  isTransientError: transientClassifier({
    transient: (e) => {
      const code = (e as { code?: unknown }).code;
      return typeof code === 'string' && TRANSIENT.has(code);
    },
  }),
};
