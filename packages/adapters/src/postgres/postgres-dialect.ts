import { createHash } from 'node:crypto';
import {
  type KyselyPlugin,
  OperationNodeTransformer,
  type PluginTransformQueryArgs,
  type PluginTransformResultArgs,
  type PrimitiveValueListNode,
  type QueryResult,
  type RootOperationNode,
  sql,
  type UnknownRow,
  type ValueNode,
} from 'kysely';
import type { Pool, PoolClient } from 'pg';
import { type AnyKysely, columnTypes, type DialectLocks, type Introspection, type SqlDialect } from '../kysely/dialect.js';
import { postgresInsert } from '../kysely/insert/postgres.js';
import { indexColumns } from '../kysely/introspection.js';
import { heldLock } from '../kysely/locks.js';
import type { TableNames } from '../kysely/migrations.js';
import { postgresTrigramSearch } from '../kysely/search/postgres-trigram.js';
import { transientClassifier } from '../kysely/transient.js';
import { postgresCanceller } from './cancel.js';

export { copyField, pgJson, pgText } from '../kysely/insert/postgres.js';

import { pgJson, pgText } from '../kysely/insert/postgres.js';

/** SQLSTATEs worth retrying: serialization failure, deadlock, admin/crash shutdown, too many connections. */
const TRANSIENT_STATES = new Set(['40001', '40P01', '57P01', '57P02', '57P03', '53300']);
/** pg reports a dropped socket with these messages (and no code). */
const TRANSIENT_MESSAGES =
  /Connection terminated|connection error and is not queryable|timeout exceeded when trying to connect|Connection timed out/i;

/** How long a migration waits for another process's migration lock before failing. */
const MIGRATION_LOCK_TIMEOUT = '60s';

/**
 * Whether a pg (or socket) error is worth retrying.
 *
 * @example
 * ```ts
 * import { isPostgresTransientError } from '@eventlog/adapters/postgres';
 * isPostgresTransientError(Object.assign(new Error('deadlock detected'), { code: '40P01' })); // true
 * ```
 */
export const isPostgresTransientError: (error: unknown) => boolean = transientClassifier({
  transient(e) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && (TRANSIENT_STATES.has(code) || isConnectionState(code))) return true;
    return e instanceof Error && TRANSIENT_MESSAGES.test(e.message);
  },
});

/** Class 08 (connection exception), except 08P01 (protocol violation), which a retry repeats. */
function isConnectionState(code: string): boolean {
  return code.startsWith('08') && code !== '08P01';
}

// ---- dropped connections ------------------------------------------------------------------------

const guarded = new WeakSet<object>();
const ignore = () => undefined;

/**
 * Makes every client the pool hands out listen for 'error'. A checked-out client that loses its
 * connection between queries (or in the same socket read that completed its handshake, before the
 * caller's code runs) emits 'error', which crashes a process when nobody listens. The query in
 * flight fails on its own and is retried, so the event itself needs no handling. Applied to a
 * host's pool as well: it only turns a would-be crash into the error the next query reports.
 */
export function guardPool(pool: Pool): void {
  if (guarded.has(pool)) return;
  guarded.add(pool);
  pool.on('acquire', guardClient);
}

function guardClient(client: PoolClient): void {
  if (guarded.has(client)) return;
  guarded.add(client);
  client.on('error', ignore);
}

// ---- NUL in bound values ----------------------------------------------------------------------

class NulTransformer extends OperationNodeTransformer {
  protected override transformValue(node: ValueNode): ValueNode {
    return typeof node.value === 'string' && node.value.includes('\0') ? { ...node, value: pgText(node.value) } : node;
  }
  protected override transformPrimitiveValueList(node: PrimitiveValueListNode): PrimitiveValueListNode {
    if (!node.values.some((v) => typeof v === 'string' && v.includes('\0'))) return node;
    return { ...node, values: node.values.map((v) => (typeof v === 'string' ? pgText(v) : v)) };
  }
}

/** A Kysely plugin replacing NUL in every bound string (see `pgText`), so no query fails on it. */
export class PostgresTextPlugin implements KyselyPlugin {
  readonly #transformer = new NulTransformer();
  /** Rewrites the bound strings of a query. */
  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    return this.#transformer.transformNode(args.node, args.queryId);
  }
  /** Leaves results as they are. */
  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return args.result;
  }
}

// ---- the dialect ----------------------------------------------------------------------------------

/** Options of {@link createPostgresDialect}. */
export interface PostgresDialectOptions {
  pool: Pool;
  /** Schema to create when missing. */
  schema: string | undefined;
  /**
   * Pins how batches are inserted (tests and measurements). By default batches up to 500 rows use
   * `unnest` and larger ones COPY, which falls back to `unnest` when pg-copy-streams is not installed.
   */
  insertMethod?: 'copy' | 'unnest';
  /**
   * @deprecated Ignored: the store hands the dialect its tables when it has migrated them, so
   * nothing can ask for them too early.
   */
  tables?: () => TableNames;
  /**
   * Keep a `pg_trgm` GIN index for keyword search (`kysely/search/postgres-trigram.ts`). It makes a
   * search read the matching rows instead of the table, and costs every insert the index update.
   * @default false
   */
  keywordIndex?: boolean;
  /** When the store runs `ANALYZE` on its events table by itself (see {@link PlannerStatisticsOptions}). */
  statistics?: PlannerStatisticsOptions;
}

/** When a PostgreSQL store refreshes the planner's statistics of its events table. */
export interface PlannerStatisticsOptions {
  /** Run ANALYZE at all. @default true */
  enabled?: boolean;
  /** Rows inserted or deleted since the last ANALYZE that always warrant one. @default 1000 */
  minRows?: number;
  /** Further rows warranting one, as a fraction of the table's rows at the last ANALYZE (autovacuum's default). @default 0.1 */
  fraction?: number;
  /** Quiet time after the last write before the ANALYZE starts, so a bulk load is analyzed once. @default 1000 */
  debounceMs?: number;
}

const introspection: Introspection = {
  async listIndexes(db, table, schema) {
    const rows = await sql<{ index_name: string; column_name: string | null; valid: boolean }>`
      select i.relname as index_name, a.attname as column_name, x.indisvalid as valid
        from pg_index x
        join pg_class t on t.oid = x.indrelid
        join pg_namespace n on n.oid = t.relnamespace
        join pg_class i on i.oid = x.indexrelid
        cross join lateral unnest(x.indkey) with ordinality as k(attnum, ord)
        left join pg_attribute a on a.attrelid = t.oid and a.attnum = k.attnum
       where t.relname = ${table} and n.nspname = coalesce(${schema ?? null}::text, current_schema()) and not x.indisprimary
       order by i.relname, k.ord`.execute(db);
    // An expression column (attnum 0) or an index left INVALID by a failed build never matches a spec, so it is rebuilt.
    return indexColumns(rows.rows.map((r) => ({ index_name: r.index_name, column_name: r.valid ? r.column_name : null })));
  },

  async listColumns(db, table, schema) {
    const rows = await sql<{ column_name: string }>`
      select column_name from information_schema.columns
       where table_name = ${table} and table_schema = coalesce(${schema ?? null}::text, current_schema())
       order by ordinal_position`.execute(db);
    return rows.rows.map((r) => r.column_name);
  },
};

/** Advisory locks, each on a connection of its own: the server drops them if the connection dies. */
function postgresLocks(pool: Pool, schema: string | undefined): DialectLocks {
  return {
    async withMigrationLock(db: AnyKysely, key, fn) {
      return db.connection().execute(async (conn) => {
        await sql`set lock_timeout = ${sql.lit(MIGRATION_LOCK_TIMEOUT)}`.execute(conn);
        try {
          await sql`select pg_advisory_lock(${lockKey(key)})`.execute(conn);
        } finally {
          // The connection goes back to the pool: leave no session setting behind.
          await sql`reset lock_timeout`.execute(conn);
        }
        try {
          if (schema) await sql`create schema if not exists ${sql.id(schema)}`.execute(conn);
          return await fn(conn);
        } finally {
          await sql`select pg_advisory_unlock(${lockKey(key)})`.execute(conn).catch(() => undefined);
        }
      });
    },

    async tryLock(_db, key, ttlMs) {
      const client = await pool.connect();
      let held = false;
      try {
        const result = await client.query<{ ok: boolean }>('select pg_try_advisory_lock($1) as ok', [lockKey(key)]);
        held = result.rows[0]?.ok === true;
      } finally {
        if (!held) client.release();
      }
      if (!held) return null;
      return heldLock(async () => {
        let failure: Error | undefined;
        try {
          await client.query('select pg_advisory_unlock($1)', [lockKey(key)]);
        } catch (error) {
          // The session is gone, and the lock with it.
          failure = error instanceof Error ? error : new Error(String(error));
        } finally {
          client.release(failure);
        }
      }, ttlMs);
    },
  };
}

/**
 * PostgreSQL: `bigserial` ids, `jsonb` data, ILIKE search, row-value keysets, advisory locks on
 * dedicated connections, and retry-safe batch inserts (`unnest` for small batches, COPY for large).
 *
 * @example
 * ```ts
 * import { createKyselyStore } from '@eventlog/adapters/kysely';
 * import { createPostgresDialect, PostgresTextPlugin } from '@eventlog/adapters/postgres';
 * import { Kysely, PostgresDialect } from 'kysely';
 * import pg from 'pg';
 * const pool = new pg.Pool({ connectionString: 'postgres://localhost/app' });
 * const db = new Kysely({ dialect: new PostgresDialect({ pool }), plugins: [new PostgresTextPlugin()] });
 * const store = createKyselyStore({ db, dialect: createPostgresDialect({ pool, schema: undefined }), destroy: () => db.destroy() });
 * ```
 */
export function createPostgresDialect(options: PostgresDialectOptions): SqlDialect {
  const { pool } = options;
  guardPool(pool);
  const insert = postgresInsert({ pool, method: options.insertMethod });
  const statistics = plannerStatistics(pool, options.statistics);
  return {
    engine: 'postgres',
    capabilities: {
      // The protocol counts bind parameters in an int16.
      maxParameters: 65_535,
      // Row-level locks only: writers are never blocked by a delete batch of any practical size.
      deleteBatchSize: 5000,
    },
    columnType: columnTypes({ string: (n) => `varchar(${n})`, text: 'text', integer: 'bigint', float: 'double precision', json: 'jsonb' }),
    idColumn: 'bigserial primary key',
    // bigint / integer literal divides as integers (truncating, like SQLite and MySQL's DIV).
    timeBucket: (column, step) => sql<number>`(${sql.ref(column)} / ${sql.lit(step)}) * ${sql.lit(step)}`,
    containsInsensitive: (column, pattern) => sql`${sql.ref(column)} ilike ${pattern} escape '!'`,
    jsonValue: pgJson,
    jsonAsText: (column) => sql<string | null>`${sql.ref(column)}::text`,
    flags: { rowValueKeyset: true, idempotentInsert: true },
    introspection,
    locks: postgresLocks(pool, options.schema),
    insert: insert.insert,
    isTransientError: isPostgresTransientError,
    keywordSearch: postgresTrigramSearch({ enabled: options.keywordIndex }),
    canceller: postgresCanceller(pool),
    async afterMigrate(_db, tables) {
      await insert.refresh(tables);
      await statistics.afterMigrate(tables);
    },
    onWrite: (_db, tables, _kind, rows) => statistics.written(tables, rows),
  };
}

/** A 64-bit advisory lock key derived from a name (stable across processes and versions). */
function lockKey(name: string): string {
  return createHash('sha256').update(name).digest().readBigInt64BE(0).toString();
}

// ---- planner statistics --------------------------------------------------------------------------

/** A table's statistics as the catalog reports them. */
interface TableStatistics {
  /** Rows at the last ANALYZE (-1: never analyzed, PostgreSQL 14+). */
  rows: number;
  /** Rows changed since the last ANALYZE, by anyone. */
  modified: number;
  /** Whether ANALYZE (manual or automatic) ever ran on it. */
  analyzed: boolean;
}

/**
 * Keeps the planner's statistics of the events table fresh without a DBA: autovacuum may be off
 * (it is on some managed and test servers) or minutes late after a bulk load, and a planner
 * without statistics guesses every selectivity (a 720 h timeline took seconds on a status-code
 * index). After enough rows were written through the store (autovacuum's rule: `minRows` plus
 * `fraction` of the table), an ANALYZE runs once the writes pause for `debounceMs`, on a pooled
 * connection, never inside or ahead of a write; at most one runs at a time. A migration finding a
 * table that holds rows but whose statistics are missing or stale (an import, a restore, a
 * backfill by another tool) analyzes it before `migrate()` returns.
 */
function plannerStatistics(pool: Pool, options: PlannerStatisticsOptions = {}) {
  const enabled = options.enabled !== false;
  const minRows = options.minRows ?? 1000;
  const fraction = options.fraction ?? 0.1;
  const debounceMs = options.debounceMs ?? 1000;
  let baseline = 0;
  let pending = 0;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  const due = (changed: number) => changed >= minRows + fraction * Math.max(0, baseline);

  const read = async (tables: TableNames): Promise<TableStatistics | undefined> => {
    const result = await pool.query<{ rows: number; modified: string | null; analyzed: boolean }>(
      `select c.reltuples::float8 as rows, s.n_mod_since_analyze as modified,
              (s.last_analyze is not null or s.last_autoanalyze is not null) as analyzed
         from pg_class c
         join pg_namespace n on n.oid = c.relnamespace
         left join pg_stat_user_tables s on s.relid = c.oid
        where c.relname = $1 and n.nspname = coalesce($2::text, current_schema())`,
      [tables.eventsTable, tables.schema ?? null],
    );
    const row = result.rows[0];
    if (!row) return undefined;
    return { rows: Number(row.rows), modified: Number(row.modified ?? 0), analyzed: row.analyzed };
  };

  const analyze = async (tables: TableNames) => {
    await pool.query(`analyze ${qualified(tables)}`);
    baseline = (await read(tables))?.rows ?? baseline;
  };

  const run = (tables: TableNames) => {
    timer = undefined;
    // An ended pool means the store (or its host) closed: nothing left to plan for.
    if (running || (pool as Pool & { ending?: boolean }).ending) return;
    pending = 0;
    running = analyze(tables)
      .catch(() => undefined)
      .finally(() => {
        running = undefined;
        if (due(pending)) schedule(tables);
      });
  };

  const schedule = (tables: TableNames) => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => run(tables), debounceMs);
    timer.unref();
  };

  return {
    /** Counts rows the store wrote; schedules an ANALYZE once enough were. */
    written(tables: TableNames, rows: number) {
      if (!enabled) return;
      pending += rows;
      if (due(pending)) schedule(tables);
    },
    /** Analyzes a table whose statistics are missing or stale, and learns its size. */
    async afterMigrate(tables: TableNames) {
      if (!enabled) return;
      const stats = await read(tables);
      if (!stats) return;
      baseline = stats.rows;
      // The activity counters reach the catalog up to a second late: whether rows exist is asked of the table itself.
      const holdsRows = async () => (await pool.query(`select exists (select 1 from ${qualified(tables)}) as some`)).rows[0]?.some === true;
      const stale = due(stats.modified) || (!stats.analyzed && (await holdsRows()));
      if (stale) await analyze(tables);
    },
  };
}

/** `"schema"."table"` or `"table"`. */
function qualified(tables: TableNames): string {
  const id = (name: string) => `"${name.replace(/"/g, '""')}"`;
  return tables.schema ? `${id(tables.schema)}.${id(tables.eventsTable)}` : id(tables.eventsTable);
}
