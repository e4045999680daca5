import { CompiledQuery } from 'kysely';
import type { Pool as MysqlPool } from 'mysql2';
import { CancelChannel, type QueryCanceller, wholeNumber } from '../kysely/cancel.js';

/** MySQL and MariaDB: `CONNECTION_ID()`, stopped with `KILL QUERY` (the connection stays usable). */
export function mysqlCanceller(pool: MysqlPool): QueryCanceller {
  const channel = new CancelChannel(async () => {
    // A connection with the pool's settings, made as the pool makes its own, but outside it.
    const { Connection } = await import('mysql2');
    const config = (pool as unknown as { config: { connectionConfig: unknown } }).config.connectionConfig;
    const connection = new (Connection as unknown as new (options: { config: unknown }) => MysqlConnection)({ config });
    connection.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => connection.connect((error) => (error ? reject(error) : resolve())));
    connection.stream?.unref?.();
    return {
      query: (sql) => new Promise<void>((resolve, reject) => connection.query(sql, (error) => (error ? reject(error) : resolve()))),
      close: () => new Promise<void>((resolve) => connection.end(() => resolve())),
    };
  });
  return {
    connectionId: CompiledQuery.raw('select connection_id() as id'),
    cancel: (id) => CompiledQuery.raw(`kill query ${wholeNumber(id)}`),
    execute: (statement) => channel.run(statement),
  };
}

/** What the cancel connection uses of a mysql2 connection. */
interface MysqlConnection {
  on(event: 'error', listener: (error: unknown) => void): unknown;
  connect(callback: (error: unknown) => void): void;
  query(sql: string, callback: (error: unknown) => void): void;
  end(callback: () => void): void;
  stream?: { unref?(): unknown };
}
