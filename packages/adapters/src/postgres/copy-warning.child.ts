/**
 * A child process of copy-warning.test.ts: a process in which `pg-copy-streams` cannot be loaded
 * (a loader hook refuses it) records two batches large enough for COPY into a PostgreSQL store,
 * then prints `stored N`. The parent reads its stderr.
 */
import { register } from 'node:module';
import { createEventLog } from '@eventlog/core';

register(
  `data:text/javascript,${encodeURIComponent(
    "export async function resolve(s, c, next) { if (s === 'pg-copy-streams') throw Object.assign(new Error('not installed'), { code: 'ERR_MODULE_NOT_FOUND' }); return next(s, c); }",
  )}`,
);
const { createPostgresStore } = await import('./postgres-store.js');
const [url, schema] = process.argv.slice(2);
const log = createEventLog({ store: createPostgresStore({ connectionString: url ?? '', schema, maxConnections: 2 }) });
const batch = (n: number) => Array.from({ length: 2000 }, (_, i) => ({ type: 'copy.check', message: `${n}/${i}` }));
await log.recordMany(batch(1));
await log.recordMany(batch(2));
process.stdout.write(`stored ${await log.count()}\n`);
await log.close();
