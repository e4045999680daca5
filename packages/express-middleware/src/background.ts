import type { EventInput } from '@eventlog/core';
import type { AnyEventLog } from './context.js';

/**
 * Returns a function that records events without being awaited: failures are emitted as the log's
 * `error` event, and once `maxPending` records are waiting for the store, further events are dropped
 * and reported in one `error` per episode instead of piling up in memory. @internal
 */
export function recordInBackground(log: AnyEventLog, maxPending: number, what: string): (event: EventInput) => void {
  let pending = 0;
  let dropped = 0;
  return (event) => {
    if (pending >= maxPending) {
      if (dropped++ === 0) {
        log.emit('error', new Error(`eventlog: ${maxPending} ${what} are waiting for the store; dropping new ones until it catches up.`));
      }
      return;
    }
    if (dropped > 0) {
      log.emit('error', new Error(`eventlog: dropped ${dropped} ${what} while the store was behind.`));
      dropped = 0;
    }
    pending++;
    let promise: Promise<unknown>;
    try {
      promise = log.record(event);
    } catch (error) {
      // A log that is not an EventLog (a test double, a wrapper) may throw synchronously.
      promise = Promise.reject(error);
    }
    promise.then(
      () => {
        pending--;
      },
      (error: unknown) => {
        pending--;
        log.emit('error', error);
      },
    );
  };
}
