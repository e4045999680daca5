import { resolve } from 'node:path';
import type { StorageAdapter } from '@eventlog/core';
import { UsageError } from './errors.js';

/** The engines `--db` can name. */
export const ENGINES = ['sqlite', 'postgres', 'mysql', 'clickhouse'] as const;
/** One of {@link ENGINES}. */
export type Engine = (typeof ENGINES)[number];

/** Where the events live, as parsed from `--db` or `EVENTLOG_DB`. */
export interface StoreTarget {
  engine: Engine;
  /** A file path for SQLite (absolute), a URL for the others. */
  location: string;
  /** PostgreSQL schema or ClickHouse database taken from the URL's `?schema=` / `?database=`. */
  namespace?: string;
  /** Prefix of the tables, from `?prefix=`. */
  tablePrefix?: string;
}

/** The store used when neither `--db` nor `EVENTLOG_DB` is given. */
export const DEFAULT_DB = './events.db';

/**
 * Parses a `--db` value: a file path (SQLite), `postgres://`, `mysql://`, `clickhouse://` or `http(s)://` (ClickHouse).
 *
 * @example
 * ```ts
 * import { parseStoreTarget } from '@eventlog/cli';
 * parseStoreTarget('postgres://app@127.0.0.1/app?schema=logs'); // { engine: 'postgres', namespace: 'logs', … }
 * ```
 */
export function parseStoreTarget(value: string, cwd = process.cwd()): StoreTarget {
  const text = value.trim();
  if (text === '') throw new UsageError('--db is empty: give a file path (SQLite) or a postgres://, mysql:// or clickhouse:// URL.');
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(text)?.[1]?.toLowerCase();
  if (!scheme || scheme === 'file' || scheme === 'sqlite') {
    const path = scheme ? text.replace(/^[a-z]+:\/\//i, '') : text;
    return { engine: 'sqlite', location: path === ':memory:' ? path : resolve(cwd, path) };
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`--db: "${redact(text)}" is not a valid URL.`);
  }
  const tablePrefix = url.searchParams.get('prefix') ?? undefined;
  url.searchParams.delete('prefix');
  const withPrefix = <T extends StoreTarget>(t: T): T => (tablePrefix ? { ...t, tablePrefix } : t);
  switch (scheme) {
    case 'postgres':
    case 'postgresql': {
      const schema = url.searchParams.get('schema') ?? undefined;
      url.searchParams.delete('schema');
      return withPrefix({ engine: 'postgres', location: url.toString(), ...(schema ? { namespace: schema } : {}) });
    }
    case 'mysql':
    case 'mariadb':
      url.protocol = 'mysql:';
      return withPrefix({ engine: 'mysql', location: url.toString() });
    case 'clickhouse':
    case 'clickhouses':
    case 'http':
    case 'https': {
      if (scheme.startsWith('clickhouse')) {
        // The URL standard does not let `protocol` turn a custom scheme into http(s) (the setter
        // does nothing), so the URL is parsed again with the scheme replaced. A clickhouse:// URL
        // without a port means ClickHouse's HTTP port (8123), clickhouses:// its HTTPS port (8443).
        const port = url.port || (scheme === 'clickhouses' ? '8443' : '8123');
        url = new URL(url.href.replace(/^clickhouse/i, 'http'));
        url.port = port;
      }
      const database = url.searchParams.get('database') ?? (url.pathname.length > 1 ? url.pathname.slice(1) : undefined);
      url.searchParams.delete('database');
      url.pathname = '/';
      return withPrefix({
        engine: 'clickhouse',
        location: url.toString().replace(/\/$/, ''),
        ...(database ? { namespace: database } : {}),
      });
    }
    default:
      throw new UsageError(`--db: unknown scheme "${scheme}://"; use a file path, postgres://, mysql://, clickhouse:// or http://.`);
  }
}

/** A URL with its password replaced by `***`, for messages. */
export function redact(location: string): string {
  return location.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*:)[^@/]*@/i, '$1***@');
}

/**
 * Opens the store a target names; each engine's driver is loaded only when that engine is used.
 *
 * @example
 * ```ts
 * import { openStore, parseStoreTarget } from '@eventlog/cli';
 * const store = await openStore(parseStoreTarget('./events.db'));
 * ```
 */
export async function openStore(target: StoreTarget): Promise<StorageAdapter> {
  const prefix = target.tablePrefix ? { tablePrefix: target.tablePrefix } : {};
  switch (target.engine) {
    case 'sqlite': {
      const { createSqliteStore } = await import('@eventlog/adapters/sqlite');
      return createSqliteStore({ filename: target.location, ...prefix });
    }
    case 'postgres': {
      const { createPostgresStore } = await import('@eventlog/adapters/postgres');
      return createPostgresStore({
        connectionString: target.location,
        maxConnections: 4,
        ...prefix,
        ...(target.namespace ? { schema: target.namespace } : {}),
      });
    }
    case 'mysql': {
      const { createMysqlStore } = await import('@eventlog/adapters/mysql');
      return createMysqlStore({ uri: target.location, connectionLimit: 4, ...prefix });
    }
    case 'clickhouse': {
      const { createClickhouseStore } = await import('@eventlog/adapters/clickhouse');
      return createClickhouseStore({ url: target.location, ...prefix, ...(target.namespace ? { database: target.namespace } : {}) });
    }
  }
}
