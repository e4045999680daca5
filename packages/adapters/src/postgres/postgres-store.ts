import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { AnyKysely } from '../kysely/dialect.js';
import { createKyselyStore, type KyselyStore } from '../kysely/kysely-store.js';
import { createPostgresDialect, PostgresTextPlugin } from './postgres-dialect.js';

/** Options of {@link createPostgresStore}. */
export interface PostgresStoreOptions {
  /** A `postgres://` URL; the store opens a pool on it and closes it in `close()`. */
  connectionString?: string;
  /**
   * A pg `Pool` the host already owns; the store never closes it. The store makes the clients it
   * hands out listen for 'error', so a connection the server drops cannot crash the process.
   */
  pool?: pg.Pool;
  /** Prefix of every table and index. @default 'eventlog_' */
  tablePrefix?: string;
  /** Schema holding the tables, created when missing. @default the connection's current schema */
  schema?: string;
  /** Size of the pool the store opens from `connectionString`. @default 10 */
  maxConnections?: number;
}

/**
 * Creates a PostgreSQL store on pg: `jsonb` data, composite indexes, batch inserts through
 * `unnest` or COPY that a retry never duplicates, advisory locks for migrations and retention.
 *
 * @example
 * ```ts
 * import { createEventLog } from '@eventlog/core';
 * import { createPostgresStore } from '@eventlog/adapters/postgres';
 * const log = createEventLog({ store: createPostgresStore({ connectionString: 'postgres://localhost/app' }) });
 * await log.record({ type: 'app.started' });
 * await log.close();
 * ```
 */
export function createPostgresStore(options: PostgresStoreOptions): KyselyStore {
  if (!options?.pool && !options?.connectionString) {
    throw new TypeError(
      'createPostgresStore needs a connectionString or a pg Pool, e.g. { connectionString: "postgres://localhost/app" }.',
    );
  }
  const owned = !options.pool;
  const pool = options.pool ?? new pg.Pool({ connectionString: options.connectionString, max: options.maxConnections ?? 10 });
  // An idle client whose connection drops emits 'error' on the pool, which crashes a process that
  // does not listen; the next query simply opens a new connection.
  if (owned) pool.on('error', () => undefined);
  const db: AnyKysely = new Kysely({ dialect: new PostgresDialect({ pool }), plugins: [new PostgresTextPlugin()] });
  let store: KyselyStore | undefined;
  const dialect = createPostgresDialect({
    pool,
    schema: options.schema,
    tables: () => {
      if (!store) throw new Error('The PostgreSQL store is not built yet.');
      return store.tables;
    },
  });
  const built = createKyselyStore({
    db,
    dialect,
    tablePrefix: options.tablePrefix,
    schema: options.schema,
    destroy: async () => {
      // Kysely's destroy ends the pool: only when the store opened it.
      if (owned) await db.destroy();
    },
  });
  store = built;
  return built;
}
