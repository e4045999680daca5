import { createHash, randomUUID } from 'node:crypto';
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
import { type AnyKysely, NETWORK_ERROR_CODES, type SqlDialect, someCause } from '../kysely/dialect.js';
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

/**
 * Largest batch written with `unnest`; bigger ones go through COPY.
 *
 * Measured on this project's 2-core machine (PostgreSQL 15, 8-index events table, median of three
 * interleaved runs, rows/s; "raw" is pg alone with no ids returned):
 *
 * | batch rows | raw multi-row INSERT | raw COPY | store multi-row (Kysely) | store unnest + token | store COPY + ids |
 * |-----------:|---------------------:|---------:|-------------------------:|---------------------:|-----------------:|
 * |          1 |                  912 |      757 |                        — |                  921 |              533 |
 * |         10 |                4 033 |    4 814 |                        — |                4 183 |            3 966 |
 * |        100 |                6 419 |   12 270 |                        — |               10 332 |           10 111 |
 * |      1 000 |                6 347 |   15 287 |                        — |               13 958 |           18 462 |
 * |      2 000 |                5 810 |   17 221 |                        — |               13 988 |           20 777 |
 * |      5 000 |                6 980 |   17 214 |                        — |               14 567 |           24 120 |
 * |     10 000 |                7 536 |   17 726 |                        — |               13 120 |           23 416 |
 *
 * `unnest` is one round trip, COPY three (ids, COPY start, COPY end), so `unnest` wins for small
 * batches; COPY wins from about a thousand rows, as it streams while the server parses. The
 * multi-row INSERT … RETURNING that Kysely builds, measured separately in 1000-row batches under
 * heavier load, ran at 4 319 rows/s against raw multi-row 5 057, raw COPY 11 332 and this store's
 * default path 10 013: far behind.
 */
const UNNEST_MAX_ROWS = 500;

/** How long an insert token is kept: far longer than the write buffer keeps retrying. */
const TOKEN_TTL_MS = 10 * 60_000;

/** Column facts read from the catalog after migration. */
interface TableInfo {
  /** Schema-qualified, quoted name of the events table. */
  qualified: string;
  /** The `id` sequence, as `pg_get_serial_sequence` names it. */
  sequence: string;
  /** Column name → SQL type name (`jsonb`, `bigint`, …). */
  types: Map<string, string>;
  /** Schema-qualified, quoted name of the insert-token table. */
  batches: string;
}

/** Options of {@link createPostgresDialect}. */
export interface PostgresDialectOptions {
  pool: Pool;
  /** The store's table names, known once the store is built. */
  tables: () => TableNames;
  /** Schema to create when missing. */
  schema: string | undefined;
  /**
   * Pins how batches are inserted (tests and measurements). By default batches up to
   * {@link UNNEST_MAX_ROWS} rows use `unnest` and larger ones COPY, which falls back to `unnest`
   * when pg-copy-streams is not installed.
   */
  insertMethod?: 'copy' | 'unnest';
}

/**
 * PostgreSQL: `bigserial` ids, `jsonb` data, ILIKE search, advisory locks on dedicated connections,
 * and retry-safe batch inserts: small batches in one `unnest` INSERT, larger ones through COPY
 * with preallocated ids.
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
    const batches = `"${schemaName}"."${tables.batches.slice(tables.batches.lastIndexOf('.') + 1)}"`;
    return { qualified, sequence, types: new Map(result.rows.map((r) => [r.column_name, r.udt_name])), batches };
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

  // Tokens of unnest inserts that failed, by the rows array the write buffer retries with.
  const tokens = new WeakMap<readonly EventRow[], string>();
  let lastSweep = 0;

  const committedIds = async (table: TableInfo, token: string): Promise<number[] | null> => {
    const result = await pool.query<{ ids: string }>(`select ids from ${table.batches} where token = $1`, [token]);
    const ids = result.rows[0]?.ids;
    return ids === undefined ? null : ids === '' ? [] : ids.split(',').map(Number);
  };

  const unnestInsertOnce = async (rows: readonly EventRow[], columns: readonly string[]): Promise<number[]> => {
    const table = await tableInfo();
    const previous = tokens.get(rows);
    if (previous) {
      const prior = await committedIds(table, previous);
      if (prior) {
        tokens.delete(rows);
        return prior;
      }
    }
    const token = previous ?? randomUUID();
    tokens.set(rows, token);
    try {
      const ids = await unnestInsert(pool, table, rows, columns, token);
      tokens.delete(rows);
      const now = Date.now();
      if (now - lastSweep > 60_000) {
        lastSweep = now;
        pool.query(`delete from ${table.batches} where created_at < $1`, [now - TOKEN_TTL_MS]).catch(() => undefined);
      }
      return ids;
    } catch (error) {
      if (previous) {
        // An earlier attempt still committing held the token's key: once it committed, this one collided.
        const prior = await committedIds(table, token).catch(() => null);
        if (prior) {
          tokens.delete(rows);
          return prior;
        }
      }
      throw error;
    }
  };

  return {
    engine: 'postgres',
    capabilities,
    // The token table of the unnest path (see unnestInsert).
    idempotentInsert: true,
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
    rowValueKeyset: true,

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
      const method = options.insertMethod ?? (rows.length <= UNNEST_MAX_ROWS ? 'unnest' : 'copy');
      const copyFrom = method === 'copy' ? await loadCopyFrom() : null;
      if (copyFrom) return copyInsert(copyFrom, rows as readonly EventRow[], columns);
      return unnestInsertOnce(rows as readonly EventRow[], columns);
    },

    async afterMigrate() {
      info = await readInfo();
    },

    jsonValue: pgJson,
    jsonAsText: (column) => sql<string | null>`${sql.ref(column)}::text`,
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

/**
 * One statement: `INSERT … SELECT * FROM unnest(…)` with an array per column, plus, in a
 * data-modifying CTE of the same statement (so in the same transaction), the token row that lets
 * a retry after a lost reply find the rows instead of inserting them twice. Named, so each
 * connection parses and plans it once.
 */
async function unnestInsert(
  pool: Pool,
  table: TableInfo,
  rows: readonly Record<string, unknown>[],
  columns: readonly string[],
  token: string,
): Promise<number[]> {
  const params: unknown[] = columns.map((c) => {
    const json = table.types.get(c) === 'jsonb';
    return rows.map((row) => {
      const v = row[c] ?? null;
      return typeof v === 'string' ? (json ? pgJson(v) : pgText(v)) : v;
    });
  });
  params.push(token, Date.now());
  const list = columns.map((c) => `"${c}"`).join(', ');
  const arrays = columns.map((c, i) => `$${i + 1}::${arrayType(table.types.get(c))}`).join(', ');
  const n = columns.length;
  const text = `with ins as (insert into ${table.qualified} (${list}) select * from unnest(${arrays}) returning id),
    tok as (insert into ${table.batches} (token, ids, created_at)
            select $${n + 1}, coalesce(string_agg(id::text, ',' order by id), ''), $${n + 2} from ins)
    select id from ins`;
  const name = `eventlog_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`;
  const result = await pool.query<{ id: string }>({ name, text, values: params });
  // nextval runs in array order, so ascending ids are input order.
  return result.rows.map((r) => Number(r.id)).sort((a, b) => a - b);
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
