import type { StoreCapabilities } from '@eventlog/core';
import { isTransientError, settleKills } from './client.js';
import { createContext } from './context.js';
import { createMigrate } from './ddl.js';
import { createDelete } from './deletes.js';
import { createInsert } from './insert.js';
import { createTryLock } from './locks.js';
import type { ClickhouseStore, ClickhouseStoreOptions } from './options.js';
import { createReads } from './reads.js';
import { createSessions } from './sessions.js';

export type { ClickhouseClusterOptions, ClickhouseStore, ClickhouseStoreOptions, ClickhouseTables } from './options.js';

/**
 * Creates a ClickHouse store on `@clickhouse/client`: a day-partitioned `MergeTree` ordered by
 * tenant, time and id; ids generated in the process (see docs/clickhouse.md); inserts as
 * `JSONEachRow`; retention by partition drops plus delete mutations it waits for; optionally spread
 * over a cluster through `Distributed` tables. Works with ClickHouse 18.16 and current releases.
 *
 * The parts: `context.ts` (clients, names, column layout), `ddl.ts` (migrate), `insert.ts`,
 * `reads.ts` (find, count, aggregate, the export's stream), `deletes.ts` (partition drops and mutations), `sessions.ts`,
 * `locks.ts`, and `client.ts` (the read helper and which errors are transient).
 *
 * @example
 * ```ts
 * import { createEventLog } from '@eventlog/core';
 * import { createClickhouseStore } from '@eventlog/adapters/clickhouse';
 * const log = createEventLog({ store: createClickhouseStore({ url: 'http://127.0.0.1:8123', database: 'app' }) });
 * await log.record({ type: 'app.started' });
 * await log.close();
 * ```
 */
export function createClickhouseStore(options: ClickhouseStoreOptions = {}): ClickhouseStore {
  const context = createContext(options);
  const reads = createReads(context);
  const sessions = createSessions(context);
  let closed = false;
  return {
    engine: 'clickhouse',
    capabilities: {
      // Ids are generated in the process, so they are known before the insert.
      returnsIds: true,
      // One insert can span several day partitions, each its own part, and a Distributed table
      // forwards each shard's rows separately: a failure can leave a batch partly stored.
      atomicInsert: false,
      // `delete` waits until its mutation is done (polling system.mutations), on every shard.
      synchronousDelete: true,
      // ClickHouse has no atomic compare-and-set to build a lease on; locks are per process.
      crossProcessLock: false,
      // Values are inlined literals bounded by max_query_size (256 KiB by default), not parameters.
      maxParameters: 10_000,
      // Every delete batch is a mutation that rewrites the parts it touches: few large batches.
      deleteBatchSize: 100_000,
    } satisfies StoreCapabilities,
    client: context.client,
    tables: context.tables,
    migrate: createMigrate(context),
    insert: createInsert(context),
    find: reads.find,
    count: reads.count,
    aggregate: reads.aggregate,
    stream: reads.stream,
    delete: createDelete(context, reads.count),
    openSession: sessions.openSession,
    closeSession: sessions.closeSession,
    listSessions: sessions.listSessions,
    tryLock: createTryLock(context),
    isTransientError,
    async close() {
      if (closed) return;
      closed = true;
      // Kills of aborted reads still in flight go out before the clients' sockets are destroyed.
      await settleKills([context.client, ...context.storage]);
      await Promise.all(context.owned.map((c) => c.close()));
    },
  };
}
