/**
 * A child process of the SQLite migration-race test (sqlite-store.test.ts): for every `go <file>`
 * line on stdin it opens a store on that file, lets the log migrate it, records one event and
 * answers `ok <file>` or `error <file> <message>` on stdout (after `ready` once loaded). The parent sends the same line to every
 * child at once, so the processes open a fresh file together.
 */
import { createInterface } from 'node:readline';
import { createEventLog } from '@eventlog/core';
import { createSqliteStore } from './sqlite-store.js';

const lines = createInterface({ input: process.stdin });
process.stdout.write('ready\n');
for await (const line of lines) {
  const [command, file] = line.split(' ');
  if (command !== 'go' || !file) continue;
  try {
    const log = createEventLog({ store: createSqliteStore({ filename: file }) });
    await log.record({ type: 'race.started', message: String(process.pid) });
    await log.close();
    process.stdout.write(`ok ${file}\n`);
  } catch (error) {
    process.stdout.write(`error ${file} ${String((error as Error).message).replace(/\n/g, ' ')}\n`);
  }
}
