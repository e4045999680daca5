import { CompiledQuery } from 'kysely';
import type { AnyKysely } from './dialect.js';

/**
 * How an engine stops a statement running on one of its connections, from another connection:
 * PostgreSQL's `pg_cancel_backend(pid)`, MySQL's and MariaDB's `KILL QUERY <id>`.
 */
export interface QueryCanceller {
  /** A query returning the server's id of the connection it runs on, as `id`. */
  readonly connectionId: CompiledQuery;
  /** The statement that cancels what runs on connection `id`. */
  cancel(id: number): CompiledQuery;
}

/** PostgreSQL: the backend's pid, cancelled with `pg_cancel_backend` (error 57014 on the query). */
export const POSTGRES_CANCELLER: QueryCanceller = {
  connectionId: CompiledQuery.raw('select pg_backend_pid() as id'),
  cancel: (id) => CompiledQuery.raw(`select pg_cancel_backend(${wholeNumber(id)})`),
};

/** MySQL and MariaDB: `CONNECTION_ID()`, stopped with `KILL QUERY` (the connection stays usable). */
export const MYSQL_CANCELLER: QueryCanceller = {
  connectionId: CompiledQuery.raw('select connection_id() as id'),
  cancel: (id) => CompiledQuery.raw(`kill query ${wholeNumber(id)}`),
};

/**
 * Runs `fn` on one connection pinned for the call, and when `signal` aborts while it runs, cancels
 * the statement from another connection. The pinned connection goes back to the pool only once the
 * cancel has been answered, so a late cancel can never hit the next user of that connection.
 * Without a canceller (SQLite: the statement runs synchronously) the signal is only checked before.
 */
export async function withCancellation<R>(
  db: AnyKysely,
  canceller: QueryCanceller | undefined,
  signal: AbortSignal | undefined,
  fn: (db: AnyKysely) => Promise<R>,
): Promise<R> {
  signal?.throwIfAborted();
  if (!signal || !canceller) return fn(db);
  return db.connection().execute(async (connection) => {
    const [row] = (await connection.executeQuery<{ id: number | string }>(canceller.connectionId)).rows;
    const id = Number(row?.id);
    let running = true;
    let cancelling: Promise<unknown> | undefined;
    const onAbort = () => {
      if (running) cancelling = db.executeQuery(canceller.cancel(id)).catch(() => undefined);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      signal.throwIfAborted();
      return await fn(connection);
    } finally {
      running = false;
      signal.removeEventListener('abort', onAbort);
      await cancelling;
    }
  });
}

/** The id inlined into the statement: checked to be a plain whole number. */
function wholeNumber(id: number): number {
  if (!Number.isSafeInteger(id) || id < 0) throw new TypeError(`Not a connection id: ${id}`);
  return id;
}
