/**
 * Options every read takes besides its input.
 *
 * @example
 * ```ts
 * import { createEventLog } from '@eventlog/core';
 * import { createSqliteStore } from '@eventlog/adapters/sqlite';
 * const log = createEventLog({ store: createSqliteStore() });
 * const stop = new AbortController();
 * const pending = log.stats({ type: 'app.error' }, { signal: stop.signal });
 * stop.abort(); // the read rejects with an AbortedError (code ABORTED) and its query is cancelled
 * await pending.catch(() => undefined);
 * ```
 */
export interface ReadOptions {
  /**
   * Stops the read: it rejects with `ABORTED`, the running query is cancelled where the engine can
   * (PostgreSQL, MariaDB/MySQL, ClickHouse) and an export stops between chunks on every engine.
   * @default none
   */
  signal?: AbortSignal;
}
