import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { EventRow } from '@eventlog/core';
import { DISTRIBUTED_INSERT } from './client.js';
import type { ClickhouseContext } from './context.js';

/**
 * The store's `insert`: ids generated in the process, rows pre-encoded as one `JSONEachRow` body.
 */
export function createInsert(context: ClickhouseContext): (rows: readonly EventRow[]) => Promise<number[]> {
  const { client, cluster, tables, ids } = context;
  // Ids handed to a rows array, so a retry of the same array (the write buffer retries transient
  // failures with the same array) re-sends an identical block: replicated tables drop it as a
  // duplicate, and elsewhere the duplicate at least carries the same id.
  const assignedTo = new WeakMap<readonly EventRow[], number[]>();
  return async (rows) => {
    if (rows.length === 0) return [];
    const { encode } = await context.layout();
    let assigned = assignedTo.get(rows);
    if (assigned?.length !== rows.length) {
      assigned = ids.next(rows.length);
      assignedTo.set(rows, assigned);
    }
    // Pre-encoded text through exec: the client's own JSON path stringifies one object per row.
    const body = Readable.from([encode(rows, assigned)], { objectMode: false });
    const result = await client.exec({
      query: `INSERT INTO ${tables.events} FORMAT JSONEachRow`,
      values: body,
      ...(cluster ? { clickhouse_settings: DISTRIBUTED_INSERT } : {}),
    });
    await finished(result.stream.resume());
    return assigned;
  };
}
