import type Database from 'better-sqlite3';
import { sql } from 'kysely';
import { columnTypes, type SqlDialect } from '../kysely/dialect.js';
import { indexColumns } from '../kysely/introspection.js';
import type { TableNames } from '../kysely/migrations.js';
import { rollupTablesGlob } from '../kysely/rollups-sql.js';
import { sqliteTrigramSearch } from '../kysely/search/sqlite-trigram.js';
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

/** Rows written by a store between two runs of `PRAGMA optimize`. */
export const SQLITE_OPTIMIZE_EVERY_ROWS = 50_000;

/**
 * The per-store parts of the SQLite dialect: the trigram keyword index (`kysely/search/`), which
 * learns its table names when migrated, and planner statistics upkeep. `PRAGMA optimize=0x10002`
 * runs after each migration and, in the background, after every {@link SQLITE_OPTIMIZE_EVERY_ROWS}
 * rows inserted or deleted: it runs ANALYZE only on the tables whose size changed enough, and
 * SQLite (3.46+) bounds that ANALYZE to a sample, so it is short even on a large table.
 *
 * The same transaction drops the STAT4 samples ANALYZE writes for the store's tables and keeps the
 * STAT1 figures. better-sqlite3 builds SQLite with STAT4, and with samples SQLite plans a statement
 * again every time a bound value changes — every read, since each one binds its own range — which
 * cost 15–25 µs a statement, more than a small read itself (docs/benchmarks.md, "SQLite planner
 * samples"). STAT1 gives the store's statements the same plans. Another connection keeps the
 * statistics it loaded until it reloads them: `refreshed` is told, so the store's reader workers do.
 *
 * @example
 * ```ts
 * import { createSqliteStore } from '@eventlog/adapters/sqlite';
 * // Every SQLite store is built with these parts; its migrate() creates the trigram index.
 * const store = createSqliteStore({ filename: ':memory:' });
 * ```
 */
export function sqliteStoreParts(options: {
  /** The store's connection, on which the statistics are refreshed (synchronously, between two writes). */
  database: Database.Database;
  /** Keep the FTS5 trigram index for keyword search (it costs every insert the index update). @default false */
  keywordIndex?: boolean;
  /** Called after each refresh of the statistics. */
  refreshed?: () => void;
}): Pick<SqlDialect, 'keywordSearch' | 'onWrite' | 'afterMigrate'> {
  const { database } = options;
  let written = 0;
  let scheduled = false;
  const optimize = (tables: TableNames) => {
    if (refreshStatistics(database, tables)) options.refreshed?.();
  };
  return {
    keywordSearch: sqliteTrigramSearch({ enabled: options.keywordIndex }),
    async afterMigrate(_db, tables) {
      optimize(tables);
    },
    onWrite(_db, tables, _kind, rows) {
      written += rows;
      if (written < SQLITE_OPTIMIZE_EVERY_ROWS || scheduled) return;
      scheduled = true;
      // Next turn of the event loop: the write that crossed the line has already been acknowledged.
      setTimeout(() => {
        scheduled = false;
        written = 0;
        optimize(tables);
      }, 0).unref();
    },
  };
}

/**
 * One refresh of the planner statistics (see {@link sqliteStoreParts}); false when it did not run.
 * Advisory: in WAL mode its ANALYZE can meet another process's write and get SQLITE_BUSY at once
 * (no busy wait for a stale snapshot), the database may have been closed meanwhile, or the host may
 * hold a transaction open on a connection it shares with the store. The statistics are then simply
 * refreshed on a later run.
 */
function refreshStatistics(database: Database.Database, tables: TableNames): boolean {
  if (!database.open || database.inTransaction) return false;
  try {
    database.exec('begin');
    database.exec('pragma optimize=0x10002');
    if (database.prepare("select 1 from sqlite_schema where type = 'table' and name = 'sqlite_stat4'").get()) {
      const own = [tables.events, tables.sessions, tables.jobs, tables.checkpoints, tables.batches, tables.locks];
      database
        .prepare(`delete from sqlite_stat4 where tbl in (${own.map(() => '?').join(', ')}) or tbl glob ?`)
        .run(...own, rollupTablesGlob(tables));
    }
    database.exec('commit');
    // Loads what was just written into this connection (ANALYZE loaded its samples too).
    database.exec('analyze sqlite_schema');
    return true;
  } catch {
    if (database.open && database.inTransaction) database.exec('rollback');
    return false;
  }
}
