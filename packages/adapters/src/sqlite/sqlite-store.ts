import { resolve } from 'node:path';
import type { EventRow, SessionRow } from '@eventlog/core';
import { fromSessionColumns } from '@eventlog/core';
import Database from 'better-sqlite3';
import { type CompiledQuery, Kysely, SqliteDialect, sql } from 'kysely';
import type { ChainAppend } from '../kysely/chain-store.js';
import type { AnyKysely, InsertContext } from '../kysely/dialect.js';
import { createKyselyStore, type KyselyStore } from '../kysely/kysely-store.js';
import { kyselyRedactData } from '../kysely/redact-data.js';
import { oneAtATime } from '../shared/one-at-a-time.js';
import { type Checkpointer, createCheckpointer } from './reader/checkpointer.js';
import { createReadRouter } from './reader/read-router.js';
import { createReaderPool, type ReaderPool, sqliteDriverPath } from './reader/reader-pool.js';
import { type RowBuilder, rowBuilder } from './reader/rows.js';
import { sqliteChainAppend } from './sqlite-chain.js';
import { sqliteDialect, sqliteStoreParts } from './sqlite-dialect.js';

/** Distinct read statements kept prepared (the queries differ by filter shape, not by values). */
const MAX_CACHED_READERS = 200;

// Migrations in this process, one at a time per database (file path, or the object of a memory database).
const MIGRATIONS = new Map<unknown, Promise<unknown>>();

/** The better-sqlite3 database type. */
export type SqliteDatabase = Database.Database;

/** Options of {@link createSqliteStore}. */
export interface SqliteStoreOptions {
  /** A file path or `:memory:`. Ignored when `database` is given. @default ':memory:' */
  filename?: string;
  /** A better-sqlite3 database the host already owns; the store never closes it. */
  database?: SqliteDatabase;
  /** Prefix of every table and index. @default 'eventlog_' */
  tablePrefix?: string;
  /** How long a write waits for another process's lock. @default 5000 */
  busyTimeoutMs?: number;
  /** Set journal_mode=WAL and synchronous=NORMAL on file databases. @default true */
  wal?: boolean;
  /**
   * Keep an FTS5 trigram index so keyword searches read the matching rows instead of the table
   * (docs/storage.md, Keyword search). Off by default: it makes bulk ingest several times slower;
   * turning it off again drops the index at the next migration. @default false
   */
  keywordIndex?: boolean;
  /**
   * Worker threads that run the reads (pages, counts, aggregates, rollup reads) on their own
   * read-only connections, so a long read never blocks the host's event loop and an aborted read
   * is stopped. Only file databases in WAL mode use them; `:memory:` and other journal modes read
   * on the store's connection, as does `0`. @default 1
   */
  readers?: number;
  /**
   * Run the WAL checkpoints (copying the WAL into the database file and syncing both) on a worker
   * thread with its own connection, after each write, instead of inside the commit that fills the
   * WAL, where they hold the host's event loop for the copy and two syncs. Only file databases in
   * WAL mode. If the worker fails, the store's connection checkpoints as SQLite does by default.
   * @default true
   */
  checkpointWorker?: boolean;
}

/** WAL pages at which the store's own connection still checkpoints while the worker runs them: a safety net. */
const SAFETY_NET_CHECKPOINT_PAGES = 20_000;
/**
 * Rows written that start a checkpoint at once; fewer rows wait up to a second. A 1,000-row insert
 * into the events table and its indexes writes 1,000–2,500 WAL pages (SQLite's own default
 * checkpoints at 1,000), so the WAL stays a transaction or two long.
 */
const ROWS_PER_CHECKPOINT = 1000;
/**
 * Longest time an insert waits for a running checkpoint: a batch waits 25 µs per row, up to 25 ms
 * for 1,000 rows or more, about what inserting it costs. A checkpoint after a 1,000-row insert
 * copies its pages in well under 25 ms; one after a large delete can take a few hundred ms. Bulk
 * batches are what grow the WAL, so their short wait keeps it short; a writer of a few rows at a
 * time during a prune (whose deletes keep a checkpoint running nearly all the time) does not wait
 * at all, since a wait there only adds to its latency (docs/benchmarks.md, the prune writer).
 */
const MAX_CHECKPOINT_WAIT_MS = 25;
const CHECKPOINT_WAIT_MS_PER_ROW = 0.025;
/**
 * Longest time a delete batch waits for the checkpoints before it: 0.1 ms per row, up to 100 ms.
 * Longer than an insert's wait: a delete batch is background work (a retention job), a checkpoint
 * after a 500-row delete batch copies about 900 pages, and the wait is the writers' turn at the
 * database, not time they spend waiting.
 */
const MAX_DELETE_CHECKPOINT_WAIT_MS = 100;
const DELETE_CHECKPOINT_WAIT_MS_PER_ROW = 0.1;
/**
 * WAL length (pages) past which a delete batch waits until the whole WAL is copied, so that it starts
 * the WAL over: a quarter of the safety net's {@link SAFETY_NET_CHECKPOINT_PAGES}.
 */
const DRAIN_WAL_PAGES = 5000;

/**
 * The wait before a delete batch of `rows` rows: for a running checkpoint, and once the WAL has grown
 * past {@link DRAIN_WAL_PAGES}, until it is all copied. A retention job's batches follow each other
 * closely, so a checkpoint of the previous batches is usually running when the next one starts; a
 * batch that started anyway would write its pages behind it and the WAL would never be fully copied.
 * Waiting for the running one is not enough either: the writers that insert meanwhile (which do not
 * wait, see {@link MAX_CHECKPOINT_WAIT_MS}) leave a few pages behind every checkpoint, so the WAL still
 * never starts over, and grows until the store's own connection checkpoints it (the safety net)
 * inside a delete's commit, holding the event loop for the copy of the whole WAL and its syncs.
 */
function deleteWait(checkpointer: Checkpointer, rows: number): Promise<void> | undefined {
  const waitMs = Math.min(MAX_DELETE_CHECKPOINT_WAIT_MS, rows * DELETE_CHECKPOINT_WAIT_MS_PER_ROW);
  return checkpointer.walFrames >= DRAIN_WAL_PAGES ? checkpointer.drain(waitMs) : checkpointer.idle(waitMs);
}

/** The bounded wait for a running checkpoint before a batch of `rows` rows, if it is worth one. */
function checkpointWait(checkpointer: Checkpointer, rows: number): Promise<void> | undefined {
  const waitMs = Math.min(MAX_CHECKPOINT_WAIT_MS, rows * CHECKPOINT_WAIT_MS_PER_ROW);
  return waitMs < 1 ? undefined : checkpointer.idle(waitMs);
}

/**
 * Creates an SQLite store on better-sqlite3: WAL mode, prepared-statement batch inserts in one
 * transaction, bounded delete batches.
 *
 * @example
 * ```ts
 * import { createEventLog } from '@eventlog/core';
 * import { createSqliteStore } from '@eventlog/adapters/sqlite';
 * const log = createEventLog({ store: createSqliteStore({ filename: 'events.db' }) });
 * await log.record({ type: 'app.started' });
 * await log.close();
 * ```
 */
export function createSqliteStore(options: SqliteStoreOptions = {}): KyselyStore {
  const owned = !options.database;
  const database = options.database ?? new Database(options.filename ?? ':memory:');
  const busyTimeoutMs = Math.max(0, Math.floor(options.busyTimeoutMs ?? 5000));
  database.pragma(`busy_timeout = ${busyTimeoutMs}`);
  if (options.wal !== false && !database.memory) {
    switchToWal(database, busyTimeoutMs);
    database.pragma('synchronous = NORMAL');
  }
  const checkpointer = checkpointerOf(database, options, busyTimeoutMs);
  const db: AnyKysely = new Kysely({ dialect: new SqliteDialect({ database }) });
  let store: KyselyStore;
  const statements = new Map<string, Database.Statement>();

  // Measured: one cached single-row INSERT run in a transaction beats rebuilding a multi-row
  // statement per batch (see docs/benchmarks.md), so SQLite gets its own insert path.
  const companionStatements = new Map<string, Database.Statement>();
  const insert = async (rows: readonly Record<string, unknown>[], columns: readonly string[], context?: InsertContext) => {
    const key = columns.join(',');
    let statement = statements.get(key);
    if (!statement) {
      const names = columns.map((c) => `"${c}"`).join(', ');
      const params = columns.map(() => '?').join(', ');
      statement = database.prepare(`insert into "${store.tables.events}" (${names}) values (${params})`);
      statements.clear();
      statements.set(key, statement);
    }
    const run = statement;
    // Start on a WAL the checkpoint worker has copied, so that SQLite starts it over (see
    // checkpointerOf). The core's write path already waited (writeReady); this is for other callers.
    // Never inside a transaction (a chained append's): the insert would stop being synchronous there.
    const checkpointing = database.inTransaction || !checkpointer ? undefined : checkpointWait(checkpointer, rows.length);
    if (checkpointing) await checkpointing;
    const ids: number[] = new Array(rows.length);
    // The rollup increments commit with the rows (InsertContext.rollups).
    const companions = context?.rollups?.(rows as readonly EventRow[]) ?? [];
    database.transaction((batch: readonly Record<string, unknown>[]) => {
      for (let i = 0; i < batch.length; i++) {
        ids[i] = Number(run.run(bindable(batch[i] as EventRow, columns)).lastInsertRowid);
      }
      for (const q of companions) {
        let prepared = companionStatements.get(q.sql);
        if (!prepared) {
          if (companionStatements.size >= MAX_CACHED_READERS) companionStatements.delete(companionStatements.keys().next().value as string);
          prepared = database.prepare(q.sql);
          companionStatements.set(q.sql, prepared);
        }
        prepared.run(...(q.parameters as unknown[]));
      }
    })(rows);
    checkpointer?.wrote(rows.length);
    return ids;
  };

  // Reads: Kysely's SQLite driver prepares every statement again on every call and better-sqlite3's
  // row objects are slow to create and read at this width, so reads run on cached statements in
  // raw (array) mode and rows are built here. Measured in docs/benchmarks.md (keyset page).
  const pool = readerPoolOf(database, options, busyTimeoutMs);
  // Which statements are short enough to read here rather than pay the trip to a worker.
  const router = createReadRouter();
  const builders = new Map<string, { columns: string[]; build: RowBuilder }>();
  const readers = new Map<string, { statement: Database.Statement; columns: string[]; build: RowBuilder }>();
  const inThread = async (query: CompiledQuery, signal?: AbortSignal) => {
    signal?.throwIfAborted();
    let reader = readers.get(query.sql);
    if (!reader) {
      const statement = database.prepare(query.sql).raw(true);
      const columns = statement.columns().map((c) => c.name);
      reader = { statement, columns, build: rowBuilder(columns) };
      if (readers.size >= MAX_CACHED_READERS) readers.delete(readers.keys().next().value as string);
      readers.set(query.sql, reader);
    }
    const started = performance.now();
    const arrays = reader.statement.all(...query.parameters) as unknown[][];
    if (pool) router.ran(query.sql, performance.now() - started, 'thread');
    // A migration that added columns changes what `select *` returns: read the names again.
    if (arrays.length > 0 && (arrays[0] as unknown[]).length !== reader.columns.length) {
      reader.columns = reader.statement.columns().map((c) => c.name);
      reader.build = rowBuilder(reader.columns);
    }
    const rows: Record<string, unknown>[] = new Array(arrays.length);
    for (let r = 0; r < arrays.length; r++) rows[r] = reader.build(arrays[r] as unknown[], 0);
    return rows;
  };
  const onWorker = async (workers: ReaderPool, query: CompiledQuery, signal?: AbortSignal) => {
    const page = await workers.read(query.sql, query.parameters, signal);
    router.ran(query.sql, page.ms, 'worker');
    let builder = builders.get(query.sql);
    if (!builder || !sameNames(builder.columns, page.columns)) {
      builder = { columns: page.columns, build: rowBuilder(page.columns) };
      if (builders.size >= MAX_CACHED_READERS) builders.delete(builders.keys().next().value as string);
      builders.set(query.sql, builder);
    }
    const width = page.columns.length;
    const count = width === 0 ? 0 : page.values.length / width;
    const rows: Record<string, unknown>[] = new Array(count);
    for (let r = 0; r < count; r++) rows[r] = builder.build(page.values, r * width);
    return rows;
  };
  const select = pool
    ? (query: CompiledQuery, signal?: AbortSignal) =>
        router.inThread(query.sql) && router.turnBudgetLeft() ? inThread(query, signal) : onWorker(pool, query, signal)
    : inThread;

  // The contract wants migrate() safe when several processes run it at once: the whole migration
  // runs in one BEGIN IMMEDIATE transaction, which takes SQLite's write lock up front (waiting up to
  // busy_timeout for another process's migration) and re-reads the applied versions, columns and
  // indexes inside it. Within this process migrations of one database queue instead: a second
  // connection would block the event loop in busy_timeout while the first could never commit, and a
  // second store on the same connection cannot open a transaction inside the first one's.
  const withMigrationLock = <T>(kysely: AnyKysely, _key: string, fn: (db: AnyKysely) => Promise<T>): Promise<T> => {
    const key = database.memory ? database : resolve(database.name);
    return oneAtATime(MIGRATIONS, key, () =>
      kysely.connection().execute(async (connection) => {
        await sql`begin immediate`.execute(connection);
        try {
          const result = await fn(connection);
          await sql`commit`.execute(connection);
          return result;
        } catch (error) {
          await sql`rollback`.execute(connection).catch(() => undefined);
          throw error;
        }
      }),
    );
  };

  const parts = sqliteStoreParts({ database, keywordIndex: options.keywordIndex, refreshed: () => pool?.statisticsChanged() });
  store = createKyselyStore({
    db,
    dialect: {
      ...sqliteDialect,
      ...parts,
      // A worker starts in about as long as a slow query takes on a loaded machine, and competes
      // with the host's thread while it does: start it with the store rather than with its first read.
      afterMigrate: async (migrated, tables) => {
        await parts.afterMigrate?.(migrated, tables);
        pool?.warm();
      },
      insert,
      select,
      // Deleted rows fill the WAL as inserted ones do: count them toward the next checkpoint, so a
      // prune's WAL is copied in small checkpoints as it goes rather than in a large one a second later.
      onWrite: (kysely, tables, kind, rows) => {
        parts.onWrite?.(kysely, tables, kind, rows);
        if (kind === 'delete') checkpointer?.wrote(rows);
      },
      locks: { ...sqliteDialect.locks, withMigrationLock },
    },
    tablePrefix: options.tablePrefix,
    chainAppend: withCheckpoint(sqliteChainAppend(database, checkpointer && ((rows) => checkpointWait(checkpointer, rows))), checkpointer),
    destroy: async () => {
      // The workers' connections close first: the last connection to a WAL file checkpoints it.
      await pool?.close();
      await checkpointer?.close();
      statements.clear();
      readers.clear();
      builders.clear();
      companionStatements.clear();
      // Kysely's destroy closes the database it was given; only do that when the store opened it.
      if (owned) await db.destroy();
    },
  });

  // Closing a session is one DELETE … RETURNING, run synchronously: the shared read-then-delete
  // transaction spans awaits, and a second connection to the same file (another store in this
  // process, or another process) would then wait on the write lock or fail with SQLITE_BUSY
  // instead of simply finding the session gone.
  store.closeSession = async (sessionId: string): Promise<SessionRow | null> => {
    const row = database.prepare(`delete from "${store.tables.sessions}" where session_id = ? returning *`).get(sessionId) as
      | Record<string, unknown>
      | undefined;
    if (!row) return null;
    return fromSessionColumns(row);
  };
  // The write path waits for a running checkpoint before each batch (see checkpointerOf).
  if (checkpointer) store.writeReady = (rows) => checkpointWait(checkpointer, rows);
  if (checkpointer) {
    const deleteRows = store.delete.bind(store);
    store.delete = async (query) => {
      // Not while a transaction is open on the connection (a host's, on a connection it shares): its
      // writes are not committed yet, so waiting could not start the WAL over.
      const waiting = database.inTransaction ? undefined : deleteWait(checkpointer, query.limit);
      if (waiting) await waiting;
      return deleteRows(query);
    };
  }
  return Object.assign(store, { redactData: kyselyRedactData(store, 'sqlite', sqliteDialect) });
}

// Positional values: better-sqlite3 binds an array faster than a named-parameter object.
function bindable(row: EventRow, columns: readonly string[]): unknown[] {
  const out = new Array<unknown>(columns.length);
  for (let i = 0; i < columns.length; i++) out[i] = row[columns[i]!] ?? null;
  return out;
}

/**
 * The reader workers of a store, when its reads can leave the thread: a file database (the workers
 * open the same file) in WAL mode (readers and the writer do not block each other; in the other
 * journal modes a worker's read would make the writer wait, or fail on the lock).
 */
function readerPoolOf(database: Database.Database, options: SqliteStoreOptions, busyTimeoutMs: number): ReaderPool | undefined {
  const readers = options.readers ?? 1;
  if (!Number.isSafeInteger(readers) || readers < 0) {
    throw new TypeError(`createSqliteStore: readers must be a whole number, 0 or more (got ${String(readers)}).`);
  }
  if (readers === 0 || database.memory || !database.name) return undefined;
  if (String(database.pragma('journal_mode', { simple: true })).toLowerCase() !== 'wal') return undefined;
  // A worker loads the driver by path. A host that bundled its code with the driver imported from
  // elsewhere may leave no path to resolve from here: its reads then stay on the store's connection.
  if (!driverResolves()) return undefined;
  return createReaderPool({ filename: resolve(database.name), readers, busyTimeoutMs, maxStatements: MAX_CACHED_READERS });
}

/**
 * The checkpoint worker of a store, when its checkpoints can leave the thread (a file database in
 * WAL mode). The store's connection then checkpoints only past a far larger WAL, as a safety net,
 * and again at SQLite's default if the worker fails; the setting is restored when the store closes.
 */
function checkpointerOf(database: Database.Database, options: SqliteStoreOptions, busyTimeoutMs: number): Checkpointer | undefined {
  if (options.checkpointWorker === false || database.memory || !database.name) return undefined;
  if (String(database.pragma('journal_mode', { simple: true })).toLowerCase() !== 'wal') return undefined;
  const original = Number(database.pragma('wal_autocheckpoint', { simple: true }));
  const restore = () => {
    if (database.open) database.pragma(`wal_autocheckpoint = ${original}`);
  };
  const checkpointer = createCheckpointer({
    filename: resolve(database.name),
    driver: sqliteDriverPath,
    busyTimeoutMs,
    rowsPerCheckpoint: ROWS_PER_CHECKPOINT,
    maxDelayMs: 1000,
    onFailure: restore,
  });
  database.pragma(`wal_autocheckpoint = ${Math.max(original, SAFETY_NET_CHECKPOINT_PAGES)}`);
  const stop = checkpointer.close;
  return Object.assign(checkpointer, {
    close: async () => {
      await stop();
      restore();
    },
  });
}

function withCheckpoint(append: ChainAppend, checkpointer: Checkpointer | undefined): ChainAppend {
  if (!checkpointer) return append;
  return async (rows, ...rest) => {
    const result = await append(rows, ...rest);
    checkpointer.wrote(rows.length);
    return result;
  };
}

function driverResolves(): boolean {
  try {
    sqliteDriverPath();
    return true;
  } catch {
    return false;
  }
}

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Sets WAL mode. Switching a fresh file's journal mode while another process holds its lock (say,
 * migrating it) fails with SQLITE_BUSY at once, without SQLite's busy wait, so retry for as long as
 * `busy_timeout` would have waited. Blocking is bounded and only happens when stores open together.
 */
function switchToWal(database: Database.Database, busyTimeoutMs: number): void {
  const deadline = Date.now() + busyTimeoutMs;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    try {
      database.pragma('journal_mode = WAL');
      return;
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (typeof code !== 'string' || !code.startsWith('SQLITE_BUSY') || Date.now() >= deadline) throw error;
      Atomics.wait(pause, 0, 0, 10);
    }
  }
}
