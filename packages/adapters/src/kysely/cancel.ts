import { CompiledQuery } from 'kysely';
import type { Pool as MysqlPool } from 'mysql2';
import type { Pool } from 'pg';
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
  /**
   * Runs a cancel statement on a connection outside the pool. Without it the cancel takes a pooled
   * connection, and waits while every pooled connection is busy, possibly on the read it cancels.
   */
  execute?(statement: CompiledQuery): Promise<void>;
}

/** The one connection a {@link CancelChannel} runs statements on. */
export interface CancelConnection {
  query(sql: string): Promise<void>;
  close(): Promise<void>;
}

/** How long the cancel connection stays open after its last statement. */
const CANCEL_IDLE_MS = 2000;

/**
 * One connection outside the pool for cancel statements, opened on first use and closed once idle:
 * cancels are rare, so it holds no server connection in the common case, and a burst of them (many
 * clients leaving at once) shares it instead of opening one each. A connection that fails is
 * dropped; the next cancel opens another.
 */
export class CancelChannel {
  private connection: Promise<CancelConnection> | null = null;
  private running = 0;
  private idle: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly open: () => Promise<CancelConnection>) {}

  async run(statement: CompiledQuery): Promise<void> {
    this.running++;
    clearTimeout(this.idle);
    this.connection ??= this.open();
    const connection = this.connection;
    try {
      await (await connection).query(statement.sql);
    } catch (error) {
      if (this.connection === connection) this.drop();
      throw error;
    } finally {
      if (--this.running === 0 && this.isOpen()) {
        this.idle = setTimeout(() => this.drop(), CANCEL_IDLE_MS);
        this.idle.unref?.();
      }
    }
  }

  private isOpen(): boolean {
    return this.connection !== null;
  }

  private drop(): void {
    const connection = this.connection;
    this.connection = null;
    void connection?.then((c) => c.close()).catch(() => undefined);
  }
}

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

/** What the cancel connection uses of a pg client. */
interface PgClient {
  on(event: 'error', listener: (error: unknown) => void): unknown;
  connect(): Promise<unknown>;
  query(sql: string): Promise<unknown>;
  end(): Promise<void>;
  connection?: { stream?: { unref?(): unknown } };
}

/** What the cancel connection uses of a mysql2 connection. */
interface MysqlConnection {
  on(event: 'error', listener: (error: unknown) => void): unknown;
  connect(callback: (error: unknown) => void): void;
  query(sql: string, callback: (error: unknown) => void): void;
  end(callback: () => void): void;
  stream?: { unref?(): unknown };
}

/**
 * Runs `fn` on one connection pinned for the call, and when `signal` aborts while it runs, cancels
 * the statement from another connection: the canceller's own, outside the pool, falling back to a
 * pooled one when that cannot be opened. The pinned connection goes back to the pool only once the
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
      if (!running) return;
      const statement = canceller.cancel(id);
      const pooled = () => db.executeQuery(statement);
      cancelling = (canceller.execute ? canceller.execute(statement).catch(pooled) : pooled()).catch(() => undefined);
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
