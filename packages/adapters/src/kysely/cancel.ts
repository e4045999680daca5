import type { CompiledQuery } from 'kysely';
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

/** The id inlined into a cancel statement: checked to be a plain whole number. @internal */
export function wholeNumber(id: number): number {
  if (!Number.isSafeInteger(id) || id < 0) throw new TypeError(`Not a connection id: ${id}`);
  return id;
}
