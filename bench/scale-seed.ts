import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { createSqliteStore } from '@eventlog/adapters/sqlite';
import { createEventLog, type EventInput, type EventLog } from '@eventlog/core';
import { DEMO_MODULES } from '../examples/demo/src/modules.js';
import { seedModules } from '../examples/shared/src/seed.js';

// Filling the scale stores, and item 5 of issue 14: the demo's seeding compared with recordMany.

/** Seeds ~`total` demo events (total / modules bulk events per module plus their scenarios). */
export async function seedDemo(log: EventLog, total: number, say: (m: string) => void): Promise<{ events: number; ms: number }> {
  const t = performance.now();
  const perModule = Math.ceil(total / DEMO_MODULES.length);
  const events = await seedModules(log, DEMO_MODULES, perModule, Date.now());
  const ms = performance.now() - t;
  say(`seeded ${events} events: ${Math.round(events / (ms / 1000)).toLocaleString('en-US')} events/s`);
  return { events, ms };
}

/**
 * The events the demo's seeding records, collected instead of stored: a log whose writes only keep
 * what they receive (session calls hand back nothing).
 */
async function collectDemoEvents(total: number, now: number): Promise<EventInput[]> {
  const events: EventInput[] = [];
  const collector = {
    async recordMany(batch: readonly EventInput[]) {
      for (const e of batch) events.push(e);
      return [];
    },
    async record(e: EventInput) {
      events.push(e);
      return {};
    },
    sessions: {
      async open(e: EventInput) {
        events.push(e);
        return {};
      },
      list: async () => [],
      close: async () => null,
    },
  } as unknown as EventLog;
  await seedModules(collector, DEMO_MODULES, Math.ceil(total / DEMO_MODULES.length), now);
  return events;
}

/** Times the demo's seeding of ~`total` events and `recordMany` of the same events, each into a fresh SQLite file. */
export async function seedCheck(total: number, dataDir: string, say: (m: string) => void): Promise<void> {
  const presets = [...new Set(DEMO_MODULES.flatMap((m) => m.presets))];
  const fresh = (name: string) => {
    const file = join(dataDir, `seed-check-${name}.db`);
    for (const suffix of ['', '-wal', '-shm']) rmSync(file + suffix, { force: true });
    return createEventLog({ store: createSqliteStore({ filename: file }), presets, allowUnknownTypes: true });
  };
  const now = Date.now();
  const events = await collectDemoEvents(total, now);
  const rates: Record<string, number[]> = { seed: [], recordMany: [] };
  for (let round = 0; round < 2; round++) {
    for (const side of round === 0 ? ['seed', 'recordMany'] : ['recordMany', 'seed']) {
      const log = fresh(side);
      await log.ready();
      const t = performance.now();
      let n: number;
      if (side === 'seed') n = await seedModules(log, DEMO_MODULES, Math.ceil(total / DEMO_MODULES.length), now);
      else {
        for (let i = 0; i < events.length; i += 10_000) await log.recordMany(events.slice(i, i + 10_000));
        n = events.length;
      }
      const rate = n / ((performance.now() - t) / 1000);
      await log.close();
      rates[side]?.push(rate);
      say(`${side}: ${n} events, ${Math.round(rate).toLocaleString('en-US')} events/s`);
    }
  }
  const best = (side: string) => Math.max(...(rates[side] ?? []));
  console.log(
    `demo seeding ${Math.round(best('seed')).toLocaleString('en-US')} events/s, recordMany of the same events (10,000 a call) ` +
      `${Math.round(best('recordMany')).toLocaleString('en-US')} events/s: ${(best('seed') / best('recordMany')).toFixed(2)}× (best of two each)`,
  );
}
