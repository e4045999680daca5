import type { ClickHouseClient } from '@clickhouse/client';
import type { StoreColumn, StoreSchema } from '@eventlog/core';
import { errorCode, select } from './client.js';
import type { ClickhouseContext } from './context.js';
import { qualified, quoteIdentifier, quoteString } from './sql.js';

/** Events are partitioned by UTC day: retention drops whole partitions. */
export const DAY_MS = 86_400_000;
const SORTING_KEY = "ifNull(tenant_id, ''), time, id";
const SESSION_COLUMNS = [
  '`session_id` String',
  '`type` String',
  '`tenant_id` Nullable(String)',
  '`actor_id` Nullable(String)',
  '`target_type` Nullable(String)',
  '`target_id` Nullable(String)',
  '`started_at` Int64',
  '`event` String',
  '`is_open` UInt8',
  '`version` UInt64',
];

/**
 * The store's `migrate`: creates the database and tables (the local ones on every shard and the
 * `Distributed` ones over them in cluster mode), checks the events table's keys and adds missing
 * columns. Safe when several processes migrate at once.
 */
export function createMigrate(context: ClickhouseContext): (schema: StoreSchema) => Promise<void> {
  const { client, storage, cluster, names, tables, options } = context;
  return async (schema) => {
    const db = await context.resolveDatabase();
    const servers = cluster ? [...new Set([client, ...storage])] : [client];
    if (options.database) {
      for (const target of servers) await target.command({ query: `CREATE DATABASE IF NOT EXISTS ${quoteIdentifier(db)}` });
    }
    const eventColumns = schema.columns.map((c) => `${quoteIdentifier(c.name)} ${columnType(c)}`);
    for (const target of storage) {
      const events = qualified(db, names.eventsStorage);
      await createTable(
        target,
        `CREATE TABLE IF NOT EXISTS ${events} (${eventColumns.join(', ')}) ENGINE = MergeTree ` +
          `PARTITION BY intDiv(time, ${DAY_MS}) ORDER BY (${SORTING_KEY})`,
      );
      await verifyKeys(target, db, names.eventsStorage);
      await addMissingColumns(target, events, await context.describe(target, names.eventsStorage), schema.columns);
      // Sessions are versioned rows: opening and closing both insert, reads take the newest row per id.
      await createTable(
        target,
        `CREATE TABLE IF NOT EXISTS ${qualified(db, names.sessionsStorage)} (${SESSION_COLUMNS.join(', ')}) ` +
          'ENGINE = ReplacingMergeTree(version) ORDER BY session_id',
      );
    }
    if (cluster) {
      const engine = (local: string, key: string) =>
        `ENGINE = Distributed(${quoteIdentifier(cluster.name)}, ${quoteIdentifier(db)}, ${quoteIdentifier(local)}, ${key})`;
      const shardingKey = cluster.shardingKey ?? "cityHash64(ifNull(tenant_id, ''))";
      for (const target of servers) {
        await createTable(
          target,
          `CREATE TABLE IF NOT EXISTS ${qualified(db, names.events)} (${eventColumns.join(', ')}) ${engine(names.eventsStorage, shardingKey)}`,
        );
        await addMissingColumns(target, qualified(db, names.events), await context.describe(target, names.events), schema.columns);
        await createTable(
          target,
          `CREATE TABLE IF NOT EXISTS ${qualified(db, names.sessions)} (${SESSION_COLUMNS.join(', ')}) ${engine(names.sessionsStorage, 'cityHash64(session_id)')}`,
        );
      }
    }
    tables.events = qualified(db, names.events);
    tables.sessions = qualified(db, names.sessions);
    await context.learnColumns();
  };
}

async function createTable(client: ClickHouseClient, query: string): Promise<void> {
  try {
    await client.command({ query });
  } catch (error) {
    // Two processes migrating at once: the other one created it between the check and the create.
    if (errorCode(error) !== '57') throw error;
  }
}

async function addMissingColumns(
  client: ClickHouseClient,
  table: string,
  existing: ReadonlyMap<string, string>,
  wanted: readonly StoreColumn[],
): Promise<void> {
  for (const column of wanted) {
    if (existing.has(column.name)) continue;
    try {
      // 18.16 has no ADD COLUMN IF NOT EXISTS.
      await client.command({ query: `ALTER TABLE ${table} ADD COLUMN ${quoteIdentifier(column.name)} ${columnType(column)}` });
    } catch (error) {
      if (errorCode(error) !== '15' && errorCode(error) !== '44') throw error; // added concurrently
    }
  }
}

async function verifyKeys(client: ClickHouseClient, db: string, table: string): Promise<void> {
  const [row] = await select<{ sorting_key: string; partition_key: string }>(
    client,
    `SELECT sorting_key, partition_key FROM system.tables WHERE database = ${quoteString(db)} AND name = ${quoteString(table)}`,
  );
  const flat = (s: string | undefined) => (s ?? '').replace(/[\s`]/g, '');
  if (flat(row?.sorting_key) !== flat(SORTING_KEY) || flat(row?.partition_key) !== flat(`intDiv(time, ${DAY_MS})`)) {
    // ClickHouse cannot change a table's sorting or partition key in place: say so rather than run slow.
    throw new Error(
      `Table ${db}.${table} is ordered by (${row?.sorting_key}) and partitioned by ${row?.partition_key}; eventlog needs ` +
        `ORDER BY (${SORTING_KEY}) PARTITION BY intDiv(time, ${DAY_MS}). Copy the rows into a new table with that layout.`,
    );
  }
}

function columnType(column: StoreColumn): string {
  const base = column.type === 'integer' ? 'Int64' : column.type === 'float' ? 'Float64' : 'String';
  return column.nullable ? `Nullable(${base})` : base;
}
