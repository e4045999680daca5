/**
 * Runs `task` once every task queued before it under the same key has settled, failed or not, so
 * tasks on one key never overlap within this process; a failed task does not fail the next. The
 * key leaves `queue` when its last task settles, so the map holds only keys with work in flight.
 */
export function oneAtATime<K, T>(queue: Map<K, Promise<unknown>>, key: K, task: () => Promise<T>): Promise<T> {
  const run = (queue.get(key) ?? Promise.resolve()).catch(() => undefined).then(task);
  queue.set(key, run);
  const forget = () => {
    if (queue.get(key) === run) queue.delete(key);
  };
  run.then(forget, forget);
  return run;
}
