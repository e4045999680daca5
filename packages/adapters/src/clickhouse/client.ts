import type { ClickHouseClient, ClickHouseSettings } from '@clickhouse/client';
import { NETWORK_ERROR_CODES } from '../kysely/transient.js';

// 64-bit integers come back unquoted in JSON formats (they are quoted by default); both 18.16 and
// current servers know this setting. Numbers are normalised in JS as well.
export const READ_SETTINGS: ClickHouseSettings = { output_format_json_quote_64bit_integers: 0 };
// A write through a Distributed table is acknowledged only once every shard has it (the default
// queues it on the receiving server and sends it later), so "await = stored" holds.
export const DISTRIBUTED_INSERT: ClickHouseSettings = { insert_distributed_sync: 1 };

const TRANSIENT_CODES = new Set([
  '202', // TOO_MANY_SIMULTANEOUS_QUERIES
  '209', // SOCKET_TIMEOUT
  '210', // NETWORK_ERROR
  '242', // TABLE_IS_READ_ONLY (a replica lost its coordination service)
  '252', // TOO_MANY_PARTS (inserts outpace merges)
  '279', // ALL_CONNECTION_TRIES_FAILED
  '319', // UNKNOWN_STATUS_OF_INSERT
  '999', // KEEPER_EXCEPTION
]);

/** Runs a read and returns its rows as objects. */
export async function select<T>(client: ClickHouseClient, query: string): Promise<T[]> {
  const result = await client.query({ query, format: 'JSONEachRow', clickhouse_settings: READ_SETTINGS });
  return result.json<T>();
}

/** The server's error code of a failed request (`Code: 57` in the message), if any. */
export function errorCode(error: unknown): string | undefined {
  const e = error as { code?: unknown; message?: unknown } | null;
  if (typeof e?.code === 'string' && /^\d+$/.test(e.code)) return e.code;
  return typeof e?.message === 'string' ? /Code: (\d+)/.exec(e.message)?.[1] : undefined;
}

/** Whether a failure is worth retrying: a dropped connection, or a server code that passes. */
export function isTransientError(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown; cause?: unknown } | null;
  if (!e || typeof e !== 'object') return false;
  if (typeof e.code === 'string' && (NETWORK_ERROR_CODES.has(e.code) || TRANSIENT_CODES.has(e.code))) return true;
  const code = typeof e.message === 'string' ? /Code: (\d+)/.exec(e.message)?.[1] : undefined;
  if (code !== undefined) return TRANSIENT_CODES.has(code);
  if (typeof e.message === 'string' && /socket hang up|Timeout error|ECONNRESET|ECONNREFUSED/i.test(e.message)) return true;
  return e.cause !== undefined && e.cause !== error && isTransientError(e.cause);
}
