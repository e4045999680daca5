// What a `record()` call that waits for room holds until it is stored. With millions of un-awaited
// calls the garbage collector's pauses grow with what they hold (issue 16), so each waiting call
// must keep little more than its row: no suspended async function per API layer, and no promise,
// closure or array of its own beyond the promise record() returns (the buffer builds the event).
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createMemoryStore } from '@eventlog/adapters/memory';
import { holdInserts } from '@eventlog/adapters/testing';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createEventLog } from '../event-log.js';
import { defineEventType } from '../schema/event-type.js';
import { definePreset } from '../schema/preset.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const usage = defineEventType(
  'llm.usage',
  z.object({ requestId: z.string(), stream: z.boolean(), other: z.object({ ratio: z.number(), frt: z.number() }) }),
  { category: 'consumption' },
);
const preset = definePreset({ name: 'waiting-memory', types: [usage] });

describe('memory held by waiting record() calls', () => {
  it('is under 768 bytes per call while 20,000 calls wait for the store', async () => {
    const store = createMemoryStore();
    // The store accepts nothing until the measurement is taken: every call is waiting.
    const open = holdInserts(store);
    const log = createEventLog({ store, presets: [preset], buffer: { maxPending: 1000 } });
    await log.ready();
    const n = 20_000;
    // The caller's events exist before the measurement: only what eventlog holds per call is counted.
    const events = Array.from({ length: n }, (_, i) => ({
      type: 'llm.usage' as const,
      tenantId: `tenant-${i % 24}`,
      actor: { id: `user-${i % 500}`, type: 'user', name: `user ${i % 500}` },
      target: { type: 'token', id: `token-${i % 90}` },
      message: `request ${i}`,
      data: { requestId: `req-${i}`, stream: i % 2 === 0, other: { ratio: 1.5, frt: i % 3000 } },
    }));
    gc();
    gc();
    const before = process.memoryUsage().heapUsed;
    const calls = events.map((event) => log.record(event));
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    gc();
    const perCall = (process.memoryUsage().heapUsed - before) / n;
    open();
    const stored = await Promise.all(calls);
    expect(stored.at(-1)?.data).toEqual(events.at(-1)?.data);
    expect(await log.count()).toBe(n);
    await log.close();
    expect(perCall).toBeLessThan(768);
  }, 60_000);
});
