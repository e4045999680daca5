import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import type {
  ClickHouseClient,
  ClickHouseClientConfigOptions,
  ClickHouseSettings,
  ErrorLogParams,
  Logger,
  LogParams,
  WarnLogParams,
} from '@clickhouse/client';
import { NETWORK_ERROR_CODES } from '../kysely/transient.js';
import { quoteString } from './sql.js';

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

/** Whether an error is the client's report of a request its abort signal cancelled. */
function isCancellation(error: unknown): boolean {
  const e = error as { name?: unknown; message?: unknown } | null | undefined;
  return e?.name === 'AbortError' || (typeof e?.message === 'string' && e.message.startsWith('The user aborted a request'));
}

/**
 * The logger of the clients the store opens. `@clickhouse/client` logs every request whose signal
 * aborted as an ERROR with a stack trace, but a cancelled read is routine here (a client that went
 * away, a read over its deadline) and the caller already receives the rejection: those entries are
 * dropped. Everything else is printed as the client's own logger prints it.
 */
export class CancellationQuietLogger implements Logger {
  trace(params: LogParams): void {
    console.debug(...format('TRACE', params));
  }
  debug(params: LogParams): void {
    console.debug(...format('DEBUG', params));
  }
  info(params: LogParams): void {
    console.info(...format('INFO', params));
  }
  warn(params: WarnLogParams): void {
    if (!isCancellation(params.err)) console.warn(...format('WARN', params));
  }
  error(params: ErrorLogParams): void {
    if (!isCancellation(params.err)) console.error(...format('ERROR', params));
  }
}

function format(level: string, { module, message, args, err }: LogParams & { err?: Error }): unknown[] {
  const out: unknown[] = [`[${new Date().toISOString()}][${level}][@clickhouse/client][${module}] ${message}`];
  if (args) out.push('\nArguments:', args);
  if (err) out.push('\nCaused by:', err);
  return out;
}

/** How the store configures the clients it opens (a client the host passes keeps its own logging). */
export const STORE_CLIENT_OPTIONS: Pick<ClickHouseClientConfigOptions, 'log'> = { log: { LoggerClass: CancellationQuietLogger } };

/** Runs a read and returns its rows as objects; a `signal` cancels it (see {@link cancellable}). */
export async function select<T>(client: ClickHouseClient, query: string, signal?: AbortSignal): Promise<T[]> {
  if (!signal) {
    const result = await client.query({ query, format: 'JSONEachRow', clickhouse_settings: READ_SETTINGS });
    return result.json<T>();
  }
  return cancellable(client, signal, async (params) => {
    const result = await client.query({ query, format: 'JSONEachRow', clickhouse_settings: READ_SETTINGS, ...params });
    return result.json<T>();
  });
}

/** What a cancellable request sends: the signal that aborts it, and the id it runs under on the server. */
export interface CancelParams {
  readonly abort_signal: AbortSignal;
  readonly query_id: string;
}

/**
 * Runs a request that `signal` cancels: the HTTP request is aborted, and since a server that is
 * still computing (an aggregate sends nothing until it is done) does not notice the closed
 * connection, the query is also killed by its id from a second request (see {@link killQuery}).
 */
export async function cancellable<R>(client: ClickHouseClient, signal: AbortSignal, run: (params: CancelParams) => Promise<R>): Promise<R> {
  signal.throwIfAborted();
  const query_id = randomUUID();
  // The client's own abort listeners, added by `run`, destroy the request's socket first, so the
  // kill never waits for a socket behind the request it stops.
  const onAbort = () => killQuery(client, query_id, { started: false });
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    return await run({ abort_signal: signal, query_id });
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

/**
 * When a kill that found nothing is sent again (ms after the previous one): a query whose request
 * was aborted just after it was sent may not be registered yet when the first kill arrives.
 */
const KILL_RETRIES_MS = [20, 100, 400] as const;
/** Per client, the kills and response releases that have not finished yet: `settleKills` waits for them. */
const pendingKills = new WeakMap<ClickHouseClient, Set<Promise<void>>>();

/** How a query to kill stands, as far as its caller knows. */
export interface KillOptions {
  /**
   * Whether the server already answered the query (its response began): the query is then
   * registered, and a kill that finds nothing means that it has ended. Otherwise the kill is sent
   * again a few times (see `KILL_RETRIES_MS`) while it finds nothing.
   */
  readonly started: boolean;
}

/** Adds a kill or a release to what {@link settleKills} waits for, until it has finished. */
function track(client: ClickHouseClient, work: Promise<void>): void {
  let pending = pendingKills.get(client);
  if (!pending) {
    pending = new Set();
    pendingKills.set(client, pending);
  }
  const set = pending;
  const tracked: Promise<void> = work.catch(() => undefined).finally(() => set.delete(tracked));
  set.add(tracked);
}

/**
 * Asks the server to stop a query by id, without making the caller wait; failures are ignored (the
 * read that is stopped has already rejected). The kill is tracked until it has finished, so that
 * {@link settleKills} (the store's `close()`) can wait for it before closing the client under it.
 */
export function killQuery(client: ClickHouseClient, queryId: string, options: KillOptions): void {
  track(client, sendKill(client, queryId, options.started ? 0 : KILL_RETRIES_MS.length));
}

/** How long a stopped query's response is read before its socket is closed instead. */
const RELEASE_LIMIT_MS = 2000;

/**
 * Reads the rest of a response whose query was killed, discarding it, until the server ends it
 * (after a kill, ClickHouse 18.16 flushes what it had buffered, a few MB, and ends the response
 * with the "Query was cancelled" error within tens of milliseconds). Destroying it mid-way instead
 * would close the socket under the response, which the client reports as a WARN ("socket was closed
 * or ended before the response was fully read") and which loses the keep-alive connection. A
 * response still open after `RELEASE_LIMIT_MS` (a kill that did not land) is destroyed: the server
 * then stops at its next write. Tracked like a kill.
 */
export function releaseResponse(client: ClickHouseClient, response: Readable): void {
  if (response.readableEnded || response.destroyed) return;
  track(
    client,
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        response.destroy();
        resolve();
      }, RELEASE_LIMIT_MS);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      response.once('end', done);
      response.once('close', done);
      response.once('error', done);
      response.resume();
    }),
  );
}

async function sendKill(client: ClickHouseClient, queryId: string, retries: number): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    // `KILL QUERY … ASYNC` answers at once with a row per query it marked as cancelled.
    const result = await client.query({
      query: `KILL QUERY WHERE query_id = ${quoteString(queryId)} ASYNC`,
      format: 'JSONEachRow',
    });
    const killed = await result.json<unknown>();
    if (killed.length > 0 || attempt >= retries) return;
    await new Promise((resolve) => setTimeout(resolve, KILL_RETRIES_MS[attempt]));
  }
}

/**
 * Resolves when every kill and release sent through these clients has finished, or after
 * `timeoutMs`. The store's `close()` waits for it: closing a client destroys its sockets, and a
 * kill cut off that way would neither reach its query nor end without the client logging a
 * `socket hang up` ERROR.
 */
export async function settleKills(clients: readonly ClickHouseClient[], timeoutMs = 5000): Promise<void> {
  const pending = [...new Set(clients)].flatMap((c) => [...(pendingKills.get(c) ?? [])]);
  if (pending.length === 0) return;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, timeoutMs);
  });
  try {
    await Promise.race([Promise.all(pending), timeout]);
  } finally {
    clearTimeout(timer);
  }
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
