import { type ClickHouseClient, createClient } from '@clickhouse/client';
import type { StoredRow } from '@eventlog/core';
import { STORE_CLIENT_OPTIONS, select } from './client.js';
import { type IdGenerator, processIdGenerator } from './ids.js';
import { createRowEncoder } from './json-rows.js';
import type { ClickhouseClusterOptions, ClickhouseStoreOptions, ClickhouseTables } from './options.js';
import { qualified, quoteIdentifier } from './sql.js';
import type { ColumnInfo } from './where.js';

const DEFAULT_URL = 'http://127.0.0.1:8123';
const PREFIX = /^[A-Za-z_][A-Za-z0-9_]{0,47}$|^$/;
const TENANT_KEY = "ifNull(`tenant_id`, '')";

/** Unquoted table names: what is read and written, and what holds the rows on each server. */
export interface TableNames {
  readonly events: string;
  readonly sessions: string;
  readonly eventsStorage: string;
  readonly sessionsStorage: string;
}

/** The events table as last described: its columns, their encoder and how the where-builder treats them. */
export interface ColumnLayout {
  readonly columns: readonly string[];
  readonly encode: ReturnType<typeof createRowEncoder>;
  readonly info: ColumnInfo;
}

/**
 * What every part of a ClickHouse store shares: the clients, the table names, the id generator and
 * the events table's column layout (learnt after `migrate()`).
 */
export interface ClickhouseContext {
  readonly options: ClickhouseStoreOptions;
  /** The client reads and writes go through. */
  readonly client: ClickHouseClient;
  /** Servers holding the rows: every shard in cluster mode, else the one server. */
  readonly storage: readonly ClickHouseClient[];
  readonly cluster: ClickhouseClusterOptions | undefined;
  readonly names: TableNames;
  readonly tables: ClickhouseTables;
  readonly ids: IdGenerator;
  /** Clients the store opened, closed by `close()`. */
  readonly owned: readonly ClickHouseClient[];
  /** The database name, asked of the server once when the options give none. */
  resolveDatabase(): Promise<string>;
  /** Column name → type of a table on one server. */
  describe(target: ClickHouseClient, table: string): Promise<Map<string, string>>;
  /** Reads the events table's columns anew (after a migration). */
  learnColumns(): Promise<ColumnLayout>;
  /** The column layout, read once. */
  layout(): Promise<ColumnLayout>;
  /** Numbers as JS numbers, in place. */
  normalize(row: Record<string, unknown>, info: ColumnInfo): StoredRow;
}

/** Checks the options and opens what the store needs; no query runs until first use. */
export function createContext(options: ClickhouseStoreOptions): ClickhouseContext {
  const prefix = options.tablePrefix ?? 'eventlog_';
  if (!PREFIX.test(prefix))
    throw new TypeError(`tablePrefix "${prefix}" must be letters, digits and "_" (at most 48, not starting with a digit).`);
  if (options.database !== undefined) quoteIdentifier(options.database);
  const cluster = options.cluster;
  if (cluster) {
    quoteIdentifier(cluster.name);
    if (cluster.distributed !== true)
      throw new TypeError('cluster.distributed must be true (the store reads and writes through Distributed tables).');
    if (!Array.isArray(cluster.nodes) || cluster.nodes.length === 0) {
      throw new TypeError('cluster.nodes must list one server per shard, e.g. ["http://shard1:8123", "http://shard2:8123"].');
    }
  }
  const ids = processIdGenerator(options.nodeId);
  const owned: ClickHouseClient[] = [];
  const open = (url: string) => {
    const client = createClient({ url, ...STORE_CLIENT_OPTIONS });
    owned.push(client);
    return client;
  };
  const client = options.client ?? open(options.url ?? DEFAULT_URL);
  const storage: ClickHouseClient[] = cluster ? cluster.nodes.map((n) => (typeof n === 'string' ? open(n) : n)) : [client];
  const names: TableNames = {
    events: `${prefix}events`,
    sessions: `${prefix}sessions`,
    eventsStorage: cluster ? `${prefix}events_local` : `${prefix}events`,
    sessionsStorage: cluster ? `${prefix}sessions_local` : `${prefix}sessions`,
  };
  const tables: ClickhouseTables = {
    database: options.database ?? '',
    events: qualified(options.database, names.events),
    sessions: qualified(options.database, names.sessions),
    eventsStorage: names.eventsStorage,
    sessionsStorage: names.sessionsStorage,
  };
  let database: Promise<string> | null = options.database ? Promise.resolve(options.database) : null;
  let layout: ColumnLayout | null = null;

  const context: ClickhouseContext = {
    options,
    client,
    storage,
    cluster,
    names,
    tables,
    ids,
    owned,
    resolveDatabase() {
      database ??= select<{ db: string }>(client, 'SELECT currentDatabase() AS db').then(([row]) => {
        if (!row?.db) throw new Error('The ClickHouse connection has no current database; pass the database option.');
        tables.database = row.db;
        return row.db;
      });
      return database;
    },
    async describe(target, table) {
      const db = await context.resolveDatabase();
      const rows = await select<{ name: string; type: string }>(target, `DESCRIBE TABLE ${qualified(db, table)}`);
      return new Map(rows.map((r) => [r.name, r.type]));
    },
    async learnColumns() {
      const described = await context.describe(client, names.events);
      const columns = [...described.keys()];
      layout = {
        columns,
        encode: createRowEncoder(columns),
        info: {
          numeric: new Set(columns.filter((c) => /^(Nullable\()?(U?Int\d+|Float\d+|Decimal)/.test(described.get(c) ?? ''))),
          keyExpressions: { tenant_id: TENANT_KEY },
        },
      };
      return layout;
    },
    async layout() {
      return layout ?? context.learnColumns();
    },
    normalize(row, info) {
      for (const column of info.numeric) {
        const value = row[column];
        if (value !== null && value !== undefined && typeof value !== 'number') row[column] = Number(value);
      }
      return row;
    },
  };
  return context;
}
