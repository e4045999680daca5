import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { createSqliteStore } from '@eventlog/adapters/sqlite';
import { createEventLog, type EventInput } from '@eventlog/core';
import { createGenerator, NOW } from './generate.js';
import { BENCH_PRESETS } from './presets.js';

// The CPU cost of `record()` and `recordMany()` outside the store's insert, per event, on an
// SQLite file store. CPU time (not wall time) of this process, so other processes on the machine
// change it little; run it under `node --cpu-prof --import tsx` for the breakdown by function.
// It imports nothing newer than `createEventLog` and `createSqliteStore`, so the same file runs
// on older commits for a before/after comparison.

const USAGE = `Usage: tsx bench/record-cost.ts [--events N] [--warmup N] [--mode record|many|both] [--window N] [--batch N]
  --events N   events measured per mode (default 200000)
  --warmup N   events written before measuring, untimed (default 20000)
  --mode       record: record() calls, --window outstanding at once; many: recordMany() of --batch (default both)
  --window N   concurrent record() calls per window (default 1000, as pnpm bench)
  --batch N    events per recordMany() call (default 10000, as pnpm bench)
  --max-blocking-ms N   the buffer's maxBlockingMs (default: the library's; commits before it ignore it)
  --skip-insert  the store's insert returns ids without writing: the library's own cost alone, with less noise
  --rollups    keep rollups (the benchmark presets' marked dimensions), as EVENTLOG_BENCH_ROLLUPS=1 pnpm bench
  --against DIR  instead: validation alone (createEventNormalizer) of this tree and of the checkout in DIR, in
                 this one process, in alternate rounds of --batch events; prints each round's CPU time ratio
                 (this tree ÷ DIR), which load on the machine changes far less than either time
  --rounds N     rounds per tree with --against (default 20)`;

const { values } = parseArgs({
  options: {
    events: { type: 'string' },
    warmup: { type: 'string' },
    mode: { type: 'string' },
    window: { type: 'string' },
    batch: { type: 'string' },
    'max-blocking-ms': { type: 'string' },
    'skip-insert': { type: 'boolean' },
    rollups: { type: 'boolean' },
    against: { type: 'string' },
    rounds: { type: 'string' },
    help: { type: 'boolean' },
  },
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const events = Number(values.events ?? 200_000);
const warmup = Number(values.warmup ?? 20_000);
const window = Number(values.window ?? 1000);
const batch = Number(values.batch ?? 10_000);
const mode = values.mode ?? 'both';
const skipInsert = values['skip-insert'] === true;
const rollups = values.rollups === true;
const buffer = values['max-blocking-ms'] === undefined ? undefined : { maxBlockingMs: Number(values['max-blocking-ms']) };
if (!['record', 'many', 'both'].includes(mode)) throw new Error(USAGE);

/** User plus system CPU time of this process, in microseconds. */
const cpu = () => {
  const usage = process.cpuUsage();
  return usage.user + usage.system;
};

interface Figures {
  mode: string;
  events: number;
  cpuUsPerEvent: number;
  insertUsPerEvent: number;
  outsideUsPerEvent: number;
  /** Store inserts (transactions) the measured events took. */
  inserts: number;
  wallMs: number;
}

async function measure(kind: 'record' | 'many'): Promise<Figures> {
  const dir = mkdtempSync(join(tmpdir(), 'eventlog-record-cost-'));
  const store = createSqliteStore({ filename: join(dir, 'events.db') });
  // CPU spent from the call of the store's insert to its settlement: the insert itself (the
  // SQLite driver works synchronously, and nothing else is queued while a batch is written).
  let insertUs = 0;
  let inserts = 0;
  let nextId = 1;
  const insert = skipInsert ? async (rows: readonly unknown[]) => rows.map(() => nextId++) : store.insert.bind(store);
  store.insert = async (rows) => {
    inserts++;
    const started = cpu();
    try {
      return await insert(rows);
    } finally {
      insertUs += cpu() - started;
    }
  };
  const log = createEventLog({ store, presets: BENCH_PRESETS, clock: () => NOW, buffer, rollups });
  const generator = createGenerator(warmup + events);
  const write = async (list: readonly EventInput[]) => {
    if (kind === 'many') {
      for (let from = 0; from < list.length; from += batch) await log.recordMany(list.slice(from, from + batch));
      return;
    }
    for (let from = 0; from < list.length; from += window) {
      await Promise.all(list.slice(from, from + window).map((event) => log.record(event)));
    }
  };
  try {
    await log.ready();
    await write(generator.batch(0, warmup));
    // Generated before the clock starts: only the library's work is measured.
    const measured = generator.batch(warmup, events);
    insertUs = 0;
    inserts = 0;
    const wallStarted = performance.now();
    const started = cpu();
    await write(measured);
    const total = cpu() - started;
    const wallMs = performance.now() - wallStarted;
    const stored = skipInsert ? nextId - 1 : await log.count();
    if (stored !== warmup + events) throw new Error(`expected ${warmup + events} rows, the store has ${stored}`);
    return {
      mode: kind === 'many' ? `recordMany (${batch}/call)` : `record (${window} concurrent)`,
      events,
      cpuUsPerEvent: total / events,
      insertUsPerEvent: insertUs / events,
      outsideUsPerEvent: (total - insertUs) / events,
      inserts,
      wallMs,
    };
  } finally {
    await log.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Validation of this tree against another checkout's, alternated in one process: both normalise the
 * same events, and each round's ratio compares two runs a few milliseconds apart.
 */
async function compareNormalize(dir: string, rounds: number): Promise<void> {
  type Normalize = (event: unknown, index?: number) => unknown;
  const load = async (root: string): Promise<Normalize> => {
    const { createEventNormalizer } = await import(pathToFileURL(join(root, 'packages/core/src/schema/event.ts')).href);
    const { createRegistry } = await import(pathToFileURL(join(root, 'packages/core/src/schema/registry.ts')).href);
    return createEventNormalizer(createRegistry({ presets: BENCH_PRESETS }), () => NOW);
  };
  const sides: [string, Normalize][] = [
    ['this tree', await load(join(import.meta.dirname, '..'))],
    [dir, await load(dir)],
  ];
  const list = createGenerator(warmup + batch).batch(0, warmup + batch);
  const keep: unknown[] = [];
  const pass = (normalize: Normalize, from: number, count: number) => {
    // recordMany passes the index, record() does not: half of each.
    for (let i = from; i < from + count; i++) keep[i - from] = i % 2 === 0 ? normalize(list[i]) : normalize(list[i], i);
  };
  for (const [, normalize] of sides) pass(normalize, 0, warmup);
  const ratios: number[] = [];
  const us: number[][] = [[], []];
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? [0, 1] : [1, 0];
    const took = [0, 0];
    for (const side of order) {
      const started = cpu();
      pass(sides[side]![1], warmup, batch);
      took[side] = cpu() - started;
      us[side]!.push(took[side]! / batch);
    }
    ratios.push(took[0]! / took[1]!);
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  console.log(
    `load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}; node ${process.version}; ${rounds} rounds of ${batch} events each`,
  );
  console.log(`validation CPU µs/event, median: this tree ${median(us[0]!).toFixed(2)}, ${dir} ${median(us[1]!).toFixed(2)}`);
  console.log(`ratio this tree ÷ ${dir}, per round: ${ratios.map((r) => r.toFixed(2)).join(' ')}`);
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  // Each side goes first in half the rounds, so garbage one leaves for the other evens out in the sum.
  console.log(`median ratio ${median(ratios).toFixed(2)}; ratio of the sums ${(sum(us[0]!) / sum(us[1]!)).toFixed(2)}`);
}

if (values.against !== undefined) {
  await compareNormalize(values.against, Number(values.rounds ?? 20));
  process.exit(0);
}

const results: Figures[] = [];
if (mode !== 'many') results.push(await measure('record'));
if (mode !== 'record') results.push(await measure('many'));
const round = (n: number) => Math.round(n * 100) / 100;
console.log(
  `load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}; node ${process.version}`,
);
console.table(
  results.map((r) => ({
    mode: r.mode,
    events: r.events,
    'CPU µs/event': round(r.cpuUsPerEvent),
    'in insert µs/event': round(r.insertUsPerEvent),
    'outside insert µs/event': round(r.outsideUsPerEvent),
    inserts: r.inserts,
    'wall ms': Math.round(r.wallMs),
  })),
);
