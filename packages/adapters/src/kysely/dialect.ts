import type { ReleaseLock, StoreCapabilities, StoreColumn } from '@eventlog/core';
import type { CompiledQuery, Expression, Kysely, RawBuilder, SqlBool } from 'kysely';

/** A Kysely instance over the store's tables (their columns are declared at run time). */
// biome-ignore lint/suspicious/noExplicitAny: the table layout is only known at run time.
export type AnyKysely = Kysely<any>;

/**
 * What differs between engines. Everything else (queries, migrations, normalisation) is shared by
 * {@link createKyselyStore}.
 */
export interface SqlDialect {
  /** Engine name, e.g. `sqlite`. */
  readonly engine: string;
  readonly capabilities: StoreCapabilities;
  /** DDL type of a column. */
  columnType(column: StoreColumn): string;
  /** DDL of the auto-increment primary key column `id`. */
  readonly idColumn: string;
  /** Options appended to CREATE TABLE (e.g. MySQL engine and collation). */
  readonly tableOptions?: string;
  /** `floor(time / step) * step` as an integer expression. */
  timeBucket(column: string, stepMs: number): RawBuilder<number>;
  /** Case-insensitive `column LIKE pattern ESCAPE '!'` where `pattern` is already escaped with `!`. */
  containsInsensitive(column: string, pattern: string): Expression<SqlBool>;
  /** Whether `DELETE … ORDER BY … LIMIT` is supported (MySQL) instead of `id IN (SELECT … LIMIT)`. */
  readonly deleteWithLimit: boolean;
  /** How an upsert of an open session is written. */
  readonly upsert: 'onConflict' | 'onDuplicateKey';
  /** Index names → columns in order, for one table (unqualified name, optional schema). */
  listIndexes(db: AnyKysely, table: string, schema: string | undefined): Promise<Map<string, string[]>>;
  /**
   * Column names of one table (unqualified name, optional schema). The default reads Kysely's
   * introspection, which cannot tell an unqualified table from same-named ones in other schemas.
   */
  listColumns?(db: AnyKysely, table: string, schema: string | undefined): Promise<string[]>;
  /** Whether keyset conditions are written as row comparisons, `(time, id) < (?, ?)` (PostgreSQL). */
  readonly rowValueKeyset?: boolean;
  /**
   * Whether `find` selects the ids of the page first and joins the rows to them (MySQL/MariaDB,
   * whose optimizer otherwise may read every row of a tenant newer than a deep cursor).
   */
  readonly deferredJoin?: boolean;
  /** Whether `DROP INDEX` must name the table (MySQL). */
  readonly dropIndexNeedsTable: boolean;
  /** Runs `fn` while holding a lock that excludes concurrent migrations of the same tables. */
  withMigrationLock<T>(db: AnyKysely, key: string, fn: (db: AnyKysely) => Promise<T>): Promise<T>;
  /** A named lock; the default is a lease row in the locks table. */
  tryLock?(db: AnyKysely, key: string, ttlMs: number): Promise<ReleaseLock | null>;
  /**
   * Largest statement the generic multi-row INSERT may send, in bytes (MySQL's
   * `max_allowed_packet`); unlimited when absent.
   */
  readonly maxStatementBytes?: number;
  /**
   * Whether inserts write a token row (in the `batches` table, which `migrate` then creates) in the
   * same transaction as the events, so that a retry after a lost acknowledgement (the COMMIT reached
   * the server, the reply did not reach us) finds the rows already stored instead of storing them
   * twice. The generic insert does it; a dialect's own `insert` may use the table too.
   */
  readonly idempotentInsert?: boolean;
  /** Replaces the generic multi-row INSERT when an engine has a faster path. */
  insert?(rows: readonly Record<string, unknown>[], columns: readonly string[]): Promise<number[]>;
  /**
   * Runs a compiled read query and returns its rows, replacing Kysely's execution where an engine
   * has a faster path (SQLite: cached statements returning arrays).
   */
  select?(query: CompiledQuery): Promise<Record<string, unknown>[]>;
  /**
   * Rewrites serialised JSON (the `data` column, a session's opening event) into a form the
   * engine's JSON type accepts; written as is when absent.
   */
  jsonValue?(json: string): string;
  /**
   * Reads a JSON column as text, for engines whose driver parses JSON columns (pg, mysql2): a parsed
   * JSON string such as `"123"` or `"null"` is indistinguishable from the JSON text it would be, so
   * the store hands the core text only and the core decodes it once. The text is then made compact.
   */
  jsonAsText?(column: string): RawBuilder<string | null>;
  /** Whether a driver error is transient. */
  isTransientError(error: unknown): boolean;
  /** Runs once after migrations (e.g. reading server settings that change capabilities). */
  afterMigrate?(db: AnyKysely): Promise<void>;
}

/** Escapes LIKE wildcards with `!`, which needs no escaping in any engine's string literals. */
export function escapeLike(term: string): string {
  return term.replace(/[!%_]/g, (c) => `!${c}`);
}

/** Common error codes of Node sockets that mean the connection is gone. */
export const NETWORK_ERROR_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);

/** Whether `test` holds for an error, its `cause` chain or the errors of an `AggregateError`. */
export function someCause(error: unknown, test: (e: object) => boolean, depth = 0): boolean {
  if (typeof error !== 'object' || error === null || depth > 4) return false;
  if (test(error)) return true;
  if (error instanceof AggregateError && error.errors.some((e) => someCause(e, test, depth + 1))) return true;
  return someCause((error as { cause?: unknown }).cause, test, depth + 1);
}
