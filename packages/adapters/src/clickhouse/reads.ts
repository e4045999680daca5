import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { AggregateQuery, AggregateRow, Condition, FindQuery, StoredRow, StoreReadOptions, StreamQuery } from '@eventlog/core';
import { toAggregateRows } from '../shared/aggregate-rows.js';
import { timeSpan } from '../shared/time-span.js';
import { killQuery, READ_SETTINGS, releaseResponse, select } from './client.js';
import type { ClickhouseContext } from './context.js';
import { quoteIdentifier, quoteNumber } from './sql.js';
import { afterSql, whereSql } from './where.js';

/** The store's reads: `find`, `count`, `aggregate` and the export's `stream`; each cancelled by its `signal`. */
export function createReads(context: ClickhouseContext) {
  const { client, tables } = context;

  async function find(query: FindQuery): Promise<StoredRow[]> {
    const { columns, info } = await context.layout();
    const { column, direction } = query.orderBy;
    const conditions = [whereSql(query.where, info)];
    if (query.after) conditions.push(afterSql(column, direction, query.after));
    const order = orderSql(query.orderBy);
    // Two steps. ClickHouse (18.16 at least) reads every selected column of every matching row
    // before it sorts for the LIMIT, so the page's keys come first from the sort columns alone;
    // then only those rows are read, bounded by their time range (partitions and the primary key
    // prune the rest).
    const keyColumns = column === 'id' ? ['id'] : ['id', column];
    const keysSql =
      `SELECT ${keyColumns.map(quoteIdentifier).join(', ')} FROM ${tables.events} WHERE ${conditions.join(' AND ')} ` +
      `ORDER BY ${order} LIMIT ${quoteNumber(query.limit)}${query.offset ? ` OFFSET ${quoteNumber(query.offset)}` : ''}`;
    const keys = await select<Record<string, unknown>>(client, keysSql, query.signal);
    if (keys.length === 0) return [];
    const ids = keys.map((k) => Number(k.id));
    const bounds = [...conditions];
    if (column === 'time') {
      const { low, high } = timeSpan(keys);
      bounds.push(`time >= ${quoteNumber(low)} AND time <= ${quoteNumber(high)}`);
    }
    bounds.push(`id IN (${ids.map(quoteNumber).join(', ')})`);
    const selected = selectedColumns(columns, query);
    const rows = await select<Record<string, unknown>>(
      client,
      `SELECT ${selected.map(quoteIdentifier).join(', ')} FROM ${tables.events} WHERE ${bounds.join(' AND ')}`,
      query.signal,
    );
    const byId = new Map(rows.map((row) => [Number(row.id), row]));
    const page: StoredRow[] = [];
    for (const id of ids) {
      const row = byId.get(id);
      if (row) page.push(context.normalize(row, info));
    }
    return page;
  }

  async function count(where: readonly Condition[], options?: StoreReadOptions): Promise<number> {
    const { info } = await context.layout();
    const [row] = await select<{ n: number }>(
      client,
      `SELECT count() AS n FROM ${tables.events} WHERE ${whereSql(where, info)}`,
      options?.signal,
    );
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
    const rows = await select<Record<string, unknown>>(client, sql, query.signal);
    const numericKey = groupBy !== undefined && ('timeStepMs' in groupBy || info.numeric.has(groupBy.column));
    return toAggregateRows(rows, query.sum, key !== undefined, numericKey);
  }

  /**
   * The rows of one query, read from the HTTP response as it arrives (`JSONEachRow` lines) and
   * handed out `batchSize` at a time; the response is only read while the consumer pulls, so a slow
   * consumer holds the server back (TCP back-pressure) instead of buffering the export.
   */
  async function* stream(query: StreamQuery): AsyncGenerator<StoredRow[]> {
    const { columns, info } = await context.layout();
    const selected = selectedColumns(columns, query);
    const limit = query.limit === undefined ? '' : ` LIMIT ${quoteNumber(query.limit)}`;
    const sql =
      `SELECT ${selected.map(quoteIdentifier).join(', ')} FROM ${tables.events} WHERE ${whereSql(query.where, info)} ` +
      `ORDER BY ${orderSql(query.orderBy)}${limit} FORMAT JSONEachRow`;
    query.signal?.throwIfAborted();
    // Stopped by the caller's signal, or by this generator when the consumer stops early. Before the
    // response begins, the request is aborted (ClickHouse still computes, e.g. sorts, and does not
    // notice: the kill stops it). Once it streams, aborting the request no longer closes anything
    // (the client only listens for the abort until the response begins), so the query is killed by
    // id and the rest of the response is read to its end, see `releaseResponse`.
    const abort = new AbortController();
    const query_id = randomUUID();
    let body: Readable | undefined;
    const stop = () => {
      if (abort.signal.aborted) return;
      // Before the response, the client's listener destroys the request's socket first, so the kill
      // does not queue behind it in the pool.
      abort.abort();
      killQuery(client, query_id, { started: body !== undefined });
    };
    query.signal?.addEventListener('abort', stop, { once: true });
    let finished = false;
    try {
      body = (await client.exec({ query: sql, clickhouse_settings: READ_SETTINGS, abort_signal: abort.signal, query_id })).stream;
      body.setEncoding('utf8');
      let batch: StoredRow[] = [];
      let rest = '';
      // Not destroyed when the loop is left early: the finally block releases it.
      for await (const text of body.iterator({ destroyOnReturn: false }) as AsyncIterable<string>) {
        if (abort.signal.aborted) throw query.signal?.reason ?? new Error('The stream was stopped.');
        let from = 0;
        for (let end = text.indexOf('\n'); end >= 0; end = text.indexOf('\n', from)) {
          // The first line of a piece continues the previous piece's tail.
          const line = rest + text.slice(from, end);
          rest = '';
          from = end + 1;
          if (line) batch.push(context.normalize(parseRow(line), info));
          if (batch.length >= query.batchSize) {
            yield batch;
            batch = [];
          }
        }
        rest += text.slice(from);
      }
      if (rest.trim()) batch.push(context.normalize(parseRow(rest), info));
      if (batch.length) yield batch;
      finished = true;
    } finally {
      query.signal?.removeEventListener('abort', stop);
      if (!finished) {
        stop();
        if (body) releaseResponse(client, body);
      }
    }
  }

  return { find, count, aggregate, stream };
}

/**
 * One `JSONEachRow` line. A server that fails after the response began (a killed query, a memory
 * limit) appends its error as text, `Code: 394, e.displayText() = …`: that is thrown as the error.
 */
function parseRow(line: string): Record<string, unknown> {
  if (line.startsWith('Code: ')) throw new Error(line);
  return JSON.parse(line) as Record<string, unknown>;
}

/** `ORDER BY` of a find or stream; NULLs sort as the smallest value, as in SQLite and MySQL. */
function orderSql({ column, direction }: FindQuery['orderBy']): string {
  const dir = direction === 'desc' ? 'DESC' : 'ASC';
  return column === 'id'
    ? `id ${dir}`
    : `${quoteIdentifier(column)} ${dir} ${direction === 'desc' ? 'NULLS LAST' : 'NULLS FIRST'}, id ${dir}`;
}

/** A column store reads only what is selected: exports ask for their columns (plus `id` and the order column). */
function selectedColumns(columns: readonly string[], query: Pick<FindQuery, 'columns' | 'orderBy'>): readonly string[] {
  const wanted = query.columns;
  return wanted ? columns.filter((c) => c === 'id' || c === query.orderBy.column || wanted.includes(c)) : columns;
}
