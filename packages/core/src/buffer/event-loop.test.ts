import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createSqliteStore } from '@eventlog/adapters/sqlite';
import { afterEach, describe, expect, it } from 'vitest';
import { createEventLog, type EventLog } from '../event-log.js';
import type { BufferOptions } from './write-buffer.js';

// better-sqlite3 does its work synchronously and the store resolves in microtasks, so a write path
// that goes on to the next batch without a turn of the event loop freezes the host (timers, HTTP)
// for the whole ingest. Each test ingests as fast as it can into a real SQLite file and probes the
// event loop with a 1 ms interval timer. The machines this runs on are shared, and the OS often
// deschedules the whole process for longer than 50 ms, which a wall-clock gap cannot tell apart from
// a stall the process caused itself. So a gap is measured as the CPU time the process spent while
// the loop did not turn (process.cpuUsage, which also counts GC threads, so it errs on the strict
// side); the wall-clock figure under no load is in docs/benchmarks.md.

const dirs: string[] = [];
const logs: EventLog[] = [];
afterEach(async () => {
  await Promise.all(logs.splice(0).map((l) => l.close()));
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const MAX_STALL_MS = 50;

async function sqliteLog(buffer?: BufferOptions): Promise<EventLog> {
  const dir = mkdtempSync(join(tmpdir(), 'eventlog-stall-'));
  dirs.push(dir);
  const log = createEventLog({ store: createSqliteStore({ filename: join(dir, 'events.db') }), dimensions: [{ name: 'model' }], buffer });
  logs.push(log);
  await log.ready();
  return log;
}

const event = (chunk: number, i: number) => ({
  type: 'app.tick',
  message: `event ${chunk}/${i}`,
  tenantId: `t${i % 7}`,
  dimensions: { model: 'm' },
});

/**
 * Runs `ingest` while probing the event loop: the most CPU time the process spent between two turns
 * of the loop, and the longest wall-clock delay. The gap up to the end of the ingest counts too: a
 * write path that never yields shows up only there.
 */
async function measure(ingest: () => Promise<void>): Promise<{ maxStallMs: number; wallMaxMs: number }> {
  const wall = monitorEventLoopDelay({ resolution: 5 });
  let maxStallMs = 0;
  let wallMaxMs = 0;
  let lastCpu = process.cpuUsage();
  let lastWall = performance.now();
  const sample = () => {
    const cpu = process.cpuUsage(lastCpu);
    const now = performance.now();
    maxStallMs = Math.max(maxStallMs, (cpu.user + cpu.system) / 1000);
    wallMaxMs = Math.max(wallMaxMs, now - lastWall);
    lastCpu = process.cpuUsage();
    lastWall = now;
  };
  const probe = setInterval(sample, 1);
  wall.enable();
  try {
    await ingest();
  } finally {
    sample();
    wall.disable();
    clearInterval(probe);
  }
  return { maxStallMs, wallMaxMs: Math.max(wallMaxMs, wall.max / 1e6) };
}

const describeStall = (r: { maxStallMs: number; wallMaxMs: number }) =>
  `longest stall ${r.maxStallMs.toFixed(1)} ms of CPU (${r.wallMaxMs.toFixed(1)} ms wall clock)`;

describe('write path and the event loop', () => {
  it(`does not stall more than ${MAX_STALL_MS} ms while an import awaits recordMany() calls of a full batch`, async () => {
    // A call of exactly maxBatchSize rows used to be written at once, and the next call followed in
    // a microtask: the whole import ran without a turn of the loop. Small batches keep the cost of
    // one insert (which no buffer can split) far below the limit on a busy machine.
    const log = await sqliteLog({ maxBatchSize: 250 });
    const result = await measure(async () => {
      for (let chunk = 0; chunk < 160; chunk++) {
        await log.recordMany(Array.from({ length: 250 }, (_, i) => event(chunk, i)));
      }
    });
    expect(await log.count()).toBe(40_000);
    expect(result.maxStallMs, describeStall(result)).toBeLessThan(MAX_STALL_MS);
  });

  it(`does not stall more than ${MAX_STALL_MS} ms while a burst of un-awaited record() calls drains`, async () => {
    const log = await sqliteLog({ maxPending: 1000, maxBatchSize: 250 });
    // The calls themselves are the host's own synchronous work; what is measured is the drain,
    // past maxPending, so back-pressure is part of it. The burst is kept small enough that collecting
    // the caller's own pending calls does not dominate the gaps, and batches small as in the import.
    const writes: Promise<unknown>[] = [];
    for (let i = 0; i < 5000; i++) writes.push(log.record(event(0, i)));
    const result = await measure(async () => {
      await Promise.all(writes);
    });
    expect(await log.count()).toBe(5000);
    expect(result.maxStallMs, describeStall(result)).toBeLessThan(MAX_STALL_MS);
  });
});
