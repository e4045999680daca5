/** Builds one row object from a flat array of values, starting at `offset`. */
export type RowBuilder = (values: readonly unknown[], offset: number) => Record<string, unknown>;

/**
 * Builds row objects of a fixed column list through a generated constructor, so that every row
 * gets its final shape in one allocation instead of reallocating its property store once per
 * assigned column (measured in docs/benchmarks.md, keyset page). Column names are embedded as JSON
 * string literals, never as code. The rows are plain objects (their prototype is `Object.prototype`).
 * The values come either from one raw row (`offset` 0) or from a page flattened by a reader worker.
 */
export function rowBuilder(columns: readonly string[]): RowBuilder {
  const body = columns.map((column, i) => `this[${JSON.stringify(column)}] = values[offset + ${i}];`).join('\n');
  const Row = new Function('values', 'offset', body) as unknown as new (
    values: readonly unknown[],
    offset: number,
  ) => Record<string, unknown>;
  Row.prototype = Object.prototype;
  return (values, offset) => new Row(values, offset);
}
