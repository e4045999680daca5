import { CompiledQuery } from 'kysely';
import type { Pool } from 'pg';
import { CancelChannel, type QueryCanceller, wholeNumber } from '../kysely/cancel.js';

/** PostgreSQL: the backend's pid, cancelled with `pg_cancel_backend` (error 57014 on the query). */
export function postgresCanceller(pool: Pool): QueryCanceller {
  const channel = new CancelChannel(async () => {
    // A client like the pool's own (same class and settings), but outside it.
    const { Client, options } = pool as unknown as { Client: new (options: unknown) => PgClient; options: unknown };
    const client = new Client(options);
    // An error on an idle client is emitted, and crashes a process that does not listen.
    client.on('error', () => undefined);
    await client.connect();
    // It must not keep the host's process alive: it is closed when idle, or dropped at exit.
    client.connection?.stream?.unref?.();
    return {
      query: async (sql) => {
        await client.query(sql);
      },
      close: () => client.end(),
    };
  });
  return {
    connectionId: CompiledQuery.raw('select pg_backend_pid() as id'),
    cancel: (id) => CompiledQuery.raw(`select pg_cancel_backend(${wholeNumber(id)})`),
    execute: (statement) => channel.run(statement),
  };
}

/** What the cancel connection uses of a pg client. */
interface PgClient {
  on(event: 'error', listener: (error: unknown) => void): unknown;
  connect(): Promise<unknown>;
  query(sql: string): Promise<unknown>;
  end(): Promise<void>;
  connection?: { stream?: { unref?(): unknown } };
}
