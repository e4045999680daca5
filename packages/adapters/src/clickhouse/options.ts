import type { ClickHouseClient } from '@clickhouse/client';
import type { StorageAdapter } from '@eventlog/core';

/** How the store spreads its tables over a ClickHouse cluster. */
export interface ClickhouseClusterOptions {
  /** The cluster's name in the servers' `remote_servers` configuration. */
  name: string;
  /** Reads and writes go through `Distributed` tables over one local table per shard. */
  distributed: true;
  /**
   * The SQL expression that picks a row's shard; keeping a tenant on one shard keeps its reads local
   * to that shard. Trusted configuration, inlined as written.
   * @default "cityHash64(ifNull(tenant_id, ''))"
   */
  shardingKey?: string;
  /**
   * One server per shard (an `http://` URL or a client the host owns): the store creates and alters
   * the local tables there and runs partition drops and delete mutations there. With replicated
   * shards, name one replica per shard and create the local tables as `Replicated*MergeTree`
   * yourself (see docs/clickhouse.md).
   */
  nodes: readonly (string | ClickHouseClient)[];
}

/** Options of {@link createClickhouseStore}. */
export interface ClickhouseStoreOptions {
  /**
   * The server's HTTP interface, e.g. `http://default:secret@127.0.0.1:8123`; the store opens a
   * client on it and closes it in `close()`. Ignored when `client` is given.
   * @default 'http://127.0.0.1:8123'
   */
  url?: string;
  /**
   * A `@clickhouse/client` client the host already owns; the store never closes it. It keeps its own
   * logging: pass `log: { LoggerClass: CancellationQuietLogger }` when creating it so that cancelled
   * reads are not logged as errors (the store does this for the clients it opens).
   */
  client?: ClickHouseClient;
  /** Database holding the tables, created when missing. @default the connection's current database */
  database?: string;
  /** Prefix of every table name. @default 'eventlog_' */
  tablePrefix?: string;
  /** Spread the events over the shards of a cluster (see {@link ClickhouseClusterOptions}). */
  cluster?: ClickhouseClusterOptions;
  /**
   * This process's node number in generated ids (0–127); give every concurrent writer its own to
   * make ids unique by construction. @default a random number, drawn once per process
   */
  nodeId?: number;
  /**
   * Retention drops whole day partitions that lie entirely inside a pure time range, instead of
   * rewriting them with a delete mutation. @default true
   */
  dropPartitions?: boolean;
  /** How long `delete` waits for its mutation to finish. @default 300000 */
  mutationTimeoutMs?: number;
}

/** Names of the tables a ClickHouse store uses (backtick-quoted, database-qualified). */
export interface ClickhouseTables {
  /** Database the tables live in. */
  database: string;
  /** Events as read and written (the `Distributed` table in cluster mode). */
  events: string;
  /** Open sessions as read and written (the `Distributed` table in cluster mode). */
  sessions: string;
  /** Unquoted name of the table holding event rows on each server (the local table in cluster mode). */
  eventsStorage: string;
  /** Unquoted name of the table holding session rows on each server. */
  sessionsStorage: string;
}

/** A ClickHouse store plus what tests and tools need. */
export interface ClickhouseStore extends StorageAdapter {
  /** The client reads and writes go through. */
  readonly client: ClickHouseClient;
  /** Table names; `database` is known after `migrate()`. */
  readonly tables: ClickhouseTables;
}
