import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { EventRow } from '@eventlog/core';
import type { CompiledQuery } from 'kysely';
import type { Pool, PoolClient, QueryConfig } from 'pg';
import type { InsertContext, InsertStrategy } from '../dialect.js';
import { wellFormedJson } from '../json.js';
import type { TableNames } from '../migrations.js';
import { rollupUpsertCtes } from '../rollups-sql.js';
import { type BatchToken, batchRow } from './idempotent.js';

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

/**
 * pg-copy-streams is an optional peer: without it the store falls back to `unnest` inserts, which
 * are slower for large batches; the process says so once on stderr, so the slower path is never silent.
 */
function loadCopyFrom(): Promise<CopyFrom | null> {
  copyFromModule ??= import('pg-copy-streams').then(
    (m) => (m.from ?? (m as unknown as { default: { from: CopyFrom } }).default.from) as CopyFrom,
    () => {
      process.emitWarning(
        'pg-copy-streams is not installed: the PostgreSQL store ingests large batches with unnest inserts instead of COPY, which is slower. Install it with `npm i pg-copy-streams`.',
        { code: 'EVENTLOG_NO_COPY' },
      );
      return null;
    },
  );
  return copyFromModule;
}

/**
 * Largest batch written with `unnest`; bigger ones go through COPY. `unnest` is one round trip and
 * COPY several (ids, BEGIN, COPY, token and COMMIT), so `unnest` wins for small batches; COPY wins
 * from about a thousand rows, as it streams while the server parses (docs/benchmarks.md).
 */
const UNNEST_MAX_ROWS = 500;

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

/** Options of {@link postgresInsert}. */
export interface PostgresInsertOptions {
  readonly pool: Pool;
  /** Pins the method (tests, measurements); by size when absent. */
  readonly method?: 'copy' | 'unnest';
}

/** The PostgreSQL insert strategy, plus the hook that reads the catalog facts it needs after a migration. */
export interface PostgresInsert {
  readonly insert: InsertStrategy;
  /** Reads the table's sequence and column types; called after each migration. */
  refresh(tables: TableNames): Promise<void>;
}

/**
 * Retry-safe batch inserts for PostgreSQL: small batches in one `unnest` INSERT, larger ones
 * through COPY with preallocated ids; both write the batch's token (see `idempotent.ts`).
 */
export function postgresInsert(options: PostgresInsertOptions): PostgresInsert {
  const { pool } = options;
  let info: { key: string; table: TableInfo } | undefined;

  const readInfo = async (tables: TableNames): Promise<TableInfo> => {
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

  const tableInfo = async (tables: TableNames): Promise<TableInfo> => {
    if (info?.key !== tables.events) info = { key: tables.events, table: await readInfo(tables) };
    return info.table;
  };

  const insert: InsertStrategy = async (rows, columns, context) => {
    if (rows.length === 0) return [];
    const table = await tableInfo(context.tables);
    const method = options.method ?? (rows.length <= UNNEST_MAX_ROWS ? 'unnest' : 'copy');
    const copyFrom = method === 'copy' ? await loadCopyFrom() : null;
    if (context.transaction) {
      const client = context.transaction.client as PoolClient | undefined;
      if (!client) throw new Error('The PostgreSQL insert needs the pg client of the chained append transaction.');
      if (copyFrom) {
        // Ids and the token row in one statement, then the rows: two round trips; the owner commits.
        const ids = await allocateIds(client, table, rows.length, context.token);
        await copyInto(client, copyFrom, table, rows, columns, ids);
        await runAll(client, rollupQueries(rows, context));
        return ids;
      }
      const ids = await unnestInsert(client, table, rows, columns, context);
      if (!context.rollupArrays) await runAll(client, context.rollups?.(rows) ?? []);
      return ids;
    }
    if (copyFrom) return copyInsert(pool, copyFrom, table, rows, columns, context.token, rollupQueries(rows, context));
    if (context.rollupArrays) return unnestInsert(pool, table, rows, columns, context);
    const companions = context.rollups?.(rows) ?? [];
    if (companions.length === 0) return unnestInsert(pool, table, rows, columns, context);
    // The rollup increments must commit with the rows: one transaction on one connection.
    return onOwnConnection(pool, async (client) => {
      await client.query('begin');
      const ids = await unnestInsert(client, table, rows, columns, context);
      await runAll(client, companions);
      await client.query('commit');
      return ids;
    });
  };

  return {
    insert,
    async refresh(tables) {
      info = { key: tables.events, table: await readInfo(tables) };
    },
  };
}

/**
 * COPY in a transaction on a dedicated connection: ids first (COPY cannot return them), then the
 * rows, then the token row, then COMMIT.
 */
async function copyInsert(
  pool: Pool,
  copyFrom: CopyFrom,
  table: TableInfo,
  rows: readonly EventRow[],
  columns: readonly string[],
  token: BatchToken | undefined,
  companions: readonly (CompiledQuery | QueryConfig)[],
): Promise<number[]> {
  return onOwnConnection(pool, async (client) => {
    // One row holding every id parses faster than one row per id.
    const result = await client.query<{ ids: string }>('select array_agg(nextval($1::regclass))::text as ids from generate_series(1, $2)', [
      table.sequence,
      rows.length,
    ]);
    const ids = parseIds(result.rows[0]?.ids, rows.length);
    await client.query('begin');
    await copyInto(client, copyFrom, table, rows, columns, ids);
    await runAll(client, companions);
    if (token) {
      const row = batchRow(token, ids);
      await client.query(`insert into ${table.batches} (token, ids, created_at) values ($1, $2, $3)`, [row.token, row.ids, row.created_at]);
    }
    await client.query('commit');
    return ids;
  });
}

/** The ids of `array_agg(…)::text` in ascending order, checked to be `count` safe integers. */
function parseIds(text: string | undefined, count: number): number[] {
  const ids = (text ?? '{}')
    .slice(1, -1)
    .split(',')
    .filter(Boolean)
    .map(Number)
    .sort((a, b) => a - b);
  if (ids.length !== count || ids.some((id) => !Number.isSafeInteger(id))) throw new Error(`Could not allocate ${count} ids.`);
  return ids;
}

/** The rows through COPY with the given ids, on a connection inside a transaction. */
async function copyInto(
  client: PoolClient,
  copyFrom: CopyFrom,
  table: TableInfo,
  rows: readonly EventRow[],
  columns: readonly string[],
  ids: readonly number[],
): Promise<void> {
  const json = columns.map((c) => table.types.get(c) === 'jsonb' || table.types.get(c) === 'json');
  const list = ['id', ...columns].map((c) => `"${c}"`).join(', ');
  await pipeline(
    Readable.from(copyChunks(rows, columns, json, ids)),
    client.query(copyFrom(`copy ${table.qualified} (${list}) from stdin`)),
  );
}

/**
 * Allocates `count` ids and, when a token is given, writes its row with them, in one statement
 * (the token's `encodeIds` text computed by the server, as in the `unnest` insert). For COPY inside
 * a chained append's transaction, where the token row then commits with the rows.
 */
async function allocateIds(client: PoolClient, table: TableInfo, count: number, token: BatchToken | undefined): Promise<number[]> {
  let text = 'with ins as (select nextval($1::regclass) as id from generate_series(1, $2::int))';
  const values: unknown[] = [table.sequence, count];
  if (token) {
    values.push(token.token, token.createdAt);
    text += `,\n  tok as (${tokenInsert(table.batches, 3)})`;
  }
  text += '\nselect array_agg(id)::text as ids from ins';
  const name = `eventlog_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`;
  const result = await client.query<{ ids: string }>({ name, text, values });
  return parseIds(result.rows[0]?.ids, count);
}

/**
 * Runs `fn` on a connection of its own. A failure may leave the connection mid-protocol (a COPY)
 * or in an aborted transaction: it is then discarded rather than reused, and the server rolls the
 * transaction back when the connection closes.
 */
async function onOwnConnection<R>(pool: Pool, fn: (client: PoolClient) => Promise<R>): Promise<R> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    return await fn(client);
  } catch (error) {
    broken = error instanceof Error ? error : new Error(String(error));
    throw error;
  } finally {
    client.release(broken);
  }
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
 * The token row's ids in `encodeIds` form (`first:count` runs), computed by the server from the
 * ids the same statement inserted (consecutive ids share `id - row_number()`), so the token is
 * written by the same statement, in one round trip.
 */
function tokenInsert(batches: string, tokenParam: number): string {
  return `insert into ${batches} (token, created_at, ids)
    select $${tokenParam}, $${tokenParam + 1}, coalesce(string_agg(r.first || ':' || r.n, ',' order by r.first), '')
      from (select min(id) as first, count(*) as n
              from (select id, id - row_number() over (order by id) as run from ins) s group by run) r`;
}

/**
 * One statement: `INSERT … SELECT * FROM unnest(…)` with an array per column, plus, in a
 * data-modifying CTE of the same statement (so in the same transaction), the token row. Named, so
 * each connection parses and plans it once.
 */
async function unnestInsert(
  pool: Pool | PoolClient,
  table: TableInfo,
  rows: readonly EventRow[],
  columns: readonly string[],
  context: InsertContext,
): Promise<number[]> {
  const params: unknown[] = columns.map((c) => {
    const json = table.types.get(c) === 'jsonb';
    return rows.map((row) => {
      const v = row[c] ?? null;
      return typeof v === 'string' ? (json ? pgJson(v) : pgText(v)) : v;
    });
  });
  const list = columns.map((c) => `"${c}"`).join(', ');
  const arrays = columns.map((c, i) => `$${i + 1}::${arrayType(table.types.get(c))}`).join(', ');
  const n = columns.length;
  let text = `with ins as (insert into ${table.qualified} (${list}) select * from unnest(${arrays}) returning id)`;
  if (context.token) {
    params.push(context.token.token, context.token.createdAt);
    text += `,\n  tok as (${tokenInsert(table.batches, n + 1)})`;
  }
  // The rollup increments in the same statement (so the same transaction): one upsert per table.
  const rollups = rollupUpsertCtes(context.rollupArrays?.(rows) ?? [], params.length + 1);
  params.push(...rollups.params);
  for (const cte of rollups.ctes) text += `,\n  ${cte}`;
  text += '\nselect id from ins';
  const name = `eventlog_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`;
  const result = await pool.query<{ id: string }>({ name, text, values: params });
  // nextval runs in array order, so ascending ids are input order.
  return result.rows.map((r) => Number(r.id)).sort((a, b) => a - b);
}

/**
 * The rollup increments of `rows` for the COPY path: one statement upserting every table from
 * arrays (one round trip, planned once per connection), or the compiled upserts when the context
 * has no arrays.
 */
function rollupQueries(rows: readonly EventRow[], context: InsertContext): (CompiledQuery | QueryConfig)[] {
  if (!context.rollupArrays) return [...(context.rollups?.(rows) ?? [])];
  const { ctes, params } = rollupUpsertCtes(context.rollupArrays(rows), 1);
  if (ctes.length === 0) return [];
  const text = `with ${ctes.join(',\n  ')}\nselect 1`;
  return [{ name: `eventlog_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`, text, values: params }];
}

/** Runs statements in order on one connection. */
async function runAll(client: PoolClient, statements: readonly (CompiledQuery | QueryConfig)[]): Promise<void> {
  for (const statement of statements) {
    if ('text' in statement) await client.query(statement);
    else await client.query(statement.sql, statement.parameters as unknown[]);
  }
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
