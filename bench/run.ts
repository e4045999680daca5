import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createEventLog, type EventLog } from '@eventlog/core';
import type { EngineContext, EngineModule, RawHandle } from './engine.js';
import { ENGINES, loadEngine } from './engines/index.js';
import { createGenerator, DEFAULT_SEED, NOW } from './generate.js';
import { httpPageWorkload } from './http-workload.js';
import { importWorkload } from './import-workload.js';
import { now } from './measure.js';
import { BENCH_PRESETS } from './presets.js';
import { type BenchResult, formatTable, meets, RATIO_CONVENTION, writeJson } from './report.js';
import {
  type BenchContext,
  exportWorkload,
  ingestBatch,
  ingestRecord,
  keysetWorkload,
  pageWorkload,
  pruneWorkload,
  statsWorkload,
  timelineWorkload,
  topWorkload,
  WORKLOADS,
  type WorkloadId,
} from './workloads.js';

const USAGE = `Usage: pnpm bench [options]
       pnpm bench scale [options]   (bench/scale.ts: every product endpoint at 100 k … 10 M events)
       pnpm bench http [options]    (bench/http.ts: a paged query through the handler vs the core)

  --rows N            events to generate and ingest (default 1000000)
  --engines LIST      comma-separated: ${Object.keys(ENGINES).join(', ')} (default sqlite)
  --workloads LIST    comma-separated subset of: ${WORKLOADS.join(', ')} (default all)
  --json FILE         also write the results as a JSON array of { engine, workload, value, unit, raw, ratio }
  --batch N           events per recordMany call and per raw transaction (default 10000)
  --window N          concurrent record() calls, and the raw transaction size they are compared with (default 1000)
  --seed N            generator seed (default ${DEFAULT_SEED})
  --budget MS         time budget per query workload, both sides together (default 6000)
  --help`;

interface Options {
  rows: number;
  engines: string[];
  workloads: Set<WorkloadId>;
  json: string | undefined;
  batch: number;
  window: number;
  seed: number;
  budgetMs: number;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      rows: { type: 'string' },
      engines: { type: 'string' },
      workloads: { type: 'string' },
      json: { type: 'string' },
      batch: { type: 'string' },
      window: { type: 'string' },
      seed: { type: 'string' },
      budget: { type: 'string' },
      help: { type: 'boolean' },
    },
    allowPositionals: false,
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const int = (name: string, value: string | undefined, fallback: number, min = 1) => {
    if (value === undefined) return fallback;
    const n = Number(value.replaceAll('_', ''));
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be a whole number ≥ ${min}, got "${value}"`);
    return n;
  };
  const list = (value: string | undefined) =>
    (value ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  const engines = values.engines === undefined ? ['sqlite'] : list(values.engines);
  for (const e of engines) if (!ENGINES[e]) throw new Error(`Unknown engine "${e}"; known: ${Object.keys(ENGINES).join(', ')}`);
  const workloads = values.workloads === undefined ? [...WORKLOADS] : list(values.workloads);
  for (const w of workloads) {
    if (!(WORKLOADS as readonly string[]).includes(w)) throw new Error(`Unknown workload "${w}"; known: ${WORKLOADS.join(', ')}`);
  }
  return {
    rows: int('rows', values.rows, 1_000_000, 1000),
    engines,
    workloads: new Set(workloads as WorkloadId[]),
    json: values.json,
    batch: int('batch', values.batch, 10_000),
    window: int('window', values.window, 1000),
    seed: int('seed', values.seed, DEFAULT_SEED, 0),
    budgetMs: int('budget', values.budget, 6000),
  };
}

const started = now();
const progress = (engine: string) => (message: string) => {
  console.error(`[${((now() - started) / 1000).toFixed(0).padStart(4)} s] ${engine}: ${message}`);
};

async function runEngine(
  engine: EngineModule,
  options: Options,
  context: EngineContext,
  results: BenchResult[],
  problems: string[],
  skipped: string[],
): Promise<void> {
  const say = progress(engine.name);
  const generator = createGenerator(options.rows, options.seed);
  const newLog = async (slot: string) => {
    const handle = await engine.createStore(context, slot);
    // As the library's default, without rollups; EVENTLOG_BENCH_ROLLUPS=1 measures a log that keeps and reads them.
    const rollups = process.env.EVENTLOG_BENCH_ROLLUPS === '1';
    const log: EventLog = createEventLog({ store: handle.store, presets: BENCH_PRESETS, clock: () => NOW, rollups });
    return { log, location: handle.location, drop: () => handle.drop() };
  };
  let main: Awaited<ReturnType<typeof newLog>> | undefined;
  let raw: RawHandle | undefined;
  try {
    main = await newLog('main');
    await main.log.ready();
    const schema = main.log.registry.storeSchema;
    raw = await engine.createRaw(context, 'main', schema);
    for (const p of await engine.compareSchemas(main.location, raw.location)) problems.push(`${engine.name}: schema: ${p}`);
    const bench: BenchContext = {
      engine,
      context,
      generator,
      rows: options.rows,
      batchSize: options.batch,
      window: options.window,
      query: { warmup: 10, minIterations: 20, maxIterations: 1000, budgetMs: options.budgetMs },
      log: main.log,
      storeLocation: main.location,
      raw,
      schema,
      report: (r) => {
        results.push(r);
        say(`${r.workload}: ${r.value.toFixed(2)} ${r.unit} (raw ${r.raw.toFixed(2)}, ratio ${r.ratio.toFixed(2)})`);
      },
      problem: (message) => {
        problems.push(`${engine.name}: ${message}`);
        say(`PROBLEM ${message}`);
      },
      skipped: (what, reason) => {
        skipped.push(`${engine.name} ${what}: ${reason}`);
        say(`${what}: skipped: ${reason}`);
      },
      progress: say,
    };
    // Selected, and not declined by the engine (which is then said with its reason).
    const w = (id: Exclude<WorkloadId, 'ingest-batch'>) => {
      if (!options.workloads.has(id)) return false;
      const reason = engine.skip?.[id];
      if (reason) bench.skipped(id, reason);
      return !reason;
    };
    // Every later workload reads the data this loads, so it always runs; it is reported when selected.
    await ingestBatch(bench, options.workloads.has('ingest-batch'));
    if (engine.analyze) {
      say('analyze: planner statistics of both tables');
      await engine.analyze(main.location, raw.location);
    }
    if (w('ingest-record')) await ingestRecord(bench, newLog);
    if (w('page')) await pageWorkload(bench);
    if (w('keyset')) await keysetWorkload(bench);
    if (w('stats')) await statsWorkload(bench);
    if (w('timeline')) await timelineWorkload(bench);
    if (w('top')) await topWorkload(bench);
    if (w('export')) await exportWorkload(bench);
    if (w('prune')) await pruneWorkload(bench);
    if (w('import')) await importWorkload(bench);
    if (w('http-page')) await httpPageWorkload(bench);
  } finally {
    const quietly = (what: string, p: Promise<unknown> | undefined) =>
      p?.catch((error: unknown) => say(`cleanup (${what}) failed: ${error instanceof Error ? error.message : String(error)}`));
    await quietly('close log', main?.log.close());
    await quietly('close raw', raw?.close());
    await quietly('drop store', main?.drop());
    await quietly('drop raw', raw?.drop());
    await quietly('engine', engine.cleanup?.(context));
  }
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2).filter((a) => a !== '--'));
  const tmpDir = mkdtempSync(join(tmpdir(), 'eventlog-bench-'));
  // Short (it ends up in table prefixes, at most 16 characters), lowercase, unique enough per run.
  const context: EngineContext = { tmpDir, runId: `b${randomBytes(4).readUInt32BE(0).toString(36).padStart(6, '0').slice(-5)}` };
  const cleanup = () => rmSync(tmpDir, { recursive: true, force: true });
  process.once('SIGINT', () => {
    cleanup();
    process.exit(130);
  });
  const results: BenchResult[] = [];
  const problems: string[] = [];
  const skipped: string[] = [];
  const notMeasured: string[] = [];
  console.error(
    `eventlog bench: ${options.rows.toLocaleString('en-US')} events, seed ${options.seed}, engines ${options.engines.join(',')}; ` +
      `${cpus()[0]?.model ?? 'unknown CPU'} × ${cpus().length}, ${(totalmem() / 2 ** 30).toFixed(0)} GB, Node ${process.version}; temp ${tmpDir}`,
  );
  try {
    for (const name of options.engines) {
      const engine = await loadEngine(name);
      const reason = await engine.check();
      if (reason) {
        skipped.push(`${name}: ${reason}`);
        progress(name)(`skipped: ${reason}`);
        continue;
      }
      await runEngine(engine, options, context, results, problems, notMeasured);
    }
  } finally {
    cleanup();
  }

  console.log(`\n${formatTable(results)}\n`);
  console.log(RATIO_CONVENTION);
  console.log(
    `Run: ${options.rows.toLocaleString('en-US')} events, ${((now() - started) / 1000).toFixed(0)} s in total, ${new Date().toISOString()}.`,
  );
  const notes = results.filter((r) => r.note).map((r) => `  ${r.engine} ${r.workload}: ${r.note}`);
  if (notes.length) console.log(`Notes:\n${notes.join('\n')}`);
  const missed = results.filter((r) => meets(r) === false);
  if (missed.length) console.log(`Targets missed: ${missed.map((r) => `${r.engine} ${r.workload}`).join('; ')}`);
  if (skipped.length) console.log(`Skipped engines:\n${skipped.map((s) => `  ${s}`).join('\n')}`);
  if (notMeasured.length) console.log(`Not compared (the engine says why):\n${notMeasured.map((s) => `  ${s}`).join('\n')}`);
  if (problems.length) {
    console.log(`Correctness problems (eventlog and raw disagree):\n${problems.map((p) => `  ${p}`).join('\n')}`);
    process.exitCode = 1;
  }
  if (options.json) {
    writeJson(options.json, results);
    console.log(`Wrote ${results.length} results to ${options.json}`);
  }
}

// `pnpm bench scale …` and `pnpm bench http …` run the workloads that have their own options.
const SUBCOMMANDS: Record<string, string> = { scale: './scale.js', http: './http.js' };
const subcommand = SUBCOMMANDS[process.argv[2] ?? ''];
if (subcommand) {
  process.argv.splice(2, 1);
  await import(subcommand);
} else {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : error);
    process.exitCode = 1;
  });
}
