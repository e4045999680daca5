/**
 * Encodes rows as `JSONEachRow` text for a fixed column list, taking the `id` column from a
 * separate array. On 100 k event rows this is several times faster than `JSON.stringify` on one
 * object per row (what the client does for JSON formats), and encoding is most of an insert's cost
 * on the Node side.
 */
export function createRowEncoder(columns: readonly string[]): (rows: readonly Record<string, unknown>[], ids: readonly number[]) => string {
  if (columns.length === 0) throw new TypeError('A row encoder needs at least one column.');
  const keys = columns.map((c, i) => `${i === 0 ? '{' : ','}${JSON.stringify(c)}:`);
  const idIndex = columns.indexOf('id');
  return (rows, ids) => {
    let out = '';
    for (let r = 0; r < rows.length; r++) {
      const row = rows[r]!;
      for (let i = 0; i < columns.length; i++) {
        const value = i === idIndex ? ids[r] : row[columns[i]!];
        out += keys[i]!;
        if (value === null || value === undefined) out += 'null';
        else if (typeof value === 'number') {
          if (!Number.isFinite(value)) throw new TypeError(`Column "${columns[i]}" holds ${value}, which ClickHouse cannot store.`);
          out += String(value);
        } else out += JSON.stringify(String(value));
      }
      out += '}\n';
    }
    return out;
  };
}
