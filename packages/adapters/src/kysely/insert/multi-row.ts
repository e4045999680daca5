import type { EventRow } from '@eventlog/core';
import type { AnyKysely, InsertContext, InsertStrategy } from '../dialect.js';
import { permanentStoreError } from '../transient.js';
import { batchRow } from './idempotent.js';

/** Options of {@link multiRowInsert}. */
export interface MultiRowInsertOptions {
  /** Engine name, for errors. */
  readonly engine: string;
  /**
   * How the ids of the inserted rows are learned when `capabilities.returnsIds`: from
   * `INSERT … RETURNING id`, or from the first id of the statement (`insertId`, for engines that
   * hand one multi-row INSERT consecutive ids).
   * @default 'returning'
   */
  readonly ids?: 'returning' | 'insertId';
  /** Largest statement to build, in bytes (estimated from above); unlimited when it returns undefined. */
  readonly maxStatementBytes?: () => number | undefined;
  /**
   * The most the server accepts in one statement, when known: a statement that failed and was at
   * least this large failed because of its size, whatever the driver reports (a server may
   * answer an oversized packet by resetting the connection), so the failure is permanent.
   */
  readonly maxPacketBytes?: () => number | undefined;
}

/**
 * The generic insert: multi-row INSERT statements under the engine's parameter limit (and size
 * limit), several of them in one transaction, plus the token row when the context carries one.
 */
export function multiRowInsert(options: MultiRowInsertOptions): InsertStrategy {
  const useReturning = (options.ids ?? 'returning') === 'returning';
  return async (rows, columns, context) => {
    if (rows.length === 0) return [];
    const perStatement = Math.max(1, Math.floor(context.capabilities.maxParameters / Math.max(1, columns.length)));
    const chunks = chunkRows(rows, perStatement, options.maxStatementBytes?.());
    const companions = context.rollups?.(rows) ?? [];
    const write = async (executor: AnyKysely): Promise<number[]> => {
      const ids: number[] = [];
      for (const chunk of chunks) await insertChunk(executor, chunk, columns, context, useReturning, ids);
      for (const statement of companions) await executor.executeQuery(statement);
      if (context.token) await executor.insertInto(context.tables.batches).values(batchRow(context.token, ids)).execute();
      return ids;
    };
    try {
      // Inside a chained append's transaction: its owner commits.
      if (context.transaction) {
        if (!context.transaction.db) throw new Error('The multi-row insert needs a Kysely executor for the chained append transaction.');
        return await write(context.transaction.db);
      }
      return chunks.length === 1 && !context.token && companions.length === 0
        ? await write(context.db)
        : await inTransaction(context.db, write);
    } catch (error) {
      throw oversized(options, chunks, columns, error) ?? error;
    }
  };
}

async function insertChunk(
  executor: AnyKysely,
  chunk: readonly EventRow[],
  columns: readonly string[],
  context: InsertContext,
  useReturning: boolean,
  ids: number[],
): Promise<void> {
  const values = chunk.map((row) => pick(row, columns, context));
  const table = context.tables.events;
  if (!context.capabilities.returnsIds) {
    await executor.insertInto(table).values(values).execute();
  } else if (useReturning) {
    const result = await executor.insertInto(table).values(values).returning('id').execute();
    for (const r of result) ids.push(Number((r as { id: unknown }).id));
  } else {
    const [result] = await executor.insertInto(table).values(values).execute();
    // Consecutive ids from one multi-row statement: the dialect only claims returnsIds when the server guarantees it.
    const first = Number(result?.insertId);
    for (let i = 0; i < chunk.length; i++) ids.push(first + i);
  }
}

/**
 * Runs `fn` in a transaction and, when it fails, reports why `fn` failed rather than why the
 * rollback failed: a server that rejects a statement and drops the connection makes the ROLLBACK
 * fail with a bare connection reset, which would hide the real (perhaps permanent) cause.
 */
export async function inTransaction<T>(db: AnyKysely, fn: (trx: AnyKysely) => Promise<T>): Promise<T> {
  let failure: { error: unknown } | undefined;
  try {
    return await db.transaction().execute(async (trx) => {
      try {
        return await fn(trx);
      } catch (error) {
        failure = { error };
        throw error;
      }
    });
  } catch (error) {
    throw failure ? failure.error : error;
  }
}

/** Splits rows into statements under the parameter limit and, when the engine has one, a size limit. */
function chunkRows(rows: readonly EventRow[], perStatement: number, maxBytes: number | undefined): EventRow[][] {
  const chunks: EventRow[][] = [];
  if (maxBytes === undefined) {
    for (let i = 0; i < rows.length; i += perStatement) chunks.push(rows.slice(i, i + perStatement));
    return chunks;
  }
  let chunk: EventRow[] = [];
  let bytes = 0;
  for (const row of rows) {
    // An upper bound of the row's share of the statement: 3 UTF-8 bytes per UTF-16 unit, doubled for escapes.
    let size = 0;
    for (const value of Object.values(row)) size += typeof value === 'string' ? value.length * 6 + 4 : 24;
    if (chunk.length > 0 && (chunk.length >= perStatement || bytes + size > maxBytes)) {
      chunks.push(chunk);
      chunk = [];
      bytes = 0;
    }
    chunk.push(row);
    bytes += size;
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}

/** A permanent error when a statement of the failed insert could never have been accepted. */
function oversized(options: MultiRowInsertOptions, chunks: readonly EventRow[][], columns: readonly string[], error: unknown) {
  const limit = options.maxPacketBytes?.();
  if (limit === undefined) return undefined;
  for (const chunk of chunks) {
    // A lower bound of the statement's size: its values alone, unescaped.
    let bytes = 0;
    for (const row of chunk) {
      for (const column of columns) {
        const value = row[column];
        bytes += typeof value === 'string' ? Buffer.byteLength(value) : value === null || value === undefined ? 4 : String(value).length;
      }
    }
    if (bytes > limit) {
      return permanentStoreError(
        options.engine,
        'insert',
        `An INSERT of ${chunk.length} rows is at least ${bytes} bytes, more than the server accepts in one statement ` +
          `(${limit} bytes, max_allowed_packet); lower the store's maxStatementBytes or raise max_allowed_packet.`,
        error,
      );
    }
  }
  return undefined;
}

function pick(row: EventRow, columns: readonly string[], context: InsertContext): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const column of columns) out[column] = row[column] ?? null;
  if (context.jsonValue) {
    for (const column of context.jsonColumns) {
      const value = out[column];
      if (typeof value === 'string') out[column] = context.jsonValue(value);
    }
  }
  return out;
}
