import type { StorageAdapter } from '@eventlog/core';

/**
 * Makes the store's inserts wait until the returned function is called, so every write stays in
 * the log's buffer meanwhile (back-pressure and waiting-memory tests). Changes `store` in place.
 */
export function holdInserts(store: StorageAdapter): () => void {
  let release: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const insert = store.insert.bind(store);
  store.insert = async (rows) => {
    await gate;
    return insert(rows);
  };
  return () => release();
}

/**
 * Counts the reads the store answered from rollups (`answered`: an `aggregateRollups` with rows)
 * and its raw aggregate reads (`raw`: `aggregate` and `count` calls). Changes `store` in place;
 * set the counters back to 0 between the requests to compare.
 */
export function countRollupAnswers(store: StorageAdapter): { answered: number; raw: number } {
  const counter = { answered: 0, raw: 0 };
  const original = store.aggregateRollups?.bind(store);
  if (original) {
    store.aggregateRollups = async (query) => {
      const rows = await original(query);
      if (rows) counter.answered++;
      return rows;
    };
  }
  const aggregate = store.aggregate.bind(store);
  store.aggregate = async (query) => {
    counter.raw++;
    return aggregate(query);
  };
  const count = store.count.bind(store);
  store.count = async (where, options) => {
    counter.raw++;
    return count(where, options);
  };
  return counter;
}

/** Pulls what an export still yields after its abort (the rest of the batch in hand) until it rejects; returns the rejection. */
export async function rejectionOf(chunks: AsyncIterator<string>): Promise<unknown> {
  for (let i = 0; i < 100_000; i++) {
    try {
      if ((await chunks.next()).done) return 'done';
    } catch (error) {
      return error;
    }
  }
  return 'still yielding';
}
