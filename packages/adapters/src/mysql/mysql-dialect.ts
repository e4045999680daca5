import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import type { Pool, PoolConnection } from 'mysql2';
import {
  type AnyKysely,
  columnTypes,
  type DialectCapabilities,
  type DialectLocks,
  type Introspection,
  type SqlDialect,
} from '../kysely/dialect.js';
import { multiRowInsert } from '../kysely/insert/multi-row.js';
import { indexColumns } from '../kysely/introspection.js';
import { wellFormedJson } from '../kysely/json.js';
import { heldLock } from '../kysely/locks.js';
import { transientClassifier } from '../kysely/transient.js';
import { mysqlCanceller } from './cancel.js';

/**
 * Server error numbers worth retrying: deadlock, lock wait timeout, too many connections, server
 * shutdown, network read/write errors, MariaDB's "connection killed", and the client-side
 * "server has gone away" / "lost connection".
 */
const TRANSIENT_ERRNOS = new Set([1205, 1213, 1040, 1053, 1158, 1159, 1160, 1161, 1927, 2006, 2013]);
/** mysql2 codes (client-side) with the same meaning. */
const TRANSIENT_CODES = new Set([
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'ER_LOCK_DEADLOCK',
  'ER_LOCK_WAIT_TIMEOUT',
  'ER_CON_COUNT_ERROR',
  'ER_SERVER_SHUTDOWN',
  'ER_CONNECTION_KILLED',
]);
/**
 * Errors that no new connection fixes, even when the server ends the connection with them: bad
 * credentials or database (1044, 1045, 1049, 1251) and a statement larger than
 * `max_allowed_packet` (1153), after which the server drops the connection, so that the same
 * failure also shows up as a reset or a lost connection.
 */
const PERMANENT_ERRNOS = new Set([1044, 1045, 1049, 1153, 1251]);
/** mysql2 reports a command on a dead connection with this message (and no code). */
const CLOSED_STATE = /closed state|connection is closed|Connection lost/i;

/** How long a migration waits for another process's migration lock, in seconds. */
const MIGRATION_LOCK_TIMEOUT_S = 60;

/** Room left in a statement for the text around the values. */
const STATEMENT_OVERHEAD_BYTES = 64 * 1024;

/**
 * Whether a mysql2 (or socket) error is worth retrying.
 *
 * @example
 * ```ts
 * import { isMysqlTransientError } from '@eventlog/adapters/mysql';
 * isMysqlTransientError(Object.assign(new Error('Deadlock found'), { errno: 1213 })); // true
 * ```
 */
export const isMysqlTransientError: (error: unknown) => boolean = transientClassifier({
  permanent: (e) => {
    const errno = (e as { errno?: unknown }).errno;
    return typeof errno === 'number' && PERMANENT_ERRNOS.has(errno);
  },
  transient(e) {
    const { errno, code, fatal } = e as { errno?: unknown; code?: unknown; fatal?: unknown };
    if (typeof errno === 'number' && TRANSIENT_ERRNOS.has(errno)) return true;
    if (typeof code === 'string' && TRANSIENT_CODES.has(code)) return true;
    return fatal === true || (e instanceof Error && CLOSED_STATE.test(e.message));
  },
});

/**
 * A name for `GET_LOCK`: the server's lock namespace spans databases, so the database is part of
 * it, and names longer than MySQL's 64-character limit are hashed.
 */
export function lockName(database: string, key: string): string {
  const name = `${database}.${key}`;
  return name.length <= 64 ? name : `eventlog:${createHash('sha256').update(name).digest('hex').slice(0, 48)}`;
}

/** Options of {@link createMysqlDialect}. */
export interface MysqlDialectOptions {
  /** The mysql2 callback pool Kysely runs on; locks take dedicated connections from it. */
  pool: Pool;
  /**
   * Largest multi-row INSERT statement to build, in bytes.
   * @default the server's `max_allowed_packet` less 64 KiB
   */
  maxStatementBytes?: number;
}

/** A MySQL dialect whose capabilities follow the server settings read after migration. */
export interface MysqlDialect extends SqlDialect {
  /** The server settings that decided the capabilities, known after `afterMigrate`. */
  readonly settings: MysqlSettings | undefined;
}

/** Server settings that change what the store can promise. */
export interface MysqlSettings {
  version: string;
  autoincLockMode: number;
  autoIncrementIncrement: number;
  maxAllowedPacket: number;
}

const introspection: Introspection = {
  async listIndexes(db, table) {
    const rows = await sql<{ index_name: string; column_name: string | null }>`
      select index_name as index_name, column_name as column_name
        from information_schema.statistics
       where table_schema = database() and table_name = ${table} and index_name <> 'PRIMARY'
       order by index_name, seq_in_index`.execute(db);
    // A functional key part (MySQL 8) has no column and never matches a spec.
    return indexColumns(rows.rows);
  },

  async listColumns(db, table) {
    const rows = await sql<{ column_name: string }>`
      select column_name as column_name from information_schema.columns
       where table_schema = database() and table_name = ${table}
       order by ordinal_position`.execute(db);
    return rows.rows.map((r) => r.column_name);
  },
};

/**
 * `GET_LOCK` locks, each on a connection of its own. `onServer` learns the server's version from
 * the migration lock's connection, before any table is created.
 */
function mysqlLocks(pool: Pool, onServer: (version: string) => void): DialectLocks {
  return {
    async withMigrationLock(db: AnyKysely, key, fn) {
      return db.connection().execute(async (conn) => {
        const server = await sql<{ db: string | null; version: string }>`select database() as db, version() as version`.execute(conn);
        const name = lockName(server.rows[0]?.db ?? '', key);
        onServer(server.rows[0]?.version ?? '');
        const got = await sql<{ ok: number | null }>`select get_lock(${name}, ${MIGRATION_LOCK_TIMEOUT_S}) as ok`.execute(conn);
        if (Number(got.rows[0]?.ok) !== 1) {
          throw new Error(`Timed out after ${MIGRATION_LOCK_TIMEOUT_S} s waiting for another process's migration of these tables.`);
        }
        try {
          return await fn(conn);
        } finally {
          await sql`select release_lock(${name})`.execute(conn).catch(() => undefined);
        }
      });
    },

    async tryLock(_db, key, ttlMs) {
      const connection = await getConnection(pool);
      // While we hold it outside any query, a dropped connection is reported as an 'error' event.
      const onError = () => undefined;
      connection.on('error', onError);
      let name: string | undefined;
      let held = false;
      try {
        const [row] = await query<{ db: string | null }>(connection, 'select database() as db');
        name = lockName(row?.db ?? '', key);
        const [got] = await query<{ ok: number | null }>(connection, 'select get_lock(?, 0) as ok', [name]);
        held = Number(got?.ok) === 1;
      } finally {
        if (!held) {
          connection.off('error', onError);
          connection.release();
        }
      }
      if (!held || name === undefined) return null;
      const locked = name;
      return heldLock(async () => {
        try {
          await query(connection, 'select release_lock(?)', [locked]);
          connection.off('error', onError);
          connection.release();
        } catch {
          // The connection is gone, and the lock with it.
          connection.off('error', onError);
          connection.destroy();
        }
      }, ttlMs);
    },
  };
}

/**
 * MySQL 8 and MariaDB 10.11: InnoDB tables in a binary no-pad utf8mb4 collation (exact equality,
 * like the other engines), `DELETE … ORDER BY … LIMIT` batches, `GET_LOCK` locks on dedicated
 * connections, and ids computed from `insertId` only when the server hands out consecutive
 * auto-increment values.
 *
 * @example
 * ```ts
 * import { createKyselyStore } from '@eventlog/adapters/kysely';
 * import { createMysqlDialect } from '@eventlog/adapters/mysql';
 * import { Kysely, MysqlDialect } from 'kysely';
 * import mysql from 'mysql2';
 * const pool = mysql.createPool({ uri: 'mysql://app@localhost:3306/app' });
 * const db = new Kysely({ dialect: new MysqlDialect({ pool }) });
 * const store = createKyselyStore({ db, dialect: createMysqlDialect({ pool }), destroy: () => db.destroy() });
 * ```
 */
export function createMysqlDialect(options: MysqlDialectOptions): MysqlDialect {
  const { pool } = options;
  let settings: MysqlSettings | undefined;
  // Known once the migration lock's connection has asked the server its version.
  let collation = 'utf8mb4_bin';
  let capabilities: DialectCapabilities = {
    // Decided by `afterMigrate` from innodb_autoinc_lock_mode and auto_increment_increment.
    returnsIds: false,
    // The protocol counts placeholders in 16 bits.
    maxParameters: 65_535,
    // InnoDB locks only the deleted rows and their gaps, so writers appending new rows are not
    // blocked, but each batch still competes for I/O with them (docs/benchmarks.md).
    deleteBatchSize: 2000,
  };

  return {
    engine: 'mysql',
    get capabilities() {
      return capabilities;
    },
    get settings() {
      return settings;
    },
    // 64 K characters of utf8mb4 need up to 256 KB; `text` holds 64 KB.
    columnType: columnTypes({ string: (n) => `varchar(${n})`, text: 'mediumtext', integer: 'bigint', float: 'double', json: 'json' }),
    idColumn: 'bigint not null auto_increment primary key',
    get tableOptions() {
      return ` ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=${collation}`;
    },
    timeBucket: (column, step) => sql<number>`(${sql.ref(column)} div ${sql.lit(step)}) * ${sql.lit(step)}`,
    // utf8mb4_bin compares bytes, so LIKE is case-sensitive: lower both sides.
    containsInsensitive: (column, pattern) => sql`lower(${sql.ref(column)}) like lower(${pattern}) escape '!'`,
    // MariaDB's json_valid() and MySQL's JSON type reject unpaired surrogate escapes.
    jsonValue: (json) => wellFormedJson(json, { nul: false }),
    jsonAsText: (column) => sql<string | null>`cast(${sql.ref(column)} as char)`,
    flags: {
      // MariaDB answers a KILL that lands during an autocommit INSERT with an error after the commit,
      // and any server can drop a connection between COMMIT and its reply: retries must not duplicate.
      idempotentInsert: true,
      deleteWithLimit: true,
      upsert: 'onDuplicateKey',
      dropIndexNeedsTable: true,
      deferredJoin: true,
    },
    introspection,
    canceller: mysqlCanceller(pool),
    locks: mysqlLocks(pool, (version) => {
      collation = binaryCollation(version);
    }),
    insert: multiRowInsert({
      engine: 'mysql',
      ids: 'insertId',
      maxStatementBytes: () =>
        options.maxStatementBytes ??
        (settings ? Math.max(STATEMENT_OVERHEAD_BYTES, settings.maxAllowedPacket - STATEMENT_OVERHEAD_BYTES) : 4 * 1024 * 1024),
      maxPacketBytes: () => settings?.maxAllowedPacket,
    }),
    isTransientError: isMysqlTransientError,

    async afterMigrate(db: AnyKysely) {
      const result = await sql<{ version: string; lock_mode: number | string | null; increment: number | string; packet: number | string }>`
        select version() as version, @@innodb_autoinc_lock_mode as lock_mode,
               @@auto_increment_increment as increment, @@max_allowed_packet as packet`.execute(db);
      const row = result.rows[0];
      if (!row) return;
      settings = {
        version: String(row.version),
        autoincLockMode: Number(row.lock_mode ?? 2),
        autoIncrementIncrement: Number(row.increment),
        maxAllowedPacket: Number(row.packet),
      };
      // Only "traditional" (0) and "consecutive" (1) lock modes give one multi-row INSERT consecutive
      // ids; MySQL 8 defaults to "interleaved" (2), where insertId + i may name another writer's row.
      capabilities = { ...capabilities, returnsIds: settings.autoincLockMode <= 1 && settings.autoIncrementIncrement === 1 };
    },
  };
}

/**
 * A byte-wise collation that does not pad: `utf8mb4_bin` is PAD SPACE, so `'acme' = 'acme '` would
 * hold, unlike on the other engines. MariaDB names it `utf8mb4_nopad_bin` (10.2+), MySQL 8
 * `utf8mb4_0900_bin`; older servers keep `utf8mb4_bin`.
 */
export function binaryCollation(version: string): string {
  if (/mariadb/i.test(version)) return 'utf8mb4_nopad_bin';
  const major = Number.parseInt(version, 10);
  return major >= 8 ? 'utf8mb4_0900_bin' : 'utf8mb4_bin';
}

function getConnection(pool: Pool): Promise<PoolConnection> {
  return new Promise((resolve, reject) => pool.getConnection((error, connection) => (error ? reject(error) : resolve(connection))));
}

function query<R>(connection: PoolConnection, text: string, values: unknown[] = []): Promise<R[]> {
  return new Promise((resolve, reject) =>
    connection.query(text, values, (error, rows) => (error ? reject(error) : resolve(rows as unknown as R[]))),
  );
}
