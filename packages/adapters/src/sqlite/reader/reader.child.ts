/**
 * A child process of reader.test.ts: opens a store with a reader worker on the file given as the
 * first argument, prints the number of events and then, by the second argument, closes the store
 * (`close`), leaves it open and idle (`idle`), or first abandons a long read by aborting it
 * (`abort`). The parent checks that the process then exits by itself.
 */
import { createSqliteStore } from '../sqlite-store.js';

const [filename, mode] = process.argv.slice(2);
const store = createSqliteStore({ filename });
if (mode === 'abort') {
  const controller = new AbortController();
  const long = store.aggregate({ where: [], groupBy: { column: 'actor_id' }, sum: [], signal: controller.signal });
  setTimeout(() => controller.abort(), 50);
  await long.catch(() => undefined);
}
process.stdout.write(`${await store.count([])}\n`);
if (mode !== 'idle') await store.close();
