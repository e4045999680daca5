import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { AnyKysely } from '../kysely/dialect.js';
import { createKyselyStore, type KyselyStore } from '../kysely/kysely-store.js';
import { connectionSettings, type SqlStoreOptions } from '../kysely/options.js';
import { kyselyRedactData } from '../kysely/redact-data.js';
import { postgresChainAppend } from './postgres-chain.js';
import { createPostgresDialect, PostgresTextPlugin } from './postgres-dialect.js';

/** Options of {@link createPostgresStore}: the shared SQL store options plus a pool and a schema. */
export interface PostgresStoreOptions extends SqlStoreOptions {
  /**
   * A pg `Pool` the host already owns; the store never closes it. The store makes the clients it
   * hands out listen for 'error', so a connection the server drops cannot crash the process.
   */
  pool?: pg.Pool;
  /** Schema holding the tables, created when missing. @default the connection's current schema */
  schema?: string;
  /**
   * Keep a `pg_trgm` GIN index so keyword searches read the matching rows instead of the table
   * (docs/storage.md, Keyword search). Off by default: it slows bulk ingest markedly; turning it
   * off again drops the index at the next migration. @default false
   */
  keywordIndex?: boolean;
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
  const settings = connectionSettings('createPostgresStore', options as Record<string, unknown> | undefined, {}, Boolean(options?.pool));
  const owned = !options.pool;
  const pool = options.pool ?? new pg.Pool({ connectionString: settings.connectionString, max: settings.maxConnections });
  // An idle client whose connection drops emits 'error' on the pool, which crashes a process that
  // does not listen; the next query simply opens a new connection.
  if (owned) pool.on('error', () => undefined);
  const db: AnyKysely = new Kysely({ dialect: new PostgresDialect({ pool }), plugins: [new PostgresTextPlugin()] });
  const dialect = createPostgresDialect({ pool, schema: options.schema, keywordIndex: options.keywordIndex });
  const store = createKyselyStore({
    db,
    dialect,
    tablePrefix: options.tablePrefix,
    schema: options.schema,
    chainAppend: postgresChainAppend(pool),
    destroy: async () => {
      // Kysely's destroy ends the pool: only when the store opened it.
      if (owned) await db.destroy();
    },
  });
  return Object.assign(store, { redactData: kyselyRedactData(store, 'postgres', dialect) });
}
