import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { EventRow, ReleaseLock, StoreCapabilities, StoreColumn } from '@eventlog/core';
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
import { type AnyKysely, NETWORK_ERROR_CODES, type SqlDialect } from '../kysely/dialect.js';
import { wellFormedJson } from '../kysely/json.js';
import type { TableNames } from '../kysely/migrations.js';

/** SQLSTATEs worth retrying: serialization failure, deadlock, admin/crash shutdown, too many connections. */
const TRANSIENT_STATES = new Set(['40001', '40P01', '57P01', '57P02', '57P03', '53300']);
/** pg reports a dropped socket with these messages (and no code). */
const TRANSIENT_MESSAGES =
  /Connection terminated|connection error and is not queryable|timeout exceeded when trying to connect|Connection timed out/i;

/** How long a migration waits for another process's migration lock before failing. */
const MIGRATION_LOCK_TIMEOUT = '60s';

/** Whether a pg (or socket) error is worth retrying. */
export function isPostgresTransientError(error: unknown): boolean {
  return someCause(error, (e) => {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && (TRANSIENT_STATES.has(code) || isConnectionState(code) || NETWORK_ERROR_CODES.has(code))) return true;
    return e instanceof Error && TRANSIENT_MESSAGES.test(e.message);
  });
}

/** Class 08 (connection exception), except 08P01 (protocol violation), which a retry repeats. */
function isConnectionState(code: string): boolean {
  return code.startsWith('08') && code !== '08P01';
}

function someCause(error: unknown, test: (e: object) => boolean, depth = 0): boolean {
  if (typeof error !== 'object' || error === null || depth > 4) return false;
  if (test(error)) return true;
  if (error instanceof AggregateError && error.errors.some((e) => someCause(e, test, depth + 1))) return true;
  return someCause((error as { cause?: unknown }).cause, test, depth + 1);
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

// ---- NUL and lone surrogates ------------------------------------------------------------------
//
// PostgreSQL `text` cannot hold U+0000 and `jsonb` rejects the escape `\u0000` and unpaired
// surrogate escapes (`\ud800`). Rather than fail a whole batch (and make the write path report a
// permanent store error for an event that passed validation), the store REPLACES each of them with
// U+FFFD, both when writing and in filter values, so a search or equality filter on the same input
// still matches what was stored. Unpaired surrogates in plain text need nothing: Node already
// encodes them as U+FFFD.

/** Text as PostgreSQL can store it: NUL replaced by U+FFFD. */
export function pgText(value: string): string {
  return value.includes('\0') ? value.replace(/\0/g, '\ufffd') : value;
}

/** JSON text as `jsonb` accepts it (no `\u0000`, no unpaired surrogate escapes). */
export function pgJson(json: string): string {
  return wellFormedJson(json, { nul: true });
}

class NulTransformer extends OperationNodeTransformer {
  protected override transformValue(node: ValueNode): ValueNode {
    return typeof node.value === 'string' && node.value.includes('\0') ? { ...node, value: pgText(node.value) } : node;
  }
  protected override transformPrimitiveValueList(node: PrimitiveValueListNode): PrimitiveValueListNode {
    if (!node.values.some((v) => typeof v === 'string' && v.includes('\0'))) return node;
    return { ...node, values: node.values.map((v) => (typeof v === 'string' ? pgText(v) : v)) };
  }
}

/** A Kysely plugin replacing NUL in every bound string, so no query fails on it. */
export class PostgresTextPlugin implements KyselyPlugin {
  readonly #transformer = new NulTransformer();
  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    return this.#transformer.transformNode(args.node, args.queryId);
  }
  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return args.result;
  }
}

// ---- COPY ---------------------------------------------------------------------------------------

const COPY_ESCAPE = /[\\\n\r\t]/g;
const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** One field in COPY text format: `\N` for null, backslash escapes for the four special characters. */
export function copyField(value: unknown, json: boolean): string {
  if (value === null || value === undefined) return '\\N';
  if (typeof value === 'number') {
    if (Number.isFinite(value)) return String(value);
    return Number.isNaN(value) ? 'NaN' : value > 0 ? 'Infinity' : '-Infinity';
  }
  let text = typeof value === 'string' ? value : typeof value === 'object' ? JSON.stringify(value) : String(value);
  text = json ? pgJson(text) : pgText(text);
  COPY_ESCAPE.lastIndex = 0;
  return COPY_ESCAPE.test(text) ? text.replace(COPY_ESCAPE, (c) => COPY_ESCAPES[c] ?? c) : text;
}

type CopyFrom = typeof import('pg-copy-streams').from;
let copyFromModule: Promise<CopyFrom | null> | undefined;

/** pg-copy-streams is an optional peer: without it the store falls back to `unnest` inserts. */
function loadCopyFrom(): Promise<CopyFrom | null> {
  copyFromModule ??= import('pg-copy-streams').then(
    (m) => (m.from ?? (m as unknown as { default: { from: CopyFrom } }).default.from) as CopyFrom,
    () => null,
  );
  return copyFromModule;
}

/** Column facts read from the catalog after migration. */
interface TableInfo {
  /** Schema-qualified, quoted name of the events table. */
  qualified: string;
  /** The `id` sequence, as `pg_get_serial_sequence` names it. */
  sequence: string;
  /** Column name → SQL type name (`jsonb`, `bigint`, …). */
  types: Map<string, string>;
}

/** Options of {@link createPostgresDialect}. */
export interface PostgresDialectOptions {
  pool: Pool;
  /** The store's table names, known once the store is built. */
  tables: () => TableNames;
  /** Schema to create when missing. */
  schema: string | undefined;
  /**
   * How batches are inserted; tests and measurements pin one. `copy` falls back to `unnest` when
   * pg-copy-streams is not installed. @default 'copy'
   */
  insertMethod?: 'copy' | 'unnest';
}

/**
 * PostgreSQL: `bigserial` ids, `jsonb` data, ILIKE search, advisory locks on dedicated connections,
 * and batch inserts through COPY with preallocated ids.
 */
export function createPostgresDialect(options: PostgresDialectOptions): SqlDialect {
  const { pool } = options;
  guardPool(pool);
  let info: TableInfo | undefined;
  // Ids handed to an insert that failed, by the rows array the write buffer retries with: a retry
  // reuses them, so if the failed attempt had in fact committed (connection lost after COMMIT) the
  // primary key rejects the rerun and the rows are known to be stored once.
  const pending = new WeakMap<readonly EventRow[], number[]>();

  const capabilities: StoreCapabilities = {
    returnsIds: true,
    atomicInsert: true,
    synchronousDelete: true,
    crossProcessLock: true,
    // The protocol counts bind parameters in an int16.
    maxParameters: 65_535,
    // Row-level locks only: writers are never blocked by a delete batch of any practical size.
    deleteBatchSize: 5000,
  };

  const readInfo = async (): Promise<TableInfo> => {
    const tables = options.tables();
    const schemaName = tables.schema ?? (await pool.query<{ s: string }>('select current_schema() as s')).rows[0]?.s ?? 'public';
    const qualified = `"${schemaName}"."${tables.eventsTable}"`;
    const result = await pool.query<{ column_name: string; udt_name: string; seq: string | null }>(
      `select column_name, udt_name, pg_get_serial_sequence($1, 'id') as seq
         from information_schema.columns where table_schema = $2 and table_name = $3`,
      [qualified, schemaName, tables.eventsTable],
    );
    const sequence = result.rows[0]?.seq;
    if (!sequence) throw new Error(`Table ${qualified} has no id sequence; run migrate() first.`);
    return { qualified, sequence, types: new Map(result.rows.map((r) => [r.column_name, r.udt_name])) };
  };

  const tableInfo = async (): Promise<TableInfo> => {
    info ??= await readInfo();
    return info;
  };

  const copyInsert = async (copyFrom: CopyFrom, rows: readonly EventRow[], columns: readonly string[]): Promise<number[]> => {
    const table = await tableInfo();
    const retried = pending.get(rows);
    const client = await pool.connect();
    let broken: Error | undefined;
    try {
      let ids = retried;
      if (!ids || ids.length !== rows.length) {
        // One row holding every id parses faster than one row per id.
        const result = await client.query<{ ids: string }>(
          'select array_agg(nextval($1::regclass))::text as ids from generate_series(1, $2)',
          [table.sequence, rows.length],
        );
        ids = (result.rows[0]?.ids ?? '{}')
          .slice(1, -1)
          .split(',')
          .map(Number)
          .sort((a, b) => a - b);
        if (ids.length !== rows.length || ids.some((id) => !Number.isSafeInteger(id)))
          throw new Error(`Could not allocate ${rows.length} ids.`);
        pending.set(rows, ids);
      }
      const json = columns.map((c) => table.types.get(c) === 'jsonb' || table.types.get(c) === 'json');
      const list = ['id', ...columns].map((c) => `"${c}"`).join(', ');
      const stream = client.query(copyFrom(`copy ${table.qualified} (${list}) from stdin`));
      const assigned = ids;
      try {
        await pipeline(Readable.from(copyChunks(rows, columns, json, assigned)), stream);
      } catch (error) {
        const e = error as { code?: string; constraint?: string };
        if (retried && e.code === '23505' && e.constraint === `${options.tables().eventsTable}_pkey`) {
          // The earlier attempt committed these very ids before its connection failed.
          pending.delete(rows);
          return assigned;
        }
        throw error;
      }
      pending.delete(rows);
      return assigned;
    } catch (error) {
      broken = error instanceof Error ? error : new Error(String(error));
      throw error;
    } finally {
      // A failed COPY may leave the connection mid-protocol: discard it rather than reuse it.
      client.release(broken);
    }
  };

  return {
    engine: 'postgres',
    capabilities,
    columnType(column: StoreColumn) {
      switch (column.type) {
        case 'string':
          return `varchar(${column.maxLength ?? 255})`;
        case 'text':
          return 'text';
        case 'integer':
          return 'bigint';
        case 'float':
          return 'double precision';
        case 'json':
          return 'jsonb';
      }
    },
    idColumn: 'bigserial primary key',
    // bigint / integer literal divides as integers (truncating, like SQLite and MySQL's DIV).
    timeBucket: (column, step) => sql<number>`(${sql.ref(column)} / ${sql.lit(step)}) * ${sql.lit(step)}`,
    containsInsensitive: (column, pattern) => sql`${sql.ref(column)} ilike ${pattern} escape '!'`,
    deleteWithLimit: false,
    upsert: 'onConflict',
    dropIndexNeedsTable: false,

    async listIndexes(db: AnyKysely, table: string, schema: string | undefined) {
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
      const map = new Map<string, string[]>();
      for (const row of rows.rows) {
        const list = map.get(row.index_name) ?? [];
        // An expression column (attnum 0) or an index left INVALID by a failed build never matches a spec, so it is rebuilt.
        list.push(row.valid && row.column_name ? row.column_name : '');
        map.set(row.index_name, list);
      }
      return map;
    },

    async listColumns(db: AnyKysely, table: string, schema: string | undefined) {
      const rows = await sql<{ column_name: string }>`
        select column_name from information_schema.columns
         where table_name = ${table} and table_schema = coalesce(${schema ?? null}::text, current_schema())
         order by ordinal_position`.execute(db);
      return rows.rows.map((r) => r.column_name);
    },

    async withMigrationLock(db, key, fn) {
      return db.connection().execute(async (conn) => {
        // A session-level advisory lock on this one connection; the server drops it if the connection dies.
        await sql`set lock_timeout = ${sql.lit(MIGRATION_LOCK_TIMEOUT)}`.execute(conn);
        try {
          await sql`select pg_advisory_lock(${lockKey(key)})`.execute(conn);
        } finally {
          // The connection goes back to the pool: leave no session setting behind.
          await sql`reset lock_timeout`.execute(conn);
        }
        try {
          if (options.schema) await sql`create schema if not exists ${sql.id(options.schema)}`.execute(conn);
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
      return holdLock(client, key, ttlMs);
    },

    async insert(rows, columns) {
      const copyFrom = options.insertMethod === 'unnest' ? null : await loadCopyFrom();
      if (copyFrom) return copyInsert(copyFrom, rows as readonly EventRow[], columns);
      return unnestInsert(pool, await tableInfo(), rows, columns);
    },

    async afterMigrate() {
      info = await readInfo();
    },

    jsonValue: pgJson,
    isTransientError: isPostgresTransientError,
  };
}

/** A 64-bit advisory lock key derived from a name (stable across processes and versions). */
function lockKey(name: string): string {
  return createHash('sha256').update(name).digest().readBigInt64BE(0).toString();
}

function holdLock(client: PoolClient, key: string, ttlMs: number): ReleaseLock {
  let released: Promise<void> | null = null;
  const release = () => {
    released ??= (async () => {
      clearTimeout(timer);
      let failure: Error | undefined;
      try {
        await client.query('select pg_advisory_unlock($1)', [lockKey(key)]);
      } catch (error) {
        // The session is gone, and the lock with it.
        failure = error instanceof Error ? error : new Error(String(error));
      } finally {
        client.release(failure);
      }
    })();
    return released;
  };
  // The lease ends after ttlMs even if the holder forgets to release it.
  const timer = setTimeout(() => void release(), ttlMs);
  timer.unref();
  return release;
}

function* copyChunks(
  rows: readonly EventRow[],
  columns: readonly string[],
  json: readonly boolean[],
  ids: readonly number[],
): Generator<string> {
  let chunk = '';
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i] as EventRow;
    let line = String(ids[i]);
    for (let c = 0; c < columns.length; c++) line += `\t${copyField(row[columns[c] as string], json[c] === true)}`;
    chunk += `${line}\n`;
    if (chunk.length >= 1 << 16) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk) yield chunk;
}

/** Fallback without pg-copy-streams: one `INSERT … SELECT unnest(…)` with an array per column. */
async function unnestInsert(
  pool: Pool,
  table: TableInfo,
  rows: readonly Record<string, unknown>[],
  columns: readonly string[],
): Promise<number[]> {
  const params = columns.map((c) => {
    const json = table.types.get(c) === 'jsonb';
    return rows.map((row) => {
      const v = row[c] ?? null;
      return typeof v === 'string' ? (json ? pgJson(v) : pgText(v)) : v;
    });
  });
  const list = columns.map((c) => `"${c}"`).join(', ');
  const arrays = columns.map((c, i) => `$${i + 1}::${arrayType(table.types.get(c))}`).join(', ');
  const result = await pool.query<{ id: string }>(
    `insert into ${table.qualified} (${list}) select * from unnest(${arrays}) returning id`,
    params,
  );
  return result.rows.map((r) => Number(r.id));
}

function arrayType(udt: string | undefined): string {
  switch (udt) {
    case 'int8':
      return 'bigint[]';
    case 'float8':
      return 'double precision[]';
    case 'jsonb':
      return 'jsonb[]';
    default:
      return 'text[]';
  }
}
