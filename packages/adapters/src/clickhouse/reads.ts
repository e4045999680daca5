import type { AggregateQuery, AggregateRow, Condition, FindQuery, StoredRow } from '@eventlog/core';
import { select } from './client.js';
import type { ClickhouseContext } from './context.js';
import { quoteIdentifier, quoteNumber } from './sql.js';
import { afterSql, whereSql } from './where.js';

/** The store's reads: `find`, `count` and `aggregate`. */
export function createReads(context: ClickhouseContext) {
  const { client, tables } = context;

  async function find(query: FindQuery): Promise<StoredRow[]> {
    const { columns, info } = await context.layout();
    const { column, direction } = query.orderBy;
    const dir = direction === 'desc' ? 'DESC' : 'ASC';
    const conditions = [whereSql(query.where, info)];
    if (query.after) conditions.push(afterSql(column, direction, query.after));
    // NULLs sort as the smallest value, as in SQLite and MySQL.
    const order =
      column === 'id' ? `id ${dir}` : `${quoteIdentifier(column)} ${dir} ${direction === 'desc' ? 'NULLS LAST' : 'NULLS FIRST'}, id ${dir}`;
    // Two steps. ClickHouse (18.16 at least) reads every selected column of every matching row
    // before it sorts for the LIMIT, so the page's keys come first from the sort columns alone;
    // then only those rows are read, bounded by their time range (partitions and the primary key
    // prune the rest).
    const keyColumns = column === 'id' ? ['id'] : ['id', column];
    const keysSql =
      `SELECT ${keyColumns.map(quoteIdentifier).join(', ')} FROM ${tables.events} WHERE ${conditions.join(' AND ')} ` +
      `ORDER BY ${order} LIMIT ${quoteNumber(query.limit)}${query.offset ? ` OFFSET ${quoteNumber(query.offset)}` : ''}`;
    const keys = await select<Record<string, unknown>>(client, keysSql);
    if (keys.length === 0) return [];
    const ids = keys.map((k) => Number(k.id));
    const bounds = [...conditions];
    if (column === 'time') {
      let low = Number.POSITIVE_INFINITY;
      let high = Number.NEGATIVE_INFINITY;
      for (const k of keys) {
        const t = Number(k.time);
        if (t < low) low = t;
        if (t > high) high = t;
      }
      bounds.push(`time >= ${quoteNumber(low)} AND time <= ${quoteNumber(high)}`);
    }
    bounds.push(`id IN (${ids.map(quoteNumber).join(', ')})`);
    // A column store reads only what is selected: exports ask for their columns.
    const selected = query.columns ? columns.filter((c) => c === 'id' || c === column || query.columns?.includes(c)) : columns;
    const rows = await select<Record<string, unknown>>(
      client,
      `SELECT ${selected.map(quoteIdentifier).join(', ')} FROM ${tables.events} WHERE ${bounds.join(' AND ')}`,
    );
    const byId = new Map(rows.map((row) => [Number(row.id), row]));
    const page: StoredRow[] = [];
    for (const id of ids) {
      const row = byId.get(id);
      if (row) page.push(context.normalize(row, info));
    }
    return page;
  }

  async function count(where: readonly Condition[]): Promise<number> {
    const { info } = await context.layout();
    const [row] = await select<{ n: number }>(client, `SELECT count() AS n FROM ${tables.events} WHERE ${whereSql(where, info)}`);
    return Number(row?.n ?? 0);
  }

  async function aggregate(query: AggregateQuery): Promise<AggregateRow[]> {
    const { info } = await context.layout();
    const groupBy = query.groupBy;
    let key: string | undefined;
    if (groupBy && 'column' in groupBy) key = quoteIdentifier(groupBy.column);
    else if (groupBy) {
      const step = groupBy.timeStepMs;
      if (!Number.isSafeInteger(step) || step < 1) throw new TypeError(`timeStepMs must be a positive whole number, got ${step}.`);
      // Times are never negative (the core validates them), so integer division is the floor.
      key = `intDiv(time, ${quoteNumber(step)}) * ${quoteNumber(step)}`;
    }
    const list = [
      'count() AS n',
      ...query.sum.map((m, i) => `ifNull(sum(${quoteIdentifier(m)}), 0) AS s${i}`),
      ...(key ? [`${key} AS k`] : []),
    ];
    let sql = `SELECT ${list.join(', ')} FROM ${tables.events} WHERE ${whereSql(query.where, info)}`;
    if (key) sql += ' GROUP BY k';
    if (query.orderBy) {
      const index = query.sum.indexOf(query.orderBy.by);
      const by = query.orderBy.by === 'count' || index === -1 ? 'n' : `s${index}`;
      sql += ` ORDER BY ${by} ${query.orderBy.direction === 'desc' ? 'DESC' : 'ASC'}${key ? ', k ASC NULLS FIRST' : ''}`;
    }
    if (query.limit !== undefined) sql += ` LIMIT ${quoteNumber(query.limit)}`;
    const rows = await select<Record<string, unknown>>(client, sql);
    const numericKey = groupBy !== undefined && ('timeStepMs' in groupBy || info.numeric.has(groupBy.column));
    return rows.map((row) => {
      const sums: Record<string, number> = {};
      query.sum.forEach((m, i) => {
        sums[m] = Number(row[`s${i}`] ?? 0);
      });
      const base = { count: Number(row.n ?? 0), sums };
      if (!key) return base;
      const k = row.k;
      return { ...base, key: k === null || k === undefined ? null : numericKey ? Number(k) : String(k) };
    });
  }

  return { find, count, aggregate };
}
