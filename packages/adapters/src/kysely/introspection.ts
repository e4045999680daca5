/**
 * Groups catalog rows (one per index column, in index order) into index name → columns. A column
 * the catalog cannot name (an expression, an invalid index) is `''`, which matches no spec, so the
 * migration rebuilds that index.
 */
export function indexColumns(rows: readonly { index_name: string; column_name: string | null }[]): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const row of rows) {
    const list = map.get(row.index_name) ?? [];
    list.push(row.column_name ?? '');
    map.set(row.index_name, list);
  }
  return map;
}
