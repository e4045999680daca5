import { type EventLog, type EventRow, isEventLogError, type StorageAdapter, type StoredEvent } from '@eventlog/core';
import { expect } from 'vitest';

/** What {@link recordWhileKilling} saw. */
export interface KillReport {
  /** `record()` calls that resolved (each MUST be stored exactly once). */
  acknowledged: number;
  /** `record()` calls that rejected (each with a `STORE_FAILED` error). */
  rejected: number;
  /** Store inserts that failed and were retried by the write buffer. */
  failedInserts: number;
  /** Connections the killer ended. */
  killed: number;
}

/**
 * Records 2,400 events in paced rounds while `kill` ends the store's connections every `everyMs`,
 * then checks the durability rule: every acknowledged event is stored exactly once (with the id
 * `record()` returned, when the store reports ids) and every rejection is a `STORE_FAILED` error.
 * The log should retry generously (e.g. `buffer: { maxBatchSize: 200, retries: 10 }`).
 *
 * @example
 * ```ts
 * import { createEventLog } from '@eventlog/core';
 * import { createMemoryStore } from '@eventlog/adapters/memory';
 * import { conformancePreset, recordWhileKilling } from '@eventlog/adapters/testing';
 * const store = createMemoryStore();
 * const log = createEventLog({ store, presets: [conformancePreset] });
 * // A real engine's test passes a function that terminates the store's server connections.
 * const report = await recordWhileKilling(log, store, async () => 0);
 * console.log(report.acknowledged); // 2400
 * ```
 */
export async function recordWhileKilling(
  log: EventLog,
  store: StorageAdapter,
  kill: () => Promise<number>,
  everyMs = 60,
): Promise<KillReport> {
  let failedInserts = 0;
  const insert = store.insert.bind(store);
  (store as { insert: StorageAdapter['insert'] }).insert = async (rows: readonly EventRow[]) => {
    try {
      return await insert(rows);
    } catch (error) {
      failedInserts++;
      throw error;
    }
  };

  let ingesting = true;
  let killed = 0;
  const killer = (async () => {
    while (ingesting) {
      killed += await kill().catch(() => 0);
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
  })();

  type Outcome = { key: string; event?: StoredEvent; error?: unknown };
  const outcomes: Promise<Outcome>[] = [];
  for (let round = 0; round < 60; round++) {
    for (let i = 0; i < 40; i++) {
      const key = `k${round}-${i}`;
      outcomes.push(
        log.record({ type: 'auth.login', message: key, target: { id: key } }).then(
          (event) => ({ key, event }),
          (error: unknown) => ({ key, error }),
        ),
      );
    }
    // Paced, so batches keep flowing while connections die.
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const results = await Promise.all(outcomes);
  ingesting = false;
  await killer;

  const acknowledged = results.filter((r) => r.event);
  const rejected = results.filter((r) => r.error !== undefined);
  for (const r of rejected) expect(isEventLogError(r.error, 'STORE_FAILED'), String(r.error)).toBe(true);
  // The killer's last round may have hit idle pooled connections: this check reads the way the
  // core's reads do, sending a read again after a transient failure.
  const readAll = () => store.find({ where: [], orderBy: { column: 'id', direction: 'asc' }, limit: 10_000, columns: ['target_id'] });
  let rows = await readAll().catch((error: unknown) => (store.isTransientError?.(error) ? null : Promise.reject(error)));
  for (let attempt = 0; !rows && attempt < 5; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    rows = await readAll().catch((error: unknown) => (store.isTransientError?.(error) ? null : Promise.reject(error)));
  }
  if (!rows) throw new Error('the stored rows could not be read back after the connections were killed');
  const byKey = new Map<string, number[]>();
  for (const row of rows) {
    const key = String(row.target_id);
    byKey.set(key, [...(byKey.get(key) ?? []), Number(row.id)]);
  }
  for (const r of acknowledged) {
    const ids = byKey.get(r.key);
    expect(ids, `acknowledged ${r.key} is missing`).toBeDefined();
    if (store.capabilities.returnsIds) expect(ids).toEqual([r.event?.id]);
  }
  // A retry after a lost acknowledgement (the COMMIT ran, its reply never came) must not store twice.
  expect([...byKey].filter(([, ids]) => ids.length > 1)).toEqual([]);
  return { acknowledged: acknowledged.length, rejected: rejected.length, failedInserts, killed };
}
