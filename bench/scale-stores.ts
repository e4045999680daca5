import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { createClickhouseStore } from '@eventlog/adapters/clickhouse';
import { createMysqlStore } from '@eventlog/adapters/mysql';
import { createPostgresStore } from '@eventlog/adapters/postgres';
import { createSqliteStore } from '@eventlog/adapters/sqlite';
import type { StorageAdapter } from '@eventlog/core';
import Database from 'better-sqlite3';
import mysql from 'mysql2';
import pg from 'pg';
import { CLICKHOUSE_URL } from './engines/clickhouse.js';
import { MYSQL_URL } from './engines/mysql.js';
import { POSTGRES_URL } from './engines/postgres.js';

// The stores of the scale benchmark: one persistent store per engine and size (reused by later
// runs, so a 10 M fill is paid once), a capture of every SQL statement the store sends through its
// driver (to count a request's queries and replay them), and the raw driver that replays them.

/** One statement as the driver received it. */
export interface Statement {
  sql: string;
  params: readonly unknown[];
}

/** A scale store, its statement capture and the raw driver replaying captured statements. */
export interface ScaleStore {
  readonly engine: string;
  readonly store: StorageAdapter;
  /** Where the data lives (file, schema or table prefix), for the report. */
  readonly where: string;
  /** Starts recording statements; returns what was recorded since the previous call. */
  capture(): Statement[];
  /** Replays statements on the raw driver, concurrently as the store sent them; undefined when the engine has no replay. */
  readonly replay: ((statements: readonly Statement[]) => Promise<void>) | undefined;
  /** Refreshes planner statistics after the fill, as a DBA would (the store may also do it). */
  analyze(): Promise<void>;
  /** Closes the raw side (the store is closed by the event log). */
  close(): Promise<void>;
}

/** Engines the scale benchmark knows. */
export const SCALE_ENGINES = ['sqlite', 'postgres', 'mysql', 'clickhouse'] as const;
export type ScaleEngine = (typeof SCALE_ENGINES)[number];

const isRead = (sql: string) => /^\s*(\(?\s*select|with)\b/i.test(sql);

function recorder() {
  let statements: Statement[] = [];
  return {
    push(sql: string, params: readonly unknown[] = []) {
      if (isRead(sql)) statements.push({ sql, params });
    },
    take() {
      const taken = statements;
      statements = [];
      return taken;
    },
  };
}

let recordWorkerRead: ((sql: string, params: readonly unknown[]) => void) | undefined;

/** Records the reads posted to SQLite reader workers (`{ sql, parameters }` messages) with `push` (the latest store's). */
function recordWorkerReads(push: (sql: string, params: readonly unknown[]) => void) {
  const patched = recordWorkerRead !== undefined;
  recordWorkerRead = push;
  if (patched) return;
  const post = Worker.prototype.postMessage;
  Worker.prototype.postMessage = function (this: Worker, message: unknown, ...rest: unknown[]) {
    const read = message as { sql?: unknown; parameters?: unknown } | null;
    if (read && typeof read.sql === 'string' && Array.isArray(read.parameters)) recordWorkerRead?.(read.sql, read.parameters);
    return (post as (...args: unknown[]) => void).call(this, message, ...rest);
  } as typeof post;
}

/** Opens (creating when missing) the scale store of `engine` for `label` (e.g. `1m`); `keywordIndex` on SQLite and PostgreSQL. */
export async function openScaleStore(
  engine: ScaleEngine,
  label: string,
  dataDir: string,
  options: { keywordIndex?: boolean } = {},
): Promise<ScaleStore> {
  const keywordIndex = options.keywordIndex === true;
  const recorded = recorder();
  if (engine === 'sqlite') {
    const file = join(dataDir, `scale-${label}.db`);
    // better-sqlite3 hands `verbose` the statement with its parameters expanded. SQLite shortens a
    // long string parameter there ('…'/*+83 bytes*/), which cannot be replayed: such a statement
    // (e.g. a keyword search's FTS5 query once it runs in the thread) is left out of "raw".
    const database = new Database(file, {
      verbose: (sql) => {
        if (!/\/\*\+\d+ bytes\*\//.test(String(sql))) recorded.push(String(sql));
      },
    });
    const reader = new Database(file, { readonly: true });
    // EVENTLOG_BENCH_SQLITE_READERS=0 reads on the store's connection (what `verbose` sees); with
    // reader workers the reads are the messages posted to them, recorded here with their parameters.
    const readers = process.env.EVENTLOG_BENCH_SQLITE_READERS === undefined ? undefined : Number(process.env.EVENTLOG_BENCH_SQLITE_READERS);
    recordWorkerReads(recorded.push);
    return {
      engine,
      store: createSqliteStore({ database, readers, keywordIndex }),
      where: file,
      capture: recorded.take,
      replay: async (statements) => {
        for (const s of statements) reader.prepare(s.sql).all(...s.params);
      },
      analyze: async () => {
        database.exec('analyze');
      },
      close: async () => {
        reader.close();
        database.close();
      },
    };
  }
  if (engine === 'postgres') {
    const schema = `eventlog_scale_${label}`;
    const pool = new pg.Pool({ connectionString: POSTGRES_URL, max: 10 });
    pool.on('connect', (client) => {
      const query = client.query.bind(client) as (...args: unknown[]) => unknown;
      (client as { query: unknown }).query = (...args: unknown[]) => {
        if (typeof args[0] === 'string') recorded.push(args[0], (args[1] as unknown[] | undefined) ?? []);
        return query(...args);
      };
    });
    const raw = new pg.Pool({ connectionString: POSTGRES_URL, max: 10 });
    await raw.query(`create schema if not exists "${schema}"`);
    return {
      engine,
      store: createPostgresStore({ pool, schema, keywordIndex }),
      where: `schema ${schema}`,
      capture: recorded.take,
      replay: async (statements) => {
        await Promise.all(statements.map((s) => raw.query(s.sql, s.params as unknown[])));
      },
      analyze: async () => {
        await raw.query(`analyze "${schema}".eventlog_events`);
      },
      close: async () => {
        await raw.end();
        await pool.end();
      },
    };
  }
  if (engine === 'mysql') {
    // MySQL table prefixes are at most 16 characters: "rollups" is shortened to "r".
    const prefix = `scale_${label.replace('rollups', 'r')}_`;
    const pool = mysql.createPool({ uri: MYSQL_URL, connectionLimit: 10 });
    pool.on('connection', (connection) => {
      const query = connection.query.bind(connection) as (...args: unknown[]) => unknown;
      (connection as { query: unknown }).query = (...args: unknown[]) => {
        if (typeof args[0] === 'string') recorded.push(args[0], Array.isArray(args[1]) ? args[1] : []);
        return query(...args);
      };
    });
    const raw = mysql.createPool({ uri: MYSQL_URL, connectionLimit: 10 }).promise();
    return {
      engine,
      store: createMysqlStore({ pool, tablePrefix: prefix }),
      where: `tables ${prefix}*`,
      capture: recorded.take,
      replay: async (statements) => {
        await Promise.all(statements.map((s) => raw.query(s.sql, s.params as unknown[])));
      },
      analyze: async () => {
        await raw.query(`analyze table ${prefix}events`);
      },
      close: async () => {
        await raw.end();
        await new Promise<void>((resolve) => pool.end(() => resolve()));
      },
    };
  }
  const database = `eventlog_scale_${label}`;
  const created = await fetch(CLICKHOUSE_URL, { method: 'POST', body: `create database if not exists ${database}` });
  if (!created.ok) throw new Error(`ClickHouse: ${await created.text()}`);
  let calls = 0;
  const store = createClickhouseStore({ url: CLICKHOUSE_URL, database });
  // ClickHouse statements go over HTTP in the client; the count is of the store's read calls.
  const counted = new Proxy(store, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver) as unknown;
      if (typeof value === 'function' && ['find', 'count', 'aggregate', 'listSessions'].includes(String(key))) {
        return (...args: unknown[]) => {
          calls++;
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      }
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return {
    engine,
    store: counted,
    where: `database ${database}`,
    capture: () => {
      const n = calls;
      calls = 0;
      return Array.from({ length: n }, () => ({ sql: '(store call)', params: [] }));
    },
    replay: undefined,
    analyze: async () => undefined,
    close: async () => undefined,
  };
}
