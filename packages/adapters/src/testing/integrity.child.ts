/**
 * A child process of the integrity suite's two-process test: opens the store described by argv[2]
 * (a JSON {@link ChildStoreSpec}), waits for `go` on stdin, records argv[3] chained events for the
 * tenants in argv[4] (comma-separated) in small batches, and answers `done <n>` or `error <message>`.
 * Checkpoints are signed with the PEM key in `EVENTLOG_CHAIN_KEY`.
 */
import { createInterface } from 'node:readline';
import { createEventLog, type StorageAdapter } from '@eventlog/core';
import { conformancePreset, NOW } from './fixtures.js';
import type { ChildStoreSpec } from './suites/integrity.js';

const spec = JSON.parse(process.argv[2] ?? '{}') as ChildStoreSpec;
const count = Number(process.argv[3] ?? '0');
const tenants = (process.argv[4] ?? 'shared').split(',');
const module = (await import(spec.module)) as Record<string, (options: unknown) => StorageAdapter>;
const factory = module[spec.factory];
if (!factory) throw new Error(`${spec.module} has no export ${spec.factory}`);
const log = createEventLog({
  store: factory(spec.options),
  presets: [conformancePreset],
  clock: () => NOW,
  integrity: { chain: true, key: process.env.EVENTLOG_CHAIN_KEY, segment: { maxEvents: 40, maxAgeMs: 3_600_000 } },
});
await log.ready();
process.stdout.write('ready\n');
const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  if (line !== 'go') continue;
  try {
    let written = 0;
    while (written < count) {
      const size = Math.min(count - written, 1 + (written % 4));
      const batch = Array.from({ length: size }, (_, i) => ({
        type: 'auth.login' as const,
        tenantId: tenants[(written + i) % tenants.length],
        message: `child ${process.pid} event ${written + i}`,
      }));
      await log.recordMany(batch);
      written += size;
    }
    await log.close();
    process.stdout.write(`done ${written}\n`);
  } catch (error) {
    process.stdout.write(`error ${String((error as Error).message).replace(/\n/g, ' ')}\n`);
  }
  break;
}
lines.close();
