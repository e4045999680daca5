import { Kysely, MysqlDialect } from 'kysely';
import mysql from 'mysql2';
import type { AnyKysely } from '../kysely/dialect.js';
import { createKyselyStore, type KyselyStore } from '../kysely/kysely-store.js';
import { createMysqlDialect } from './mysql-dialect.js';

/** A mysql2 pool: the callback `Pool`, or the `mysql2/promise` pool wrapping one. */
export type MysqlPool = mysql.Pool | { readonly pool: mysql.Pool };

/** Options of {@link createMysqlStore}. */
export interface MysqlStoreOptions {
  /** A `mysql://user:password@host:port/database` URL; the store opens a pool on it and closes it in `close()`. */
  uri?: string;
  /** The same as `uri`, named like the PostgreSQL store's option. */
  connectionString?: string;
  /** A mysql2 pool the host already owns (callback or promise API); the store never closes it. */
  pool?: MysqlPool;
  /** Prefix of every table and index. @default 'eventlog_' */
  tablePrefix?: string;
  /** Size of the pool the store opens from `uri`. @default 10 */
  connectionLimit?: number;
}

/**
 * Creates a MySQL 8 / MariaDB 10.11 store on mysql2: InnoDB utf8mb4_bin tables, composite
 * indexes, multi-row inserts sized to `max_allowed_packet`, `GET_LOCK` for migrations and retention.
 *
 * @example
 * ```ts
 * import { createEventLog } from '@eventlog/core';
 * import { createMysqlStore } from '@eventlog/adapters/mysql';
 * const log = createEventLog({ store: createMysqlStore({ uri: 'mysql://app@localhost:3306/app' }) });
 * await log.record({ type: 'app.started' });
 * await log.close();
 * ```
 */
export function createMysqlStore(options: MysqlStoreOptions): KyselyStore {
  const uri = options?.uri ?? options?.connectionString;
  if (!options?.pool && !uri) {
    throw new TypeError('createMysqlStore needs a uri or a mysql2 pool, e.g. { uri: "mysql://app@localhost:3306/app" }.');
  }
  const owned = !options.pool;
  const pool = options.pool ? callbackPool(options.pool) : mysql.createPool({ uri, connectionLimit: options.connectionLimit ?? 10 });
  const db: AnyKysely = new Kysely({ dialect: new MysqlDialect({ pool }) });
  return createKyselyStore({
    db,
    dialect: createMysqlDialect({ pool }),
    tablePrefix: options.tablePrefix,
    destroy: async () => {
      // Kysely's destroy ends the pool: only when the store opened it.
      if (owned) await db.destroy();
    },
  });
}

/** Kysely needs the callback pool; a `mysql2/promise` pool carries it as `.pool`. */
function callbackPool(pool: MysqlPool): mysql.Pool {
  const inner = (pool as { pool?: unknown }).pool;
  return isCallbackPool(inner) ? inner : (pool as mysql.Pool);
}

function isCallbackPool(value: unknown): value is mysql.Pool {
  return typeof value === 'object' && value !== null && typeof (value as { getConnection?: unknown }).getConnection === 'function';
}
