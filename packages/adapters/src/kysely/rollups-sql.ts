import * as crypto from 'node:crypto';
import type { RollupDelta, StoreColumn, StoreSchema } from '@eventlog/core';
import { rollupColumns } from '@eventlog/core';
import { CompiledQuery, type RawBuilder, sql } from 'kysely';
import type { AnyKysely, ResolvedDialect } from './dialect.js';
import type { TableNames } from './migrations.js';

/** A rollup table's names: qualified for queries, bare for catalog look-ups and upsert references. */
export interface RollupTable {
  /** `base` or the marked dimension; the key of its state row and of progress reports. */
  readonly name: string;
  readonly dimension: string | null;
  readonly qualified: string;
  readonly bare: string;
}

const MAX_IDENTIFIER = 60;

/** The prefix the store was built with, recovered from the events table's name. */
function prefixOf(tables: TableNames): string {
  return tables.eventsTable.slice(0, -'events'.length);
}

/** A GLOB of the bare names of a store's rollup tables and its state table (for catalog look-ups). */
export function rollupTablesGlob(tables: TableNames): string {
  return `${prefixOf(tables)}rollup*`;
}

function qualify(tables: TableNames, bare: string): string {
  return tables.schema ? `${tables.schema}.${bare}` : bare;
}

/** The state table: one row per rollup table, with its backfill position. */
export function rollupStateTable(tables: TableNames): string {
  return qualify(tables, `${prefixOf(tables)}rollup_state`);
}

/** Names of the rollup table of `dimension` (null: the base table), within every engine's identifier limit. */
export function rollupTable(tables: TableNames, dimension: string | null): RollupTable {
  const prefix = prefixOf(tables);
  let bare = dimension === null ? `${prefix}rollups` : `${prefix}rollups_${dimension}`;
  if (bare.length > MAX_IDENTIFIER && dimension !== null) {
    const hash = crypto.createHash('sha1').update(dimension).digest('hex').slice(0, 8);
    bare = `${prefix}rollups_${dimension.slice(0, MAX_IDENTIFIER - prefix.length - 18)}_${hash}`;
  }
  return { name: dimension ?? 'base', dimension, qualified: qualify(tables, bare), bare };
}

/** Column of a metric's sum in a rollup table (a leading `_` never clashes with declared names). */
export function sumColumn(metric: string): string {
  return `_s_${metric}`;
}

/** Keys hashed lately: a batch repeats a few hundred key tuples over thousands of deltas, and the next batch the same ones. */
const hashed = new Map<string, string>();
const MAX_HASHED = 20_000;
const oneShot = (crypto as { hash?: (algorithm: string, data: string, encoding: 'base64') => string }).hash;

/** The unique key of a delta's values: a hash, so NULLs and long values fit one bounded column. */
function keyHash(key: string): string {
  let hash = hashed.get(key);
  if (hash === undefined) {
    hash = oneShot ? oneShot('sha1', key, 'base64') : crypto.createHash('sha1').update(key).digest('base64');
    if (hashed.size >= MAX_HASHED) hashed.clear();
    hashed.set(key, hash);
  }
  return hash;
}

/** Creates the state table (migration version 2). */
export async function createRollupState(db: AnyKysely, dialect: ResolvedDialect, tables: TableNames): Promise<void> {
  const name = sql.raw(dialect.columnType({ name: '', type: 'string', maxLength: 128, nullable: false, kind: 'canonical' }));
  const bigint = sql.raw(dialect.columnType({ name: '', type: 'integer', maxLength: undefined, nullable: false, kind: 'canonical' }));
  await sql`create table if not exists ${sql.table(rollupStateTable(tables))} (
    name ${name} not null primary key,
    ready ${bigint} not null,
    first_day ${bigint},
    next_day ${bigint},
    last_day ${bigint}
  )${sql.raw(dialect.tableOptions ?? '')}`.execute(db);
}

/**
 * Creates a rollup table when missing and adds missing sum columns; returns whether it was
 * created (and so needs a backfill).
 */
export async function ensureRollupTable(
  db: AnyKysely,
  dialect: ResolvedDialect,
  schema: StoreSchema,
  table: RollupTable,
  existing: readonly string[] | null,
): Promise<boolean> {
  const byName = new Map(schema.columns.map((c) => [c.name, c]));
  const type = (c: StoreColumn | undefined, fallback: StoreColumn['type']) =>
    sql.raw(dialect.columnType(c ?? { name: '', type: fallback, maxLength: 255, nullable: true, kind: 'canonical' }));
  const bigint = type(undefined, 'integer');
  const sumType = (m: string) => type(byName.get(m), 'integer');
  const metrics = schema.rollups?.metrics ?? [];
  if (existing) {
    for (const m of metrics) {
      if (existing.includes(sumColumn(m))) continue;
      await sql`alter table ${sql.table(table.qualified)} add column ${sql.ref(sumColumn(m))} ${sumType(m)} default 0 not null`.execute(db);
    }
    return false;
  }
  const keyType = sql.raw(dialect.columnType({ name: '', type: 'string', maxLength: 32, nullable: false, kind: 'canonical' }));
  const columns = [
    sql`${sql.ref('_grain')} ${bigint} not null`,
    sql`${sql.ref('_bucket')} ${bigint} not null`,
    sql`${sql.ref('_key')} ${keyType} not null`,
    ...rollupColumns(table.dimension).map((c) => sql`${sql.ref(c)} ${type(byName.get(c), 'string')}`),
    sql`${sql.ref('_n')} ${bigint} not null`,
    ...metrics.map((m) => sql`${sql.ref(sumColumn(m))} ${sumType(m)} default 0 not null`),
    sql`primary key (${sql.ref('_grain')}, ${sql.ref('_bucket')}, ${sql.ref('_key')})`,
  ];
  // SQLite: a WITHOUT ROWID table is its primary key's B-tree, so an upsert writes one B-tree, not a
  // rowid table and a key index. Tables created before keep their layout (SQLite cannot convert one).
  const options = dialect.engine === 'sqlite' ? ' without rowid' : (dialect.tableOptions ?? '');
  await sql`create table if not exists ${sql.table(table.qualified)} (${sql.join(columns)})${sql.raw(options)}`.execute(db);
  return true;
}

/**
 * Rows per SQLite upsert statement: one call into the driver binds and runs them all, where single
 * rows cost a call and a statement object each.
 */
const SQLITE_ROWS = 64;

/** Compiled upsert texts by table and row count: the text only depends on those, so it is built once. */
const upsertTexts = new WeakMap<AnyKysely, Map<string, string>>();

/**
 * Upserts of `deltas` into `table`: counts and sums are added to the existing row, in statements
 * under the engine's parameter limit. SQLite gets statements of {@link SQLITE_ROWS} rows and single
 * rows for the remainder, so it only ever prepares two texts per table and caches them (a new
 * multi-row text per batch would be parsed every time); the network engines get the largest
 * multi-row statements the limit allows (one round trip each).
 */
export function upsertStatements(
  db: AnyKysely,
  dialect: ResolvedDialect,
  table: RollupTable,
  metrics: readonly string[],
  deltas: readonly RollupDelta[],
): CompiledQuery[] {
  if (deltas.length === 0) return [];
  const keyColumns = rollupColumns(table.dimension);
  const columns = ['_grain', '_bucket', '_key', ...keyColumns, '_n', ...metrics.map(sumColumn)];
  const sqlite = dialect.engine === 'sqlite';
  const perStatement = sqlite ? SQLITE_ROWS : Math.max(1, Math.floor(dialect.capabilities.maxParameters / columns.length));
  let texts = upsertTexts.get(db);
  if (!texts) {
    texts = new Map();
    upsertTexts.set(db, texts);
  }
  // PostgreSQL text cannot hold NUL: the same replacement its Kysely plugin makes (these parameters bypass it).
  const text = dialect.engine === 'postgres' ? (v: unknown) => (typeof v === 'string' ? v.replace(/\0/g, '\ufffd') : v) : (v: unknown) => v;
  const statements: CompiledQuery[] = [];
  for (let i = 0; i < deltas.length; ) {
    const size = sqlite && deltas.length - i < perStatement ? 1 : perStatement;
    const chunk = deltas.slice(i, i + size);
    i += chunk.length;
    const parameters: unknown[] = [];
    for (const d of chunk) {
      parameters.push(d.grain, d.bucket, keyHash(d.key));
      for (const c of keyColumns) parameters.push(text(d.values[c] ?? null));
      parameters.push(d.count);
      for (const m of metrics) parameters.push(d.sums[m] ?? 0);
    }
    const id = `${table.qualified}|${metrics.join(',')}|${chunk.length}`;
    let sqlText = texts.get(id);
    if (!sqlText) {
      sqlText = upsertText(db, dialect, table, columns, metrics, chunk.length);
      if (texts.size > 256) texts.clear();
      texts.set(id, sqlText);
    }
    statements.push(CompiledQuery.raw(sqlText, parameters));
  }
  return statements;
}

function upsertText(
  db: AnyKysely,
  dialect: ResolvedDialect,
  table: RollupTable,
  columns: readonly string[],
  metrics: readonly string[],
  rows: number,
): string {
  const added = ['_n', ...metrics.map(sumColumn)];
  let conflict: RawBuilder<unknown>;
  if (dialect.flags.upsert === 'onConflict') {
    const sets = added.map((c) => sql`${sql.ref(c)} = ${sql.ref(`${table.bare}.${c}`)} + excluded.${sql.ref(c)}`);
    conflict = sql`on conflict (${sql.ref('_grain')}, ${sql.ref('_bucket')}, ${sql.ref('_key')}) do update set ${sql.join(sets)}`;
  } else {
    const sets = added.map((c) => sql`${sql.ref(c)} = ${sql.ref(c)} + values(${sql.ref(c)})`);
    conflict = sql`on duplicate key update ${sql.join(sets)}`;
  }
  const row = sql`(${sql.join(columns.map(() => 0))})`;
  const values = Array.from({ length: rows }, () => row);
  return sql`insert into ${sql.table(table.qualified)} (${sql.join(columns.map((c) => sql.ref(c)))}) values ${sql.join(values)} ${conflict}`.compile(
    db,
  ).sql;
}

/** One rollup table's increments as column arrays, for PostgreSQL's `unnest` insert (one statement). */
export interface RollupArrays {
  /** Quoted, schema-qualified table name. */
  readonly table: string;
  /** Quoted bare table name, for referencing the existing row in `DO UPDATE`. */
  readonly bare: string;
  readonly columns: readonly string[];
  /** Array type of each column, e.g. `bigint[]`. */
  readonly types: readonly string[];
  /** The columns added to an existing row on conflict. */
  readonly added: readonly string[];
  /** One array of values per column. */
  readonly values: readonly unknown[][];
}

/** The increments of `deltas` as column arrays (PostgreSQL). */
export function rollupArrays(
  schema: StoreSchema,
  table: RollupTable,
  metrics: readonly string[],
  deltas: readonly RollupDelta[],
): RollupArrays {
  const byName = new Map(schema.columns.map((c) => [c.name, c]));
  const keyColumns = rollupColumns(table.dimension);
  const columns = ['_grain', '_bucket', '_key', ...keyColumns, '_n', ...metrics.map(sumColumn)];
  const arrayOf = (c: StoreColumn | undefined) =>
    c?.type === 'integer' ? 'bigint[]' : c?.type === 'float' ? 'double precision[]' : 'text[]';
  const types = [
    'bigint[]',
    'bigint[]',
    'text[]',
    ...keyColumns.map((c) => arrayOf(byName.get(c))),
    'bigint[]',
    ...metrics.map((m) => arrayOf(byName.get(m) ?? { name: m, type: 'integer', maxLength: undefined, nullable: true, kind: 'metric' })),
  ];
  const values: unknown[][] = columns.map(() => []);
  for (const d of deltas) {
    let i = 0;
    values[i++]?.push(d.grain);
    values[i++]?.push(d.bucket);
    values[i++]?.push(keyHash(d.key));
    for (const c of keyColumns) {
      const v = d.values[c] ?? null;
      values[i++]?.push(typeof v === 'string' ? v.replace(/\0/g, '\ufffd') : v);
    }
    values[i++]?.push(d.count);
    for (const m of metrics) values[i++]?.push(d.sums[m] ?? 0);
  }
  const quote = (name: string) =>
    name
      .split('.')
      .map((p) => `"${p}"`)
      .join('.');
  return {
    table: quote(table.qualified),
    bare: quote(table.bare),
    columns: columns.map(quote),
    types,
    added: ['_n', ...metrics.map(sumColumn)].map(quote),
    values,
  };
}

/**
 * Upserts of every table's arrays as data-modifying CTEs (`name0 as (insert … select * from
 * unnest(…) on conflict … do update …)`, …), parameters numbered from `firstParam`: appended to
 * one statement, they write all of a batch's increments in one round trip.
 */
export function rollupUpsertCtes(arrays: readonly RollupArrays[], firstParam: number, name = 'r'): { ctes: string[]; params: unknown[] } {
  const params: unknown[] = [];
  const ctes = arrays.map((r, t) => {
    const first = firstParam + params.length;
    params.push(...r.values);
    const columns = r.types.map((type, i) => `$${first + i}::${type}`).join(', ');
    const sets = r.added.map((c) => `${c} = ${r.bare}.${c} + excluded.${c}`).join(', ');
    return `${name}${t} as (insert into ${r.table} (${r.columns.join(', ')}) select * from unnest(${columns})
      on conflict ("_grain", "_bucket", "_key") do update set ${sets})`;
  });
  return { ctes, params };
}
