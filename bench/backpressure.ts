/**
 * `pnpm run bench:backpressure`: N un-awaited `record()` calls on SQLite (far past `maxPending`, so
 * back-pressure holds most of them), against raw better-sqlite3 inserting the same rows in
 * transactions of the buffer's batch size, in the same run. Also measures how long the event loop
 * stalls while the buffer drains: the longest wall-clock gap between two turns of the loop, and
 * the CPU time the process spent in the longest gap (which a busy machine does not inflate); the
 * longest garbage-collection pause and the heap's peak.
 *
 * The baseline part has no eventlog at all: it holds N pending promises, each keeping nothing or one
 * event object alive, and settles them 1,000 per turn of the loop, as a drain would. Its pauses are
 * what the caller's own promises and objects cost the collector, the floor for eventlog's.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createMemoryStore } from '@eventlog/adapters/memory';
import { createSqliteStore } from '@eventlog/adapters/sqlite';
import { createEventLog, type EventInput } from '@eventlog/core';
import Database from 'better-sqlite3';
import { holdInserts } from '../packages/adapters/src/testing/store-probes.js';
import { createGenerator } from './generate.js';
import { now } from './measure.js';
import { BENCH_PRESETS } from './presets.js';
import { createRowMapper, insertColumns } from './raw-common.js';
import { type BenchResult, formatTable, RATIO_CONVENTION, result, writeJson } from './report.js';

const USAGE = `pnpm run bench:backpressure [--sizes 20000,100000,2000000] [--parts raw,eventlog,baseline] [--json FILE]

  --sizes   numbers of un-awaited record() calls, one run each (default 20000,100000,2000000)
  --parts   what to run per size (default all three):
              raw       better-sqlite3 inserting the same rows (the ratio's denominator)
              eventlog  the un-awaited record() calls: time, stalls, GC pauses, heap peak
              baseline  no eventlog: N pending promises settled 1,000 per turn; once holding
                        nothing, once the pooled events eventlog sees, once a fresh copy per call
              fullgc    N record() calls waiting on a memory store that accepts nothing yet: heap
                        held per call, and the CPU time of a forced full garbage collection (the
                        longest pause a collection over them can take), median of 3
            Run a part alone for a clean heap: at 2,000,000 calls each part nears the heap limit.
  --json    also write the ratios as JSON`;

const { values } = parseArgs({
  // `pnpm run <script> -- --flag` passes the `--` on.
  args: process.argv.slice(2).filter((a) => a !== '--'),
  options: {
    sizes: { type: 'string', default: '20000,100000,2000000' },
    parts: { type: 'string', default: 'raw,eventlog,baseline' },
    json: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const sizes = values.sizes.split(',').map((s) => Number(s.trim().replaceAll('_', '')));
if (sizes.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`--sizes must list whole numbers, got "${values.sizes}"`);
const parts = new Set(values.parts.split(',').map((s) => s.trim()));
for (const part of parts)
  if (!['raw', 'eventlog', 'baseline', 'fullgc'].includes(part)) throw new Error(`unknown part "${part}"\n${USAGE}`);

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
  /** Longest single garbage-collection pause, ms (wall clock). */
  gcMaxMs: number;
  /** All garbage-collection pauses added up, ms. */
  gcTotalMs: number;
  /** Largest heap in use seen, MB. */
  heapPeakMb: number;
}

const heapMb = () => process.memoryUsage().heapUsed / 1048576;

/** Probes the event loop every millisecond until stopped; GC pauses and the heap are watched from the start. */
function probeLoop(): { draining(): void; stop(): Stalls } {
  const histogram = monitorEventLoopDelay({ resolution: 5 });
  let gcMaxMs = 0;
  let gcTotalMs = 0;
  const gc = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      gcMaxMs = Math.max(gcMaxMs, entry.duration);
      gcTotalMs += entry.duration;
    }
  });
  gc.observe({ entryTypes: ['gc'] });
  let heapPeakMb = heapMb();
  let cpuMs = 0;
  let wallMs = 0;
  let lastCpu = process.cpuUsage();
  let lastWall = now();
  let samples = 0;
  let timer: ReturnType<typeof setInterval> | undefined;
  const sample = () => {
    const cpu = process.cpuUsage(lastCpu);
    const t = now();
    cpuMs = Math.max(cpuMs, (cpu.user + cpu.system) / 1000);
    wallMs = Math.max(wallMs, t - lastWall);
    // Reading the heap costs more than a clock: every 20th probe.
    if (++samples % 20 === 0) heapPeakMb = Math.max(heapPeakMb, heapMb());
    lastCpu = process.cpuUsage();
    lastWall = now();
  };
  return {
    /** The caller's synchronous loop is over: from here on, gaps between turns are stalls. */
    draining() {
      heapPeakMb = Math.max(heapPeakMb, heapMb());
      lastCpu = process.cpuUsage();
      lastWall = now();
      timer = setInterval(sample, 1);
      histogram.enable();
    },
    stop() {
      sample();
      clearInterval(timer);
      histogram.disable();
      gc.disconnect();
      return { wallMs: Math.max(wallMs, histogram.max / 1e6), cpuMs, gcMaxMs, gcTotalMs, heapPeakMb };
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
  const probe = probeLoop();
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
  probe.draining();
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

/** What each pending promise of the baseline holds. */
type Held = 'nothing' | 'pooled' | 'fresh';

const HELD: Record<Held, string> = {
  nothing: 'nothing (plain promises only)',
  pooled: 'pooled events',
  fresh: 'a fresh copy of an event each',
};

/**
 * No eventlog: N pending promises, each holding nothing, or one event (the pooled object, or a
 * fresh copy as a host building one per call would), settled 1,000 per turn of the loop like a drain.
 */
async function runBaseline(n: number, held: Held): Promise<{ ms: number; stalls: Stalls }> {
  const pool = eventPool(n);
  const probe = probeLoop();
  const started = now();
  const resolvers: (() => void)[] = new Array(n);
  let done = 0;
  const all = new Promise<void>((resolve) => {
    const settle = () => {
      if (++done === n) resolve();
    };
    for (let i = 0; i < n; i++) {
      if (held === 'nothing') {
        new Promise<void>((resolve) => {
          resolvers[i] = resolve;
        }).then(settle);
        continue;
      }
      const event = held === 'fresh' ? structuredClone(pool[i % pool.length]!) : pool[i % pool.length]!;
      new Promise<EventInput>((resolve) => {
        resolvers[i] = () => resolve(event);
      }).then(settle);
    }
  });
  probe.draining();
  for (let from = 0; from < n; from += RAW_TRANSACTION) {
    await new Promise((resolve) => setImmediate(resolve));
    for (let i = from; i < Math.min(n, from + RAW_TRANSACTION); i++) {
      resolvers[i]!();
      resolvers[i] = undefined as unknown as () => void;
    }
  }
  await all;
  return { ms: now() - started, stalls: probe.stop() };
}

/**
 * N `record()` calls waiting on a memory store that accepts nothing until measured: the heap they
 * hold per call and the CPU time of a forced full (non-incremental) collection over them.
 */
async function runFullGc(n: number): Promise<{ bytesPerCall: number; gcCpuMs: number[]; idleGcCpuMs: number[] }> {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const store = createMemoryStore();
  const open = holdInserts(store);
  const log = createEventLog({ store, presets: BENCH_PRESETS });
  await log.ready();
  // A small pool: the caller's events are then a negligible part of the heap being collected.
  const pool = eventPool(1000);
  const fullGc = () => {
    const times: number[] = [];
    for (let i = 0; i < 3; i++) {
      const cpu = process.cpuUsage();
      gc();
      const used = process.cpuUsage(cpu);
      times.push((used.user + used.system) / 1000);
    }
    return times.sort((a, b) => a - b);
  };
  const idleGcCpuMs = fullGc();
  const before = process.memoryUsage().heapUsed;
  let done = 0;
  const all = new Promise<void>((resolve, reject) => {
    for (let i = 0; i < n; i++) {
      log.record(pool[i % pool.length] as EventInput<string>).then(() => {
        if (++done === n) resolve();
      }, reject);
    }
  });
  await new Promise((resolve) => setImmediate(resolve));
  const gcCpuMs = fullGc();
  const bytesPerCall = (process.memoryUsage().heapUsed - before) / n;
  open();
  await all;
  await log.close();
  return { bytesPerCall, gcCpuMs, idleGcCpuMs };
}

const describe = (s: Stalls) =>
  `longest stall ${s.wallMs.toFixed(1)} ms wall clock (${s.cpuMs.toFixed(1)} ms CPU); longest GC pause ${s.gcMaxMs.toFixed(1)} ms, GC total ${(s.gcTotalMs / 1000).toFixed(2)} s; heap peak ${s.heapPeakMb.toFixed(0)} MB`;

const dir = mkdtempSync(join(tmpdir(), 'eventlog-bench-backpressure-'));
const results: BenchResult[] = [];
const stallLines: string[] = [];
try {
  for (const n of sizes) {
    const label = `${n.toLocaleString('en-US')} un-awaited record()`;
    const raw = parts.has('raw') ? await runRaw(dir, n) : undefined;
    if (raw && raw.count !== n) throw new Error(`raw stored ${raw.count} of ${n}`);
    if (raw) stallLines.push(`${label}: raw ${(raw.ms / 1000).toFixed(1)} s, CPU ${(raw.cpuMs / 1000).toFixed(1)} s`);
    if (parts.has('eventlog')) {
      const eventlog = await runEventlog(dir, n);
      if (eventlog.count !== n) throw new Error(`eventlog stored ${eventlog.count} of ${n}`);
      if (raw) {
        results.push(
          result('sqlite', label, 'throughput', (n / eventlog.ms) * 1000, 'events/s', (n / raw.ms) * 1000, {
            note: `${label}: eventlog ${(eventlog.ms / 1000).toFixed(1)} s (issuing the calls ${(eventlog.issueMs / 1000).toFixed(1)} s), raw ${(raw.ms / 1000).toFixed(1)} s in ${RAW_TRANSACTION}-row transactions; CPU ${(eventlog.cpuMs / 1000).toFixed(1)} s vs ${(raw.cpuMs / 1000).toFixed(1)} s (ratio ${(eventlog.cpuMs / raw.cpuMs).toFixed(2)})`,
          }),
        );
      }
      stallLines.push(
        `${label}: eventlog ${(eventlog.ms / 1000).toFixed(1)} s (issuing ${(eventlog.issueMs / 1000).toFixed(1)} s), CPU ${(eventlog.cpuMs / 1000).toFixed(1)} s; while draining: ${describe(eventlog.stalls)}`,
      );
    }
    if (parts.has('fullgc')) {
      const full = await runFullGc(n);
      stallLines.push(
        `${n.toLocaleString('en-US')} record() calls waiting (memory store): ${full.bytesPerCall.toFixed(0)} B of heap per call; forced full GC ${full.gcCpuMs[1]!.toFixed(0)} ms CPU (median of ${full.gcCpuMs.map((t) => t.toFixed(0)).join(', ')}; ${full.idleGcCpuMs[1]!.toFixed(0)} ms before the calls)`,
      );
    }
    if (parts.has('baseline')) {
      for (const held of ['nothing', 'pooled', 'fresh'] as const) {
        const baseline = await runBaseline(n, held);
        stallLines.push(
          `${n.toLocaleString('en-US')} pending promises holding ${HELD[held]} (no eventlog), ${(baseline.ms / 1000).toFixed(1)} s: ${describe(baseline.stalls)}`,
        );
      }
    }
    rmSync(join(dir, `eventlog-${n}.db`), { force: true });
    rmSync(join(dir, `raw-${n}.db`), { force: true });
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

if (results.length > 0) console.log(formatTable(results));
for (const r of results) if (r.note) console.log(r.note);
for (const line of stallLines) console.log(line);
console.log(
  `load average: ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
if (results.length > 0) console.log(RATIO_CONVENTION);
if (values.json) writeJson(values.json, results);
