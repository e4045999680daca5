import type { Condition, FindQuery, StoredRow } from '@eventlog/core';

/**
 * The reads a keyword-search page is planned over; the store binds them to its engine. Every one
 * of them sees the same rows (one store, one table), so the windows below partition one ordered
 * sequence.
 */
export interface SearchPageReads {
  /**
   * The rows of `query`. With `index` the search conditions go through the keyword index (as a
   * page always did); without it each row's text is tested with the engine's LIKE, so the engine
   * can walk the order column's index and stop at the page.
   */
  rows(query: FindQuery, index: boolean): Promise<StoredRow[]>;
  /** How many rows hold every condition of `where`, tested with LIKE (no keyword index). */
  count(where: readonly Condition[], signal?: AbortSignal): Promise<number>;
  /**
   * The order column's value of the `n`-th row (1-based) in the page's order among all rows of the
   * table that come after `start` and hold `bounds` (range conditions on the order column only):
   * an index-only walk of `n` entries. `undefined` when fewer rows are left.
   */
  boundary(
    orderBy: FindQuery['orderBy'],
    start: { after?: FindQuery['after']; bounds: readonly Condition[] },
    n: number,
    signal?: AbortSignal,
  ): Promise<number | undefined>;
  /** How many rows the keyword index finds for the term, counted up to `cap`; `undefined` when the index cannot answer the term. */
  candidates(columns: readonly string[], term: string, cap: number, signal?: AbortSignal): Promise<number | undefined>;
}

/** How a search page is planned; the defaults are {@link SEARCH_PAGE_PLAN}. */
export interface SearchPagePlan {
  /** Index candidates counted at most: the probe's cost is bounded by it. */
  readonly candidateCap: number;
  /** Rows (of the whole table, in the page's order) in the first window walked. */
  readonly firstWindow: number;
  /** The next window is the rows the matches seen so far say the page needs, times this. */
  readonly margin: number;
  /** Rows walked at most per index candidate counted, before the rest of the page comes from the index. */
  readonly walkPerCandidate: number;
}

/**
 * Measured on SQLite at 1 M events (docs/benchmarks.md, "Keyword search pages (session 7)"): a row
 * walked in time order and tested with LIKE costs a third to a sixth of a candidate read through the
 * FTS5 index (fetched by id, tested, sorted), so walking up to 5 rows per candidate costs at most
 * about what the index would; counting 20,000 candidates takes a few milliseconds.
 */
export const SEARCH_PAGE_PLAN: SearchPagePlan = { candidateCap: 20_000, firstWindow: 4096, margin: 1.25, walkPerCandidate: 5 };

/**
 * Reads one page of a query holding a keyword search so that its cost follows the page, not the
 * number of matching rows. The keyword index finds every row holding the term, but the page needs
 * them in time order, so a common term made the engine read all its matches to keep the newest 50.
 *
 * Plan: count the index's candidates, stopping at a cap (cheap). Few candidates: the index answers,
 * as before (it reads only those). Many: walk the order column's index newest first (in the page's
 * order) in windows, each bounded by the order column's value of its last row, testing each row's
 * text with LIKE, and stop as soon as the page is full. The first window has a fixed size; the
 * next one as many rows as the matches seen so far say the page still needs. The walk gives up
 * when that would take it past a number of rows proportional to the candidates counted (walking a
 * row costs a fraction of reading a candidate), or when a window held no match at all: the rest of
 * the page then comes from the index, restricted to the rows beyond the last window.
 *
 * The windows and the rest split the rows by the order column's value (ties stay in one window),
 * so together they are exactly the rows the query covers, in its order: the page, its offset and
 * its keyset position give the same rows as the single statement did. Only `time` and `id` orders
 * are planned (the columns with an index of their own); others, and terms the index cannot answer,
 * read as before.
 */
export async function findSearchPage(
  query: FindQuery,
  reads: SearchPageReads,
  plan: SearchPagePlan = SEARCH_PAGE_PLAN,
): Promise<StoredRow[]> {
  const { column, direction } = query.orderBy;
  const search = query.where.find((c) => c.op === 'search');
  if (!search || (column !== 'time' && column !== 'id') || query.limit <= 0) return reads.rows(query, true);
  const candidates = await reads.candidates(search.columns, search.term, plan.candidateCap, query.signal);
  if (candidates === undefined) return reads.rows(query, true);
  const budget = candidates * plan.walkPerCandidate;
  if (budget < plan.firstWindow) return reads.rows(query, true);

  // The query's own bounds on the order column keep the windows inside its range.
  const bounds = query.where.filter((c) => c.op === 'range' && c.column === column);
  const desc = direction === 'desc';
  const out: StoredRow[] = [];
  let need = query.limit;
  let skip = query.offset ?? 0;
  /** Rows of the table walked so far, and the matches they held (skipped ones included). */
  let walked = 0;
  let seen = 0;
  let size = plan.firstWindow;
  /** The last window's edge: rows beyond it (strictly) are still to be read. */
  let edge: number | undefined;
  const beyond = (value: number): Condition => ({ op: 'range', column, ...(desc ? { lt: value } : { gt: value }) });

  while (walked + size <= budget) {
    const start = [...bounds, ...(edge === undefined ? [] : [beyond(edge)])];
    const last = await reads.boundary(query.orderBy, { ...(query.after ? { after: query.after } : {}), bounds: start }, size, query.signal);
    // No `last`: fewer than `size` rows are left, so this window is all of them.
    const window: Condition[] = last === undefined ? start : [...start, { op: 'range', column, ...(desc ? { gte: last } : { lte: last }) }];
    const where = [...query.where, ...window];
    const rows = await reads.rows(part(query, where, need, skip), false);
    for (const row of rows) out.push(row);
    if (rows.length === need || last === undefined) return out;
    need -= rows.length;
    seen += rows.length;
    if (skip > 0) {
      // Rows came back: the window held exactly `skip` more matches before them. None: count them.
      const skipped = rows.length > 0 ? skip : await reads.count(where, query.signal);
      seen += skipped;
      skip -= skipped;
    }
    walked += size;
    edge = last;
    // The next window: as many rows as the matches seen so far say the page needs, with a margin.
    // None seen (the term is common elsewhere, or the other filters exclude its rows): the index.
    if (seen === 0) break;
    size = Math.max(plan.firstWindow, Math.ceil((((need + skip) * walked) / seen) * plan.margin));
  }
  const rest = await reads.rows(part(query, [...query.where, ...(edge === undefined ? [] : [beyond(edge)])], need, skip), true);
  for (const row of rest) out.push(row);
  return out;
}

/** `query` narrowed to `where`, reading `limit` rows after skipping `skip`. */
function part(query: FindQuery, where: readonly Condition[], limit: number, skip: number): FindQuery {
  const { offset: _, ...rest } = query;
  return { ...rest, where, limit, ...(skip > 0 ? { offset: skip } : {}) };
}
