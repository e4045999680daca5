import type { EventRow, ReleaseLock, StoreCapabilities, StoreColumn } from '@eventlog/core';
import type { CompiledQuery, Expression, Kysely, RawBuilder, SqlBool } from 'kysely';
import type { QueryCanceller } from './cancel.js';
import type { BatchToken } from './insert/idempotent.js';
import type { TableNames } from './migrations.js';
import type { RollupArrays } from './rollups-sql.js';
import type { KeywordSearch } from './search/keyword-search.js';

export { NETWORK_ERROR_CODES, someCause } from './transient.js';

/** A Kysely instance over the store's tables (their columns are declared at run time). */
// biome-ignore lint/suspicious/noExplicitAny: the table layout is only known at run time.
export type AnyKysely = Kysely<any>;

/**
 * SQL fragments and DDL: the small part every engine MUST write, because the engines really
 * disagree on it.
 */
export interface SqlFragments {
  /** DDL type of a column (build it with {@link columnTypes}). */
  columnType(column: StoreColumn): string;
  /** DDL of the auto-increment primary key column `id`. */
  readonly idColumn: string;
  /** Options appended to CREATE TABLE (e.g. MySQL engine and collation). */
  readonly tableOptions?: string;
  /** `floor(time / step) * step` as an integer expression. */
  timeBucket(column: string, stepMs: number): RawBuilder<number>;
  /** Case-insensitive `column LIKE pattern ESCAPE '!'` where `pattern` is already escaped with `!`. */
  containsInsensitive(column: string, pattern: string): Expression<SqlBool>;
  /**
   * Rewrites serialised JSON (the `data` column, a session's opening event) into a form the
   * engine's JSON type accepts; written as is when absent.
   */
  jsonValue?(json: string): string;
  /**
   * Reads a JSON column as text, for engines whose driver parses JSON columns (pg, mysql2): a parsed
   * JSON string such as `"123"` or `"null"` is indistinguishable from the JSON text it would be, so
   * the store hands the core text only and the core decodes it once. Exports get it made compact.
   */
  jsonAsText?(column: string): RawBuilder<string | null>;
}

/** Engine behaviours the shared store switches on; each has a default in {@link DIALECT_DEFAULTS}. */
export interface DialectFlags {
  /** Whether `DELETE … ORDER BY … LIMIT` is supported (MySQL) instead of `id IN (SELECT … LIMIT)`. */
  readonly deleteWithLimit: boolean;
  /** How an upsert of an open session is written. */
  readonly upsert: 'onConflict' | 'onDuplicateKey';
  /** Whether `DROP INDEX` must name the table (MySQL). */
  readonly dropIndexNeedsTable: boolean;
  /** Whether keyset conditions are written as row comparisons, `(time, id) < (?, ?)` (PostgreSQL). */
  readonly rowValueKeyset: boolean;
  /**
   * Whether `find` selects the ids of the page first and joins the rows to them (MySQL/MariaDB,
   * whose optimizer otherwise may read every row of a tenant newer than a deep cursor).
   */
  readonly deferredJoin: boolean;
  /**
   * Whether inserts go through the idempotent-token wrapper (`insert/idempotent.ts`): the insert
   * strategy writes a token row into the `batches` table (which `migrate` then creates) in the
   * same transaction as the events, so that a retry after a lost acknowledgement (the COMMIT
   * reached the server, the reply did not reach us) finds the rows already stored instead of
   * storing them twice. Needed wherever a network sits between the store and its database.
   */
  readonly idempotentInsert: boolean;
}

/** The flags of an engine that says nothing: the behaviour of standard SQL on SQLite and PostgreSQL. */
export const DIALECT_DEFAULTS: Readonly<DialectFlags> = {
  deleteWithLimit: false,
  upsert: 'onConflict',
  dropIndexNeedsTable: false,
  rowValueKeyset: false,
  deferredJoin: false,
  idempotentInsert: false,
};

/**
 * The capabilities a dialect declares: the limits it MUST give, the flags only where they differ
 * from {@link SQL_CAPABILITY_DEFAULTS}.
 */
export type DialectCapabilities = Pick<StoreCapabilities, 'maxParameters' | 'deleteBatchSize'> & Partial<StoreCapabilities>;

/** What a transactional SQL engine promises unless its dialect says otherwise. */
export const SQL_CAPABILITY_DEFAULTS: Readonly<Omit<StoreCapabilities, 'maxParameters' | 'deleteBatchSize'>> = {
  returnsIds: true,
  atomicInsert: true,
  synchronousDelete: true,
  crossProcessLock: true,
  rollupMinus: true,
};

/** What the migration reads from the catalog. */
export interface Introspection {
  /** Index names → columns in order, for one table (unqualified name, optional schema). */
  listIndexes(db: AnyKysely, table: string, schema: string | undefined): Promise<Map<string, string[]>>;
  /**
   * Column names of one table (unqualified name, optional schema). The default reads Kysely's
   * introspection, which cannot tell an unqualified table from same-named ones in other schemas.
   */
  listColumns?(db: AnyKysely, table: string, schema: string | undefined): Promise<string[]>;
}

/** Locks: one around migrations, and the named leases of `tryLock`. */
export interface DialectLocks {
  /** Runs `fn` while holding a lock that excludes concurrent migrations of the same tables. */
  withMigrationLock<T>(db: AnyKysely, key: string, fn: (db: AnyKysely) => Promise<T>): Promise<T>;
  /** A named lock; the default is a lease row in the locks table (`kysely/locks.ts`). */
  tryLock?(db: AnyKysely, key: string, ttlMs: number): Promise<ReleaseLock | null>;
}

/** What an insert strategy gets on each call: everything is known, since the store has migrated. */
export interface InsertContext {
  readonly db: AnyKysely;
  readonly tables: TableNames;
  /** Names of the columns holding serialised JSON. */
  readonly jsonColumns: readonly string[];
  /** The dialect's capabilities as they are now (MySQL decides some after migrating). */
  readonly capabilities: StoreCapabilities;
  /** {@link SqlFragments.jsonValue}, for strategies that bind JSON text themselves. */
  readonly jsonValue: ((json: string) => string) | undefined;
  /**
   * Given exactly when {@link DialectFlags.idempotentInsert}: the strategy MUST write
   * `batchRow(token, ids)` into `tables.batches` in the same transaction as the rows.
   */
  readonly token?: BatchToken;
  /**
   * Statements the strategy MUST run in the same transaction as `rows`, after them (the rollup
   * increments); none when absent or empty.
   */
  readonly rollups?: (rows: readonly EventRow[]) => readonly CompiledQuery[];
  /**
   * The same increments as column arrays per rollup table, for strategies that write them in the
   * rows' own statement (PostgreSQL's `unnest` insert); empty when there are none.
   */
  readonly rollupArrays?: (rows: readonly EventRow[]) => readonly RollupArrays[];
  /**
   * The open transaction of a chained append (`kysely/chain-store.ts`), which holds the chain locks:
   * when given, the strategy MUST write the rows, the token row and the companion statements
   * through it, and MUST NOT begin, commit or roll back (its owner does).
   */
  readonly transaction?: InsertTransaction;
}

/** A transaction an insert strategy writes into without ending it (see {@link InsertContext.transaction}). */
export interface InsertTransaction {
  /** A Kysely executor bound to the transaction's connection (the multi-row strategy writes through it). */
  readonly db?: AnyKysely;
  /** The driver's own connection in the transaction, for strategies that speak the driver (a pg `PoolClient`). */
  readonly client?: unknown;
}

/**
 * How a batch becomes rows: MUST store every row or none, and MUST return the ids in input order
 * when `capabilities.returnsIds` (an empty array otherwise). `columns` are the events table's
 * columns except `id`, in schema order.
 */
export type InsertStrategy = (rows: readonly EventRow[], columns: readonly string[], context: InsertContext) => Promise<number[]>;

/**
 * What differs between engines, in parts: SQL fragments and DDL (required), {@link DialectFlags}
 * (each defaulted), {@link Introspection}, {@link DialectLocks} and an {@link InsertStrategy}.
 * Everything else (queries, migrations, normalisation, retry-safe inserts) is shared by
 * `createKyselyStore`.
 */
export interface SqlDialect extends SqlFragments {
  /** Engine name, e.g. `sqlite`. */
  readonly engine: string;
  /** Read on every use, so a getter may change them (MySQL decides `returnsIds` after migrating). */
  readonly capabilities: DialectCapabilities;
  /** Only the flags where the engine differs from {@link DIALECT_DEFAULTS}. */
  readonly flags?: Partial<DialectFlags>;
  readonly introspection: Introspection;
  readonly locks: DialectLocks;
  /** How batches are written; the multi-row INSERT (`insert/multi-row.ts`) when absent. */
  readonly insert?: InsertStrategy;
  /**
   * Runs a compiled read query and returns its rows, replacing Kysely's execution where an engine
   * has a faster path (SQLite: cached statements returning arrays, or a reader worker). It is given
   * the read's `signal` when the engine has no {@link QueryCanceller}, to stop the read itself.
   */
  select?(query: CompiledQuery, signal?: AbortSignal): Promise<Record<string, unknown>[]>;
  /** How a read whose `signal` aborts is cancelled on the server (`kysely/cancel.ts`); only checked before the read when absent. */
  readonly canceller?: QueryCanceller;
  /** Whether a driver error is worth retrying (build it with `transientClassifier`). */
  isTransientError(error: unknown): boolean;
  /** Runs once after each migration, with the tables it migrated (e.g. reading server settings, catalog facts). */
  afterMigrate?(db: AnyKysely, tables: TableNames): Promise<void>;
  /** An index-backed keyword search (`kysely/search/`); the plain {@link SqlFragments.containsInsensitive} scan when absent. */
  readonly keywordSearch?: KeywordSearch;
  /**
   * Told after each successful insert or delete of events, with the number of rows (planner
   * statistics upkeep). MUST return at once and MUST NOT throw: whatever it starts runs in the background.
   */
  onWrite?(db: AnyKysely, tables: TableNames, kind: 'insert' | 'delete', rows: number): void;
}

/** A dialect with every default filled in, as the shared store and the migration read it. */
export interface ResolvedDialect extends SqlDialect {
  readonly capabilities: StoreCapabilities;
  readonly flags: Readonly<DialectFlags>;
  readonly insert: InsertStrategy;
}

/**
 * Fills a dialect's defaults. The returned object reads `capabilities` and the fragments through to
 * the dialect, so getters (MySQL's settings-dependent capabilities) stay live.
 */
export function resolveDialect(dialect: SqlDialect, defaultInsert: InsertStrategy): ResolvedDialect {
  const flags = { ...DIALECT_DEFAULTS, ...dialect.flags };
  const insert = dialect.insert ?? defaultInsert;
  let declared: DialectCapabilities | undefined;
  let capabilities: StoreCapabilities = { ...SQL_CAPABILITY_DEFAULTS, ...dialect.capabilities };
  return Object.create(dialect, {
    flags: { value: flags, enumerable: true },
    insert: { value: insert, enumerable: true },
    capabilities: {
      enumerable: true,
      get() {
        // Rebuilt only when the dialect hands out a new object.
        if (dialect.capabilities !== declared) {
          declared = dialect.capabilities;
          capabilities = { ...SQL_CAPABILITY_DEFAULTS, ...declared };
        }
        return capabilities;
      },
    },
  }) as ResolvedDialect;
}

/** DDL type names per column type; `string` is given the column's longest value. */
export interface ColumnTypes {
  readonly string: (maxLength: number) => string;
  readonly text: string;
  readonly integer: string;
  readonly float: string;
  readonly json: string;
}

/**
 * Builds {@link SqlFragments.columnType} from a table of type names.
 *
 * @example
 * ```ts
 * import { columnTypes } from '@eventlog/adapters/kysely';
 * const columnType = columnTypes({ string: (n) => `varchar(${n})`, text: 'text', integer: 'bigint', float: 'real', json: 'json' });
 * columnType({ name: 'quota', type: 'integer', maxLength: undefined, nullable: true, kind: 'metric' }); // 'bigint'
 * ```
 */
export function columnTypes(types: ColumnTypes): (column: StoreColumn) => string {
  return (column) => (column.type === 'string' ? types.string(column.maxLength ?? 255) : types[column.type]);
}

/** Escapes LIKE wildcards with `!`, which needs no escaping in any engine's string literals. */
export function escapeLike(term: string): string {
  return term.replace(/[!%_]/g, (c) => `!${c}`);
}
