import type { Condition } from '@eventlog/core';
import { escapeLike, quoteIdentifier, quoteNumber, quoteString } from './sql.js';

/** How the where-builder treats one table's columns. */
export interface ColumnInfo {
  /** Columns holding numbers; `in` values on them are sent as numbers, on others as strings. */
  readonly numeric: ReadonlySet<string>;
  /**
   * Columns that appear in the sorting key only wrapped in an expression (e.g. `tenant_id` as
   * `ifNull(tenant_id, '')`, since a sorting key cannot hold a Nullable column): equality on them is
   * written against that expression so ClickHouse can use the primary index.
   */
  readonly keyExpressions?: Readonly<Record<string, string>>;
}

/** The normalised conditions as one SQL boolean expression (AND of all; `1` when there are none). */
export function whereSql(conditions: readonly Condition[], columns: ColumnInfo): string {
  const parts: string[] = [];
  for (const c of conditions) {
    switch (c.op) {
      case 'in': {
        const column = quoteIdentifier(c.column);
        const numeric = columns.numeric.has(c.column);
        const values = c.values.map((v) => literalFor(v, numeric));
        const key = columns.keyExpressions?.[c.column];
        // `ifNull(col, '') IN (…)` equals `col IN (…)` unless '' is one of the values.
        const target = key && !c.values.some((v) => v === '') ? key : column;
        parts.push(values.length === 1 ? `${target} = ${values[0]}` : `${target} IN (${values.join(', ')})`);
        break;
      }
      case 'notNull':
        parts.push(`isNotNull(${quoteIdentifier(c.column)})`);
        break;
      case 'range': {
        const column = quoteIdentifier(c.column);
        if (c.gte !== undefined) parts.push(`${column} >= ${quoteNumber(c.gte)}`);
        if (c.gt !== undefined) parts.push(`${column} > ${quoteNumber(c.gt)}`);
        if (c.lte !== undefined) parts.push(`${column} <= ${quoteNumber(c.lte)}`);
        if (c.lt !== undefined) parts.push(`${column} < ${quoteNumber(c.lt)}`);
        break;
      }
      case 'search': {
        // ILIKE is missing on 18.16: lower both sides with the same UTF-8 function instead.
        const pattern = quoteString(`%${escapeLike(c.term)}%`);
        const any = c.columns.map((name) => `lowerUTF8(${quoteIdentifier(name)}) LIKE lowerUTF8(${pattern})`);
        parts.push(any.length === 1 ? any[0]! : `(${any.join(' OR ')})`);
        break;
      }
      case 'not':
        // 18.16 has no IS NOT TRUE: a NULL (unknown) inner result counts as not holding.
        parts.push(`NOT ifNull((${whereSql(c.conditions, columns)}), 0)`);
        break;
    }
  }
  return parts.length === 0 ? '1' : parts.join(' AND ');
}

/** Rows strictly after `(value, id)` in the given order of `column`, ties broken by `id`. */
export function afterSql(column: string, direction: 'asc' | 'desc', after: { value: number; id: number }): string {
  const strict = direction === 'desc' ? '<' : '>';
  const loose = direction === 'desc' ? '<=' : '>=';
  const id = quoteNumber(after.id);
  if (column === 'id') return `id ${strict} ${id}`;
  const ref = quoteIdentifier(column);
  const value = quoteNumber(after.value);
  // The redundant outer bound keeps the condition a range on the sort column for index analysis.
  return `${ref} ${loose} ${value} AND (${ref} ${strict} ${value} OR id ${strict} ${id})`;
}

function literalFor(value: string | number, numeric: boolean): string {
  if (!numeric) return quoteString(String(value));
  const n = typeof value === 'number' ? value : Number(value);
  // A non-numeric value can never equal a number column: an impossible literal keeps the IN list valid.
  return Number.isFinite(n) ? quoteNumber(n) : 'NULL';
}
