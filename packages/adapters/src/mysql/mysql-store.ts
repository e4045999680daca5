import { Kysely, MysqlDialect } from 'kysely';
import mysql from 'mysql2';
import type { AnyKysely } from '../kysely/dialect.js';
import { createKyselyStore, type KyselyStore } from '../kysely/kysely-store.js';
import { connectionSettings, type SqlStoreOptions } from '../kysely/options.js';
import { kyselyRedactData } from '../kysely/redact-data.js';
import { createMysqlDialect } from './mysql-dialect.js';

/** A mysql2 pool: the callback `Pool`, or the `mysql2/promise` pool wrapping one. */
export type MysqlPool = mysql.Pool | { readonly pool: mysql.Pool };

/** Options of {@link createMysqlStore}: the shared SQL store options plus a pool and a statement size. */
export interface MysqlStoreOptions extends SqlStoreOptions {
  /** A mysql2 pool the host already owns (callback or promise API); the store never closes it. */
  pool?: MysqlPool;
  /**
   * Largest multi-row INSERT statement the store builds, in bytes; lower it when a proxy between
   * the store and the server accepts less than the server does.
   * @default the server's max_allowed_packet less 64 KiB
   */
  maxStatementBytes?: number;
  /** @deprecated Use `connectionString` (the same URL), the name every SQL store uses. */
  uri?: string;
  /** @deprecated Use `maxConnections`, the name every SQL store uses. */
  connectionLimit?: number;
}

/** Old option names of the MySQL store and the names that replaced them. */
const ALIASES = { uri: 'connectionString', connectionLimit: 'maxConnections' } as const;

/**
 * Creates a MySQL 8 / MariaDB 10.11 store on mysql2: InnoDB utf8mb4 binary-collation tables,
 * composite indexes, multi-row inserts sized to `max_allowed_packet`, `GET_LOCK` for migrations
 * and retention.
 *
 * @example
 * ```ts
 * import { createEventLog } from '@eventlog/core';
 * import { createMysqlStore } from '@eventlog/adapters/mysql';
 * const log = createEventLog({ store: createMysqlStore({ connectionString: 'mysql://app@localhost:3306/app' }) });
 * await log.record({ type: 'app.started' });
 * await log.close();
 * ```
 */
export function createMysqlStore(options: MysqlStoreOptions): KyselyStore {
  const settings = connectionSettings('createMysqlStore', options as Record<string, unknown> | undefined, ALIASES, Boolean(options?.pool));
  const owned = !options.pool;
  const pool = options.pool
    ? callbackPool(options.pool)
    : mysql.createPool({ uri: settings.connectionString, connectionLimit: settings.maxConnections });
  const db: AnyKysely = new Kysely({ dialect: new MysqlDialect({ pool }) });
  const dialect = createMysqlDialect({ pool, maxStatementBytes: options.maxStatementBytes });
  const store = createKyselyStore({
    db,
    dialect,
    tablePrefix: options.tablePrefix,
    destroy: async () => {
      // Kysely's destroy ends the pool: only when the store opened it.
      if (owned) await db.destroy();
    },
  });
  return Object.assign(store, { redactData: kyselyRedactData(store, 'mysql', dialect) });
}

/** Kysely needs the callback pool; a `mysql2/promise` pool carries it as `.pool`. */
function callbackPool(pool: MysqlPool): mysql.Pool {
  const inner = (pool as { pool?: unknown }).pool;
  return isCallbackPool(inner) ? inner : (pool as mysql.Pool);
}

function isCallbackPool(value: unknown): value is mysql.Pool {
  return typeof value === 'object' && value !== null && typeof (value as { getConnection?: unknown }).getConnection === 'function';
}
