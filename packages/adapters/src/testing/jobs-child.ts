/**
 * The child process of the conformance suite's crash test (suites/jobs.ts): opens the store its
 * parent describes, runs the default retention policy with an archive, and before the delete of
 * batch `stopAt` writes `archived <job id>` on stdout and waits to be killed, so the parent's
 * SIGKILL lands between an archive write and its delete.
 */
import { pathToFileURL } from 'node:url';
import { createEventLog, type DeleteQuery, type EventStore } from '@eventlog/core';
import { conformancePreset } from './fixtures.js';

interface ChildSpec {
  module: string;
  factory: string;
  options: unknown;
  now: number;
  directory: string;
  leaseMs: number;
  batchSize: number;
  stopAt: number;
}

const spec = JSON.parse(process.argv[2] ?? '{}') as ChildSpec;
const loaded = (await import(pathToFileURL(spec.module).href)) as Record<string, (options: unknown) => EventStore>;
const store = (loaded[spec.factory] as (options: unknown) => EventStore)(spec.options);
const log = createEventLog({
  store,
  presets: [conformancePreset],
  clock: () => spec.now,
  retention: {
    default: { maxAgeDays: 1, archive: { directory: spec.directory } },
    leaseMs: spec.leaseMs,
    batchSize: spec.batchSize,
    pauseMs: 0,
  },
});
const original = store.delete.bind(store);
let calls = 0;
(store as { delete: EventStore['delete'] }).delete = async (query: DeleteQuery) => {
  if (++calls === spec.stopAt) {
    const [job] = await log.jobs.list({ status: 'running' });
    process.stdout.write(`archived ${job?.id}\n`);
    await new Promise(() => undefined);
  }
  return original(query);
};
await log.jobs.runPolicy('default');
process.stdout.write('finished\n');
await log.close();
