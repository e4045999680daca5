/**
 * Finds the database servers the PostgreSQL, MySQL and ClickHouse test files run against. Not
 * exported from the `testing` entry: it is for this repository's own test files. Drivers are
 * imported lazily so a test file only loads the driver it needs.
 */

/** A server kind the store tests need. */
export type ServerKind = 'postgres' | 'mysql' | 'clickhouse';

const SERVERS = {
  postgres: { env: 'EVENTLOG_TEST_PG_URL', fallback: 'postgres://postgres@127.0.0.1:5432/test' },
  mysql: { env: 'EVENTLOG_TEST_MYSQL_URL', fallback: 'mysql://root@127.0.0.1:3306/test' },
  // scripts/clickhouse.sh starts it on this non-default port.
  clickhouse: { env: 'EVENTLOG_TEST_CLICKHOUSE_URL', fallback: 'http://127.0.0.1:18123' },
} as const;

/** The URL tests use for a server kind: the environment variable, else the local default. */
export function serverUrl(kind: ServerKind): string {
  const { env, fallback } = SERVERS[kind];
  return process.env[env] || fallback;
}

/**
 * Resolves the server's URL when it answers, or null when it does not and the run is local (after
 * printing one line saying how to enable the tests). Throws when it does not answer under CI, so
 * the test file fails instead of silently skipping.
 *
 * @example
 * ```ts
 * import { describe } from 'vitest';
 * import { requireServer } from '@eventlog/adapters/testing';
 * const url = await requireServer('postgres');
 * describe.skipIf(!url)('postgres store', () => {});
 * ```
 */
export async function requireServer(kind: ServerKind): Promise<string | null> {
  // The vitest global setup found no ClickHouse to start and said so, once, for the whole run.
  if (kind === 'clickhouse' && process.env.EVENTLOG_TEST_CLICKHOUSE_SKIPPED) return null;
  const url = serverUrl(kind);
  const problem = await probe(kind, url);
  if (problem === null) return url;
  const { env } = SERVERS[kind];
  const where = redact(url);
  if (process.env.CI) {
    throw new Error(`${kind} is unreachable at ${where} (${problem}); CI requires it. Start the server or set ${env}.`);
  }
  console.warn(`[eventlog] skipping ${kind} tests: no server at ${where} (${problem}). Set ${env}=<url> to run them.`);
  return null;
}

async function probe(kind: ServerKind, url: string): Promise<string | null> {
  try {
    if (kind === 'postgres') {
      const { default: pg } = await import('pg');
      const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
      client.on('error', () => undefined);
      try {
        await client.connect();
        await client.query('select 1');
      } finally {
        await client.end().catch(() => undefined);
      }
    } else if (kind === 'clickhouse') {
      const { createClient } = await import('@clickhouse/client');
      const client = createClient({ url, request_timeout: 3000 });
      try {
        await (await client.query({ query: 'SELECT 1', format: 'JSONEachRow' })).json();
      } finally {
        await client.close().catch(() => undefined);
      }
    } else {
      const mysql = await import('mysql2/promise');
      const connection = await mysql.createConnection({ uri: url, connectTimeout: 3000 });
      connection.on('error', () => undefined);
      try {
        await connection.query('select 1');
      } finally {
        await connection.end().catch(() => undefined);
      }
    }
    return null;
  } catch (error) {
    return error instanceof Error ? error.message || (error as { code?: string }).code || error.name : String(error);
  }
}

function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable URL)';
  }
}
