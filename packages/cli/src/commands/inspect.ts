import { sql } from 'kysely';
import type { CliContext } from '../context.js';
import { formatBytes } from '../progress.js';

/** What the catalog says about the events table. */
export interface TableInfo {
  exists: boolean;
  columns: string[];
  /** Index name → its columns in order. */
  indexes: Record<string, string[]>;
  /** Bytes on disk (table and indexes), when the engine tells. */
  bytes: number | null;
}

// biome-ignore lint/suspicious/noExplicitAny: the stores' Kysely instance has a run-time table layout.
type AnyDb = any;

/** The Kysely instance of an SQL store (SQLite, PostgreSQL, MySQL), or null for others. */
function dbOf(ctx: CliContext): AnyDb | null {
  const db = (ctx.store as { db?: unknown }).db;
  return db && typeof db === 'object' && 'executeQuery' in db ? db : null;
}

const prefixOf = (ctx: CliContext) => ctx.target.tablePrefix ?? 'eventlog_';

async function rows<T>(db: AnyDb, query: ReturnType<typeof sql>): Promise<T[]> {
  return (await query.execute(db)).rows as T[];
}

/** Reads the events table's columns, indexes and size from the engine's catalog. */
export async function inspectTable(ctx: CliContext): Promise<TableInfo | null> {
  const db = dbOf(ctx);
  if (!db) return null;
  const table = `${prefixOf(ctx)}events`;
  const info: TableInfo = { exists: false, columns: [], indexes: {}, bytes: null };
  switch (ctx.target.engine) {
    case 'sqlite': {
      const cols = await rows<{ name: string }>(db, sql`select name from pragma_table_info(${table})`);
      info.columns = cols.map((c) => c.name);
      info.exists = cols.length > 0;
      const list = await rows<{ name: string }>(db, sql`select name from pragma_index_list(${table})`);
      for (const { name } of list) {
        const parts = await rows<{ name: string }>(db, sql`select name from pragma_index_info(${name}) order by seqno`);
        info.indexes[name] = parts.map((p) => p.name);
      }
      const [page] = await rows<{ bytes: number }>(
        db,
        sql`select page_count * page_size as bytes from pragma_page_count(), pragma_page_size()`,
      );
      info.bytes = page ? Number(page.bytes) : null;
      break;
    }
    case 'postgres': {
      const schema = ctx.target.namespace ?? null;
      const cols = await rows<{ column_name: string }>(
        db,
        sql`select column_name from information_schema.columns where table_schema = coalesce(${schema}::text, current_schema()) and table_name = ${table} order by ordinal_position`,
      );
      info.columns = cols.map((c) => c.column_name);
      info.exists = cols.length > 0;
      if (info.exists) {
        const list = await rows<{ name: string; columns: string[] }>(
          db,
          sql`select i.relname as name, array(select a.attname from unnest(x.indkey) with ordinality k(n, o) join pg_attribute a on a.attrelid = x.indrelid and a.attnum = k.n order by k.o)::text[] as columns
              from pg_index x join pg_class i on i.oid = x.indexrelid join pg_class t on t.oid = x.indrelid join pg_namespace s on s.oid = t.relnamespace
              where t.relname = ${table} and s.nspname = coalesce(${schema}::text, current_schema())`,
        );
        for (const index of list) info.indexes[index.name] = index.columns;
        const [size] = await rows<{ bytes: string }>(
          db,
          sql`select pg_total_relation_size(format('%I.%I', coalesce(${schema}::text, current_schema()), ${table}::text)::regclass) as bytes`,
        );
        info.bytes = size ? Number(size.bytes) : null;
      }
      break;
    }
    case 'mysql': {
      const cols = await rows<{ name: string }>(
        db,
        sql`select column_name as name from information_schema.columns where table_schema = database() and table_name = ${table} order by ordinal_position`,
      );
      info.columns = cols.map((c) => c.name);
      info.exists = cols.length > 0;
      const list = await rows<{ name: string; col: string }>(
        db,
        sql`select index_name as name, column_name as col from information_schema.statistics where table_schema = database() and table_name = ${table} order by index_name, seq_in_index`,
      );
      for (const { name, col } of list) {
        const columns = info.indexes[name] ?? [];
        columns.push(col);
        info.indexes[name] = columns;
      }
      const [size] = await rows<{ bytes: number | string }>(
        db,
        sql`select data_length + index_length as bytes from information_schema.tables where table_schema = database() and table_name = ${table}`,
      );
      info.bytes = size ? Number(size.bytes) : null;
      break;
    }
    default:
      return null;
  }
  return info;
}

/** Runs the migration and says what it changed in the events table. */
export async function migrateStore(ctx: CliContext): Promise<string[]> {
  const before = await inspectTable(ctx);
  await ctx.log.ready();
  const after = await inspectTable(ctx);
  if (!before || !after)
    return [`Migrated the ${ctx.target.engine} store (this engine's catalog is not inspected, so changes are not listed).`];
  if (!before.exists) {
    return [
      `Created the events table ${prefixOf(ctx)}events with ${after.columns.length} columns and ${Object.keys(after.indexes).length} indexes.`,
    ];
  }
  const changes: string[] = [];
  for (const column of after.columns) if (!before.columns.includes(column)) changes.push(`added column ${column}`);
  for (const [name, columns] of Object.entries(after.indexes)) {
    const old = before.indexes[name];
    if (!old) changes.push(`created index ${name} (${columns.join(', ')})`);
    else if (old.join() !== columns.join()) changes.push(`rebuilt index ${name}: (${old.join(', ')}) → (${columns.join(', ')})`);
  }
  for (const name of Object.keys(before.indexes)) if (!after.indexes[name]) changes.push(`dropped index ${name}`);
  return changes.length > 0 ? changes : ['Already up to date: nothing changed.'];
}

/** One finding of `doctor`. */
export interface Finding {
  level: 'ok' | 'warn' | 'fail';
  check: string;
  detail: string;
  /** What to do about it. */
  fix?: string;
}

/** The index column lists the library's migrations create (scope or filter column first, then time, id). */
function expectedIndexes(ctx: CliContext): string[][] {
  return [
    ['time', 'id'],
    ['tenant_id', 'time', 'id'],
    ['type', 'time', 'id'],
    ['category', 'time', 'id'],
    ['actor_id', 'time', 'id'],
    ['target_id', 'target_type', 'time', 'id'],
    ['session_id'],
    ...ctx.dimensions.filter((d) => d.indexed).map((d) => [d.name, 'time', 'id']),
  ];
}

/** Checks the store's tables, indexes, engine settings and size, and says what to fix. */
export async function diagnose(ctx: CliContext): Promise<Finding[]> {
  const findings: Finding[] = [];
  const info = await inspectTable(ctx);
  const db = dbOf(ctx);
  if (!info || !db) {
    findings.push({ level: 'ok', check: 'store', detail: `${ctx.target.engine}: reachable` });
    await ctx.log.count();
    return findings;
  }
  if (!info.exists) {
    findings.push({ level: 'fail', check: 'tables', detail: `no ${prefixOf(ctx)}events table`, fix: 'run `eventlog migrate`' });
    return findings;
  }
  const wanted = [...ctx.dimensions.map((d) => d.name), ...ctx.metrics.map((m) => m.name)];
  const missing = wanted.filter((c) => !info.columns.includes(c));
  findings.push(
    missing.length > 0
      ? { level: 'fail', check: 'columns', detail: `missing ${missing.join(', ')}`, fix: 'run `eventlog migrate`' }
      : { level: 'ok', check: 'columns', detail: `${info.columns.length} columns, every declared dimension and metric present` },
  );
  const have = Object.values(info.indexes).map((c) => c.join(','));
  const absent = expectedIndexes(ctx).filter((cols) => !have.includes(cols.join(',')));
  findings.push(
    absent.length > 0
      ? {
          level: 'fail',
          check: 'indexes',
          detail: `missing or out of order: ${absent.map((c) => `(${c.join(', ')})`).join(', ')}`,
          fix: 'run `eventlog migrate` (it recreates indexes whose columns differ)',
        }
      : {
          level: 'ok',
          check: 'indexes',
          detail: `${Object.keys(info.indexes).length} indexes, all expected ones present in the right column order`,
        },
  );
  const count = await ctx.log.count();
  findings.push({
    level: 'ok',
    check: 'size',
    detail: `${count.toLocaleString('en-US')} events${info.bytes !== null ? `, ${formatBytes(info.bytes)} on disk` : ''}`,
  });
  if (ctx.target.engine === 'sqlite') {
    const [mode] = await rows<{ journal_mode: string }>(db, sql`pragma journal_mode`);
    const wal = mode?.journal_mode?.toLowerCase() === 'wal';
    findings.push(
      wal || ctx.target.location === ':memory:'
        ? { level: 'ok', check: 'journal', detail: `journal_mode=${mode?.journal_mode ?? '?'}` }
        : {
            level: 'warn',
            check: 'journal',
            detail: `journal_mode=${mode?.journal_mode}: readers block the writer`,
            fix: `sqlite3 ${ctx.target.location} 'PRAGMA journal_mode=WAL'`,
          },
    );
    const [free] = await rows<{ n: number }>(db, sql`select freelist_count as n from pragma_freelist_count()`);
    const [pages] = await rows<{ n: number }>(db, sql`select page_count as n from pragma_page_count()`);
    if (free && pages && Number(pages.n) > 0 && Number(free.n) / Number(pages.n) > 0.25) {
      findings.push({
        level: 'warn',
        check: 'free pages',
        detail: `${Math.round((Number(free.n) / Number(pages.n)) * 100)}% of the file is free pages left by deletes`,
        fix: `sqlite3 ${ctx.target.location} 'VACUUM' (when no writer is running)`,
      });
    }
  } else if (ctx.target.engine === 'postgres') {
    const [cost] = await rows<{ random_page_cost: string }>(db, sql`show random_page_cost`);
    const value = Number(cost?.random_page_cost);
    findings.push(
      value > 1.5
        ? {
            level: 'warn',
            check: 'random_page_cost',
            detail: `${value}: the planner assumes spinning disks and prefers scans over the time indexes`,
            fix: 'on SSD storage: ALTER SYSTEM SET random_page_cost = 1.1; SELECT pg_reload_conf();',
          }
        : { level: 'ok', check: 'random_page_cost', detail: String(value) },
    );
  } else if (ctx.target.engine === 'mysql') {
    const [pool] = await rows<{ v: string | number }>(db, sql`select @@innodb_buffer_pool_size as v`);
    const poolBytes = Number(pool?.v);
    findings.push(
      info.bytes !== null && poolBytes < info.bytes / 4
        ? {
            level: 'warn',
            check: 'innodb_buffer_pool_size',
            detail: `${formatBytes(poolBytes)} holds under a quarter of the table and its indexes`,
            fix: 'raise innodb_buffer_pool_size in the server configuration',
          }
        : { level: 'ok', check: 'innodb_buffer_pool_size', detail: formatBytes(poolBytes) },
    );
  }
  return findings;
}
