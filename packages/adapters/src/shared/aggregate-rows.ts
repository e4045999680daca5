import type { AggregateRow } from '@eventlog/core';

/**
 * The rows of an aggregate query as the contract returns them, for every SQL engine: the query
 * selects the count as `n`, the sum of `sum[i]` as `s<i>` and the group key as `k`; counts and sums
 * become JS numbers (drivers hand some back as strings), and the key a number when it is numeric.
 */
export function toAggregateRows(
  rows: readonly Record<string, unknown>[],
  sum: readonly string[],
  grouped: boolean,
  numericKey: boolean,
): AggregateRow[] {
  return rows.map((row) => {
    const sums: Record<string, number> = {};
    sum.forEach((m, i) => {
      sums[m] = Number(row[`s${i}`] ?? 0);
    });
    const base = { count: Number(row.n ?? 0), sums };
    if (!grouped) return base;
    const k = row.k;
    return { ...base, key: k === null || k === undefined ? null : numericKey ? Number(k) : String(k) };
  });
}
