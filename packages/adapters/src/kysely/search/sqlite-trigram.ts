import { sql } from 'kysely';
import type { AnyKysely } from '../dialect.js';
import { escapeLike } from '../dialect.js';
import type { TableNames } from '../migrations.js';
import { codePoints, coveredColumns, INDEXED_SEARCH_COLUMNS, type KeywordSearch } from './keyword-search.js';

/** Shortest term the trigram index can answer; FTS5 matches nothing for shorter ones. */
export const MIN_TRIGRAM_TERM = 3;

/** Names of the FTS5 table and its sync triggers for one events table. */
export function sqliteSearchNames(tables: Pick<TableNames, 'events'>) {
  const fts = `${tables.events}_fts`;
  return { fts, insert: `${fts}_ai`, delete: `${fts}_ad`, update: `${fts}_au` };
}

const q = (name: string) => `"${name.replace(/"/g, '""')}"`;

/**
 * SQLite keyword search on an FTS5 table with the trigram tokenizer, kept in sync with the events
 * table by triggers (so every write path, the store's own prepared insert included, maintains it).
 *
 * The FTS table is external-content (it stores only the index, never a second copy of the text)
 * with `detail=none`: the smallest index, which keeps the cost on ingest down. A query asks for the
 * rows holding every trigram of the term ({@link trigramQuery}), and the engine's own LIKE is kept
 * on top of that match, so the answer is exactly the LIKE's: ASCII-only case folding, as before, although the
 * trigram tokenizer folds all of Unicode (its candidates are a superset). Terms shorter than three
 * characters have no trigram and fall back to the LIKE alone, a scan bounded by the other filters.
 *
 * Made once per store: it learns the FTS table's name when the migration has verified the table,
 * and until then answers with the plain LIKE. Unless `enabled` is true the migration drops the table
 * and its triggers, and every search is the plain LIKE.
 */
export function sqliteTrigramSearch(options: { enabled?: boolean } = {}): KeywordSearch {
  let fts: string | undefined;
  return {
    async ensure(db, tables) {
      const names = sqliteSearchNames(tables);
      if (options.enabled !== true) {
        // Turned off: the triggers would keep paying for an index nothing reads.
        for (const trigger of [names.insert, names.delete, names.update]) await sql.raw(`drop trigger if exists ${q(trigger)}`).execute(db);
        await sql.raw(`drop table if exists ${q(names.fts)}`).execute(db);
        return;
      }
      const found = await sql<{ name: string }>`
        select name from sqlite_master where name in (${names.fts}, ${names.insert}, ${names.delete}, ${names.update})`.execute(db);
      const present = new Set(found.rows.map((r) => r.name));
      const complete = [names.fts, names.insert, names.delete, names.update].every((n) => present.has(n));
      if (!complete) await build(db, tables, present.has(names.fts));
      fts = names.fts;
    },

    condition(eb, columns, term) {
      if (fts === undefined || !coveredColumns(columns) || codePoints(term) < MIN_TRIGRAM_TERM) return undefined;
      const pattern = `%${escapeLike(term)}%`;
      const table = sql.table(fts);
      return eb.and([
        eb(eb.ref('id'), 'in', sql`(select rowid from ${table} where ${table} match ${trigramQuery(term)})`),
        eb.or(columns.map((column) => sql<boolean>`${sql.ref(column)} like ${pattern} escape '!'`)),
      ]);
    },

    candidates(columns, term, cap) {
      if (fts === undefined || !coveredColumns(columns) || codePoints(term) < MIN_TRIGRAM_TERM) return undefined;
      const table = sql.table(fts);
      // FTS5 walks the trigrams' doclists in rowid order and stops at the limit.
      return sql<{
        n: number;
      }>`select count(*) as n from (select rowid from ${table} where ${table} match ${trigramQuery(term)} limit ${cap})`;
    },
  };
}

/** Most trigrams put in one query: enough to narrow the candidates, the LIKE decides anyway. */
const MAX_QUERY_TRIGRAMS = 12;

/**
 * The FTS5 query "has every trigram of the term". With `detail=none` the index keeps no positions,
 * so it cannot check that the trigrams are adjacent: the rows it returns are candidates, and the
 * LIKE beside it decides. Each trigram is a quoted FTS5 string (every character literal, `"`
 * doubled). A long term contributes an evenly spread subset of its trigrams, always with its last.
 */
export function trigramQuery(term: string): string {
  const chars = Array.from(term);
  const all = new Set<string>();
  for (let i = 0; i + 3 <= chars.length; i++) all.add(chars.slice(i, i + 3).join(''));
  let trigrams = [...all];
  if (trigrams.length > MAX_QUERY_TRIGRAMS) {
    const step = (trigrams.length - 1) / (MAX_QUERY_TRIGRAMS - 1);
    trigrams = Array.from({ length: MAX_QUERY_TRIGRAMS }, (_, i) => trigrams[Math.round(i * step)] as string);
  }
  return trigrams.map((t) => `"${t.replace(/"/g, '""')}"`).join(' AND ');
}

/** Creates the FTS table and its triggers, and fills it from the rows already stored. */
async function build(db: AnyKysely, tables: TableNames, tableExists: boolean): Promise<void> {
  const names = sqliteSearchNames(tables);
  const fts = q(names.fts);
  const events = q(tables.events);
  const cols = INDEXED_SEARCH_COLUMNS.map(q).join(', ');
  const news = INDEXED_SEARCH_COLUMNS.map((c) => `new.${q(c)}`).join(', ');
  const olds = INDEXED_SEARCH_COLUMNS.map((c) => `old.${q(c)}`).join(', ');
  // A half-built index (the table without all its triggers) cannot be trusted: start again.
  for (const trigger of [names.insert, names.delete, names.update]) await sql.raw(`drop trigger if exists ${q(trigger)}`).execute(db);
  if (tableExists) await sql.raw(`drop table ${fts}`).execute(db);
  await sql
    .raw(
      `create virtual table ${fts} using fts5(${cols}, content=${sqlString(tables.events)}, content_rowid='id', ` +
        `detail=none, tokenize='trigram case_sensitive 0')`,
    )
    .execute(db);
  await sql
    .raw(
      `create trigger ${q(names.insert)} after insert on ${events} begin insert into ${fts}(rowid, ${cols}) values (new.id, ${news}); end`,
    )
    .execute(db);
  await sql
    .raw(
      `create trigger ${q(names.delete)} after delete on ${events} begin ` +
        `insert into ${fts}(${fts}, rowid, ${cols}) values ('delete', old.id, ${olds}); end`,
    )
    .execute(db);
  await sql
    .raw(
      `create trigger ${q(names.update)} after update of ${cols} on ${events} begin ` +
        `insert into ${fts}(${fts}, rowid, ${cols}) values ('delete', old.id, ${olds}); ` +
        `insert into ${fts}(rowid, ${cols}) values (new.id, ${news}); end`,
    )
    .execute(db);
  // Backfill: 'rebuild' reads every row of the content table into the index.
  await sql.raw(`insert into ${fts}(${fts}) values ('rebuild')`).execute(db);
}

function sqlString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}
