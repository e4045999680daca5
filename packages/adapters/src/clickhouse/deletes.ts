import type { ClickHouseClient } from '@clickhouse/client';
import type { Condition, DeleteQuery } from '@eventlog/core';
import { select } from './client.js';
import type { ClickhouseContext } from './context.js';
import { DAY_MS } from './ddl.js';
import { qualified, quoteNumber, quoteString } from './sql.js';
import { whereSql } from './where.js';

/**
 * The store's `delete`: whole day partitions inside a pure time range are dropped, the rest of a
 * batch is removed by a delete mutation on every shard that `delete` waits for.
 */
export function createDelete(context: ClickhouseContext, count: (where: readonly Condition[]) => Promise<number>) {
  const { client, storage, names, tables, options } = context;
  const mutationTimeoutMs = options.mutationTimeoutMs ?? 300_000;

  const waitForMutations = async (target: ClickHouseClient, db: string) => {
    const deadline = Date.now() + mutationTimeoutMs;
    let delay = 10;
    for (;;) {
      const [row] = await select<{ n: number }>(
        target,
        `SELECT count() AS n FROM system.mutations WHERE database = ${quoteString(db)} AND table = ${quoteString(names.eventsStorage)} AND is_done = 0`,
      );
      if (Number(row?.n ?? 0) === 0) return;
      if (Date.now() > deadline) {
        throw new Error(
          `A delete mutation on ${db}.${names.eventsStorage} did not finish within ${mutationTimeoutMs} ms; see system.mutations on the server.`,
        );
      }
      await sleep(delay);
      delay = Math.min(delay * 2, 500);
    }
  };

  const dropWholeDays = async (where: readonly Condition[]): Promise<number> => {
    const range = timeOnlyRange(where);
    if (!range) return 0;
    const db = await context.resolveDatabase();
    let dropped = 0;
    for (const target of storage) {
      const parts = await select<{ partition: string }>(
        target,
        `SELECT DISTINCT partition FROM system.parts WHERE database = ${quoteString(db)} AND table = ${quoteString(names.eventsStorage)} AND active`,
      );
      const days = parts
        .map((p) => Number(p.partition))
        .filter((d) => Number.isInteger(d) && d * DAY_MS >= range.from && (d + 1) * DAY_MS <= range.to);
      for (const day of days.sort((a, b) => a - b)) {
        const table = qualified(db, names.eventsStorage);
        const [row] = await select<{ n: number }>(
          target,
          `SELECT count() AS n FROM ${table} WHERE time >= ${quoteNumber(day * DAY_MS)} AND time < ${quoteNumber((day + 1) * DAY_MS)}`,
        );
        // Rows written into a day this old between the count and the drop go uncounted (but are dropped too).
        await target.command({ query: `ALTER TABLE ${table} DROP PARTITION ${quoteNumber(day)}` });
        dropped += Number(row?.n ?? 0);
      }
    }
    return dropped;
  };

  return async function deleteRows(query: DeleteQuery): Promise<number> {
    const { info } = await context.layout();
    const db = await context.resolveDatabase();
    const dropped = options.dropPartitions === false ? 0 : await dropWholeDays(query.where);
    const where = whereSql(query.where, info);
    // The last row of this batch in (time, id) order bounds the mutation, so it removes exactly
    // the batch (plus any matching row written meanwhile behind that bound).
    const [last] = await select<{ time: number; id: number }>(
      client,
      `SELECT time, id FROM ${tables.events} WHERE ${where} ORDER BY time, id LIMIT 1 OFFSET ${quoteNumber(query.limit - 1)}`,
    );
    let condition = where;
    let deleted: number;
    if (last) {
      const t = quoteNumber(Number(last.time));
      condition = `${where} AND (time < ${t} OR (time = ${t} AND id <= ${quoteNumber(Number(last.id))}))`;
      deleted = query.limit;
    } else {
      deleted = await count(query.where);
    }
    if (deleted > 0) {
      const table = qualified(db, names.eventsStorage);
      for (const target of storage) await target.command({ query: `ALTER TABLE ${table} DELETE WHERE ${condition}` });
      for (const target of storage) await waitForMutations(target, db);
    }
    return dropped + deleted;
  };
}

/** The bounds of a condition list made only of ranges on `time`, as `[from, to)`; otherwise null. */
function timeOnlyRange(where: readonly Condition[]): { from: number; to: number } | null {
  let from = Number.NEGATIVE_INFINITY;
  let to = Number.POSITIVE_INFINITY;
  for (const c of where) {
    if (c.op !== 'range' || c.column !== 'time') return null;
    if (c.gte !== undefined) from = Math.max(from, c.gte);
    if (c.gt !== undefined) from = Math.max(from, Math.floor(c.gt) + 1);
    if (c.lt !== undefined) to = Math.min(to, c.lt);
    if (c.lte !== undefined) to = Math.min(to, Math.floor(c.lte) + 1);
  }
  return Number.isFinite(to) ? { from, to } : null;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
