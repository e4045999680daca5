import type { EventLog } from '@eventlog/core';
import { createRandom } from './random.js';
import type { ExampleModule } from './run.js';

/**
 * Seeds every module's demo data into `log`: `size` bulk events per module on top of its fixed
 * scenario, anchored at `now`, each module with its own seeded generator (the same data on every
 * run). Resolves with the number of events recorded.
 */
export async function seedModules(log: EventLog, modules: readonly ExampleModule[], size: number, now: number): Promise<number> {
  let seeded = 0;
  for (const [index, module] of modules.entries()) {
    seeded += await module.seed({ log, size, now, random: createRandom(0x5eed + index * 7919) });
  }
  return seeded;
}
