import type { Expression, ExpressionBuilder, RawBuilder, SqlBool } from 'kysely';
import type { AnyKysely } from '../dialect.js';
import type { TableNames } from '../migrations.js';

// biome-ignore lint/suspicious/noExplicitAny: run-time table layout.
type Eb = ExpressionBuilder<any, any>;

/**
 * The columns the keyword index covers: the core's `SEARCH_COLUMNS`. Kept here as data rather
 * than imported so that a change in the core shows up as a fallback to the plain scan, never as
 * wrong answers (a search over other columns never uses the index).
 */
export const INDEXED_SEARCH_COLUMNS: readonly string[] = ['message', 'type', 'action'];

/**
 * An engine's index-backed keyword search. The semantics MUST stay those of
 * `containsInsensitive` on the same engine (case-insensitive substring, `%` and `_` literal): an
 * index narrows the rows to check, the engine's own LIKE still decides.
 */
export interface KeywordSearch {
  /**
   * Makes sure the index exists and is complete, building and backfilling it from the rows
   * already stored when it is missing. Runs on every migration, inside the migration lock.
   */
  ensure(db: AnyKysely, tables: TableNames): Promise<void>;
  /**
   * The condition "one of `columns` contains `term`", or `undefined` when the index cannot answer
   * it (not migrated yet, other columns, a term too short for the index): the caller then writes
   * the plain LIKE.
   */
  condition(eb: Eb, columns: readonly string[], term: string): Expression<SqlBool> | undefined;
  /**
   * A statement counting the rows the index finds for `term` in `columns` (one row, column `n`),
   * reading at most `cap` of them, so its cost is bounded whatever the term. `undefined` when the
   * index cannot answer the term, or cannot count its rows without reading them all: pages are
   * then read with {@link KeywordSearch.condition} alone (`search-pages.ts`).
   */
  candidates?(columns: readonly string[], term: string, cap: number): RawBuilder<{ n: number | string }> | undefined;
}

/** Whether every column of a search is covered by the index. */
export function coveredColumns(columns: readonly string[]): boolean {
  return columns.length > 0 && columns.every((c) => INDEXED_SEARCH_COLUMNS.includes(c));
}

/** Length in code points, the unit trigram tokenizers count in. */
export function codePoints(term: string): number {
  let n = 0;
  for (const _ of term) n++;
  return n;
}
