import type { Condition } from '@eventlog/core';
import { type Expression, type ExpressionBuilder, type SqlBool, sql } from 'kysely';
import { type DialectFlags, escapeLike, type SqlDialect } from './dialect.js';

// biome-ignore lint/suspicious/noExplicitAny: run-time table layout.
type Eb = ExpressionBuilder<any, any>;

/**
 * Turns normalised conditions into one Kysely boolean expression (AND of all). A keyword search
 * goes through the dialect's index (`keywordSearch`) when it can answer it, else through the plain
 * `containsInsensitive` LIKE.
 */
export function whereOf(
  eb: Eb,
  conditions: readonly Condition[],
  dialect: Pick<SqlDialect, 'containsInsensitive' | 'keywordSearch'>,
): Expression<SqlBool> {
  const parts: Expression<SqlBool>[] = [];
  for (const c of conditions) {
    switch (c.op) {
      case 'in':
        parts.push(
          c.values.length === 1 ? eb(eb.ref(c.column), '=', c.values[0]) : eb(eb.ref(c.column), 'in', c.values as (string | number)[]),
        );
        break;
      case 'notNull':
        parts.push(eb(eb.ref(c.column), 'is not', null));
        break;
      case 'range':
        if (c.gte !== undefined) parts.push(eb(eb.ref(c.column), '>=', c.gte));
        if (c.gt !== undefined) parts.push(eb(eb.ref(c.column), '>', c.gt));
        if (c.lte !== undefined) parts.push(eb(eb.ref(c.column), '<=', c.lte));
        if (c.lt !== undefined) parts.push(eb(eb.ref(c.column), '<', c.lt));
        break;
      case 'search': {
        const indexed = dialect.keywordSearch?.condition(eb, c.columns, c.term);
        if (indexed) {
          parts.push(indexed);
          break;
        }
        const pattern = `%${escapeLike(c.term)}%`;
        parts.push(eb.or(c.columns.map((column) => dialect.containsInsensitive(column, pattern))));
        break;
      }
      case 'not':
        // IS NOT TRUE, not NOT: a NULL column makes the inner condition unknown, and the contract counts that as not holding.
        parts.push(sql<SqlBool>`(${whereOf(eb, c.conditions, dialect)}) is not true`);
        break;
    }
  }
  return eb.and(parts);
}

/** The keyset condition for rows strictly after `(value, id)` in the given order. */
export function afterOf(
  eb: Eb,
  column: string,
  direction: 'asc' | 'desc',
  after: { value: number; id: number },
  dialect: Pick<DialectFlags, 'rowValueKeyset'>,
): Expression<SqlBool> {
  const strict = direction === 'desc' ? '<' : '>';
  const loose = direction === 'desc' ? '<=' : '>=';
  if (column === 'id') return eb(eb.ref('id'), strict, after.id);
  // PostgreSQL turns a row comparison into one index condition and keeps the ordered index scan
  // even without table statistics, where the OR form may fall back to scanning far more rows.
  if (dialect.rowValueKeyset) return eb(eb.refTuple(column, 'id'), strict, eb.tuple(after.value, after.id));
  // The redundant outer bound lets every engine use the (…, time, id) index as a range.
  return eb.and([
    eb(eb.ref(column), loose, after.value),
    eb.or([eb(eb.ref(column), strict, after.value), eb(eb.ref('id'), strict, after.id)]),
  ]);
}
