/**
 * `pnpm run bench:backpressure`: N un-awaited `record()` calls on SQLite (far past `maxPending`, so
 * back-pressure holds most of them), against raw better-sqlite3 inserting the same rows in
 * transactions of the buffer's batch size, in the same run. Also measures how long the event loop
 * stalls while the buffer drains: the longest wall-clock gap between two turns of the loop, and
 * the CPU time the process spent in the longest gap (which a busy machine does not inflate).
 *
 *   pnpm run bench:backpressure [--sizes 20000,100000,2000000] [--json FILE]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { createSqliteStore } from '@eventlog/adapters/sqlite';
import { createEventLog, type EventInput } from '@eventlog/core';
import Database from 'better-sqlite3';
import { createGenerator } from './generate.js';
import { now } from './measure.js';
import { BENCH_PRESETS } from './presets.js';
import { createRowMapper, insertColumns } from './raw-common.js';
import { type BenchResult, formatTable, RATIO_CONVENTION, result, writeJson } from './report.js';

const { values } = parseArgs({
  // `pnpm run <script> -- --flag` passes the `--` on.
  args: process.argv.slice(2).filter((a) => a !== '--'),
  options: {
    sizes: { type: 'string', default: '20000,100000,2000000' },
    json: { type: 'string' },
  },
});
const sizes = values.sizes.split(',').map((s) => Number(s.trim().replaceAll('_', '')));
if (sizes.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`--sizes must list whole numbers, got "${values.sizes}"`);

/**
 * Both sides insert the same events, drawn in order from a pool generated before timing starts
 * (generating is not what is measured, and a pool bounds memory at 2,000,000 calls).
 */
const POOL = 100_000;
/** The buffer's default batch size: raw commits as often as eventlog's fullest batches. */
const RAW_TRANSACTION = 1000;

interface Stalls {
  /** Longest wall-clock gap between turns of the event loop, ms. */
  wallMs: number;
  /** CPU time the process used within its longest gap, ms. */
  cpuMs: number;
}

/** Probes the event loop every millisecond until stopped. */
function probeLoop(): { stop(): Stalls } {
  const histogram = monitorEventLoopDelay({ resolution: 5 });
  let cpuMs = 0;
  let wallMs = 0;
  let lastCpu = process.cpuUsage();
  let lastWall = now();
  const sample = () => {
    const cpu = process.cpuUsage(lastCpu);
    const t = now();
    cpuMs = Math.max(cpuMs, (cpu.user + cpu.system) / 1000);
    wallMs = Math.max(wallMs, t - lastWall);
    lastCpu = process.cpuUsage();
    lastWall = t;
  };
  const timer = setInterval(sample, 1);
  histogram.enable();
  return {
    stop() {
      sample();
      clearInterval(timer);
      histogram.disable();
      return { wallMs: Math.max(wallMs, histogram.max / 1e6), cpuMs };
    },
  };
}

const pools = new Map<number, EventInput[]>();
function eventPool(n: number): EventInput[] {
  const size = Math.min(n, POOL);
  let pool = pools.get(size);
  if (!pool) {
    pool = createGenerator(size).batch(0, size);
    pools.set(size, pool);
  }
  return pool;
}

async function runEventlog(dir: string, n: number): Promise<{ ms: number; cpuMs: number; issueMs: number; stalls: Stalls; count: number }> {
  const log = createEventLog({ store: createSqliteStore({ filename: join(dir, `eventlog-${n}.db`) }), presets: BENCH_PRESETS });
  await log.ready();
  const pool = eventPool(n);
  const cpu0 = process.cpuUsage();
  const started = now();
  let done = 0;
  let failed: unknown;
  const all = new Promise<void>((resolve, reject) => {
    const settle = () => {
      if (++done < n) return;
      if (failed) reject(failed);
      else resolve();
    };
    const fail = (error: unknown) => {
      failed ??= error;
      settle();
    };
    for (let i = 0; i < n; i++) log.record(pool[i % pool.length] as EventInput<string>).then(settle, fail);
  });
  const issueMs = now() - started;
  // The calls above are the host's own synchronous loop; what follows is the buffer draining.
  const probe = probeLoop();
  await all;
  const stalls = probe.stop();
  const ms = now() - started;
  const cpu = process.cpuUsage(cpu0);
  const count = await log.count();
  await log.close();
  return { ms, cpuMs: (cpu.user + cpu.system) / 1000, issueMs, stalls, count };
}

async function runRaw(dir: string, n: number): Promise<{ ms: number; cpuMs: number; count: number }> {
  const file = join(dir, `raw-${n}.db`);
  // The same table and indexes as eventlog's store: let the store create them, then close it.
  const registry = createEventLog({ store: createSqliteStore({ filename: file }), presets: BENCH_PRESETS });
  await registry.ready();
  const schema = registry.registry.storeSchema;
  await registry.close();
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  const columns = insertColumns(schema);
  const toValues = createRowMapper(schema);
  const insert = db.prepare(
    `insert into eventlog_events (${columns.map((c) => `"${c}"`).join(', ')}) values (${columns.map(() => '?').join(', ')})`,
  );
  const insertAll = db.transaction((events: readonly EventInput[]) => {
    for (const event of events) insert.run(toValues(event));
  });
  const pool = eventPool(n);
  const cpu0 = process.cpuUsage();
  const started = now();
  for (let from = 0; from < n; from += RAW_TRANSACTION) {
    const events: EventInput[] = [];
    for (let i = from; i < Math.min(n, from + RAW_TRANSACTION); i++) events.push(pool[i % pool.length] as EventInput);
    insertAll(events);
  }
  const ms = now() - started;
  const cpu = process.cpuUsage(cpu0);
  const count = (db.prepare('select count(*) as n from eventlog_events').get() as { n: number }).n;
  db.close();
  return { ms, cpuMs: (cpu.user + cpu.system) / 1000, count };
}

const dir = mkdtempSync(join(tmpdir(), 'eventlog-bench-backpressure-'));
const results: BenchResult[] = [];
const stallLines: string[] = [];
try {
  for (const n of sizes) {
    const raw = await runRaw(dir, n);
    const eventlog = await runEventlog(dir, n);
    if (eventlog.count !== n || raw.count !== n) throw new Error(`stored ${eventlog.count} (eventlog) and ${raw.count} (raw) of ${n}`);
    const label = `${n.toLocaleString('en-US')} un-awaited record()`;
    results.push(
      result('sqlite', label, 'throughput', (n / eventlog.ms) * 1000, 'events/s', (n / raw.ms) * 1000, {
        note: `${label}: eventlog ${(eventlog.ms / 1000).toFixed(1)} s (issuing the calls ${(eventlog.issueMs / 1000).toFixed(1)} s), raw ${(raw.ms / 1000).toFixed(1)} s in ${RAW_TRANSACTION}-row transactions; CPU ${(eventlog.cpuMs / 1000).toFixed(1)} s vs ${(raw.cpuMs / 1000).toFixed(1)} s (ratio ${(eventlog.cpuMs / raw.cpuMs).toFixed(2)})`,
      }),
    );
    stallLines.push(
      `${label}: longest event-loop stall while draining ${eventlog.stalls.wallMs.toFixed(1)} ms wall clock, ${eventlog.stalls.cpuMs.toFixed(1)} ms CPU`,
    );
    rmSync(join(dir, `eventlog-${n}.db`), { force: true });
    rmSync(join(dir, `raw-${n}.db`), { force: true });
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

console.log(formatTable(results));
for (const r of results) if (r.note) console.log(r.note);
for (const line of stallLines) console.log(line);
console.log(RATIO_CONVENTION);
if (values.json) writeJson(values.json, results);
