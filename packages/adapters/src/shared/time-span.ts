/** The lowest and highest `time` of some rows (numbers or numeric strings, as drivers return them). */
export function timeSpan(rows: readonly { readonly time?: unknown }[]): { low: number; high: number } {
  let low = Number.POSITIVE_INFINITY;
  let high = Number.NEGATIVE_INFINITY;
  for (const row of rows) {
    const t = Number(row.time);
    if (t < low) low = t;
    if (t > high) high = t;
  }
  return { low, high };
}
