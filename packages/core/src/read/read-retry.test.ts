import { createMemoryStore } from '@eventlog/adapters/memory';
import { afterEach, describe, expect, it } from 'vitest';
import { isEventLogError, type StoreError } from '../errors.js';
import { createEventLog, type EventLog } from '../event-log.js';

const logs: EventLog[] = [];
afterEach(async () => {
  await Promise.all(logs.splice(0).map((l) => l.close()));
});

/** A memory store whose `count` fails `failures` times, each after `afterMs`, with an error the store calls transient. */
function flakyLog(failures: number, afterMs: number, transient = true) {
  const store = createMemoryStore();
  const count = store.count.bind(store);
  const calls = { count: 0 };
  let left = failures;
  Object.assign(store, {
    isTransientError: (error: unknown) => transient && (error as Error).message === 'connection terminated',
    count: async (...args: Parameters<typeof count>) => {
      calls.count++;
      if (left-- > 0) {
        await new Promise((resolve) => setTimeout(resolve, afterMs));
        throw new Error('connection terminated');
      }
      return count(...args);
    },
  });
  const log = createEventLog({ store });
  logs.push(log);
  return { log, calls };
}

describe('reads retry quick transient failures', () => {
  it('answers a read whose first three attempts fail at once', async () => {
    const { log, calls } = flakyLog(3, 0);
    expect(await log.count()).toBe(0);
    expect(calls.count).toBe(4);
  });

  it('rejects with a transient StoreError when every attempt fails', async () => {
    const { log, calls } = flakyLog(10, 0);
    const error = await log.count().catch((e: unknown) => e);
    expect(isEventLogError(error, 'STORE_FAILED') && (error as StoreError).transient).toBe(true);
    expect(calls.count).toBe(4);
  });

  it('does not send again a read that failed slowly (a timeout) or permanently', async () => {
    const slow = flakyLog(1, 1100);
    expect(isEventLogError(await slow.log.count().catch((e: unknown) => e), 'STORE_FAILED')).toBe(true);
    expect(slow.calls.count).toBe(1);
    const permanent = flakyLog(1, 0, false);
    expect(isEventLogError(await permanent.log.count().catch((e: unknown) => e), 'STORE_FAILED')).toBe(true);
    expect(permanent.calls.count).toBe(1);
  });

  it('sends nothing more once the read is aborted during the wait', async () => {
    const { log, calls } = flakyLog(10, 0);
    const controller = new AbortController();
    const read = log.count({}, { signal: controller.signal }).catch((e: unknown) => e);
    // The first attempt fails at once; the abort lands in the waits before the later ones.
    await new Promise((resolve) => setTimeout(resolve, 10));
    controller.abort();
    expect(isEventLogError(await read, 'ABORTED')).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(calls.count).toBeLessThanOrEqual(2);
  });
});

describe('reads sharing one signal', () => {
  it('add no listener to the host signal, so many concurrent reads do not trip Node’s leak warning', async () => {
    const log = createEventLog({ store: createMemoryStore() });
    logs.push(log);
    await log.record({ type: 'app.tick' });
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    try {
      const controller = new AbortController();
      const { signal } = controller;
      const reads = await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          i % 3 === 0 ? log.count({}, { signal }) : i % 3 === 1 ? log.query({}, { signal }) : log.stats({}, { signal }),
        ),
      );
      expect(reads).toHaveLength(30);
      // A warning is emitted on the next turn of the loop.
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning').map((w) => w.message)).toEqual([]);
      // The reads still follow the host's signal.
      const pending = log.query({}, { signal });
      controller.abort(new Error('client went away'));
      await expect(pending).rejects.toMatchObject({ code: 'ABORTED' });
    } finally {
      process.off('warning', onWarning);
    }
  });
});
