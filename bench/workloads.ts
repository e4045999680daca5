import type { CursorResult, EventInput, EventLog, StoreSchema } from '@eventlog/core';
import type { EngineContext, EngineModule, Location, RawHandle, RawInsertMethod } from './engine.js';
import { DAY, DST_ZONE, type EventGenerator, HOUR, NOW, TENANTS } from './generate.js';
import { now, type PairOptions, quantile, sleep, startWriter, type TimedWriter, timePair } from './measure.js';
import { type BenchResult, result, type Target } from './report.js';

export { exportWorkload } from './export-workload.js';

/** Workload ids accepted by `--workloads`, in the order they run. */
export const WORKLOADS = [
  'ingest-batch',
  'ingest-record',
  'page',
  'keyset',
  'stats',
  'timeline',
  'top',
  'export',
  'prune',
  'import',
  'http-page',
] as const;
export type WorkloadId = (typeof WORKLOADS)[number];

/** Everything a workload needs. */
export interface BenchContext {
  readonly engine: EngineModule;
  readonly context: EngineContext;
  readonly generator: EventGenerator;
  readonly rows: number;
  /** Events per `recordMany` call and per raw transaction. */
  readonly batchSize: number;
  /** Concurrent `record` calls per window, and the raw transaction size compared with them. */
  readonly window: number;
  readonly query: PairOptions;
  readonly log: EventLog;
  readonly storeLocation: Location;
  readonly raw: RawHandle;
  readonly schema: StoreSchema;
  /** Adds a figure to the report. */
  report(r: BenchResult): void;
  /** Records a correctness problem (eventlog and raw disagree). */
  problem(message: string): void;
  /** Records something not measured on this engine, and why (see `EngineModule.skip`). */
  skipped(what: string, reason: string): void;
  progress(message: string): void;
}

const SHORT_TARGET: Target = { maxRatio: 1.5 };

// ---- ingest ---------------------------------------------------------------------------------

interface IngestSide {
  name: string;
  /** Inserts one unit of events. */
  run(events: readonly EventInput[]): Promise<unknown>;
  ms: number;
}

/**
 * Feeds the same generated units to every side in turn (rotating who goes first), timing only the
 * inserts: generation is shared and untimed, and load from other processes hits all sides alike.
 */
async function feed(bench: BenchContext, label: string, unit: number, sides: IngestSide[]): Promise<void> {
  let nextReport = 0.1;
  for (let from = 0, u = 0; from < bench.rows; from += unit, u++) {
    const events = bench.generator.batch(from, Math.min(unit, bench.rows - from));
    for (let s = 0; s < sides.length; s++) {
      const side = sides[(s + u) % sides.length] as IngestSide;
      const t0 = now();
      await side.run(events);
      side.ms += now() - t0;
    }
    if ((from + unit) / bench.rows >= nextReport) {
      bench.progress(`${label}: ${Math.min(bench.rows, from + unit).toLocaleString('en-US')} / ${bench.rows.toLocaleString('en-US')}`);
      nextReport += 0.1;
    }
  }
}

function reportIngest(bench: BenchContext, workload: string, eventlog: IngestSide, raws: IngestSide[], target: Target, note: string): void {
  const rate = (side: IngestSide) => bench.rows / (side.ms / 1000);
  const best = raws.reduce((a, b) => (rate(b) > rate(a) ? b : a));
  const detail = raws.length > 1 ? `; raw methods: ${raws.map((r) => `${r.name} ${Math.round(rate(r))}/s`).join(', ')}` : '';
  bench.report(
    result(bench.engine.name, workload, 'throughput', rate(eventlog), 'events/s', rate(best), {
      target,
      note: `${note}; raw = ${best.name}${detail}`,
    }),
  );
  if (raws.length > 1) {
    for (const r of raws) {
      if (r === best) continue;
      bench.report(result(bench.engine.name, `${workload} vs ${r.name}`, 'throughput', rate(eventlog), 'events/s', rate(r)));
    }
  }
}

async function checkCount(bench: BenchContext, label: string, eventlogCount: number, raw: RawHandle): Promise<void> {
  const rawCount = await raw.count();
  if (eventlogCount !== bench.rows || rawCount !== bench.rows) {
    bench.problem(`${label}: expected ${bench.rows} rows, eventlog has ${eventlogCount}, raw has ${rawCount}`);
  }
}

/**
 * Loads the main store and raw table (used by every later workload) with `recordMany` in
 * `batchSize` batches against raw transactions of the same size, and reports it when asked.
 * Extra raw methods (e.g. COPY next to INSERT) fill their own scratch tables.
 */
export async function ingestBatch(bench: BenchContext, selected: boolean): Promise<void> {
  const eventlog: IngestSide = { name: 'eventlog', run: (events) => bench.log.recordMany(events), ms: 0 };
  const [first, ...others] = bench.raw.insertMethods;
  if (!first) throw new Error(`${bench.engine.name}: the raw side has no insert method`);
  const scratch: RawHandle[] = [];
  const extra: IngestSide[] = [];
  if (selected) {
    for (const [i, method] of others.entries()) {
      const table = await bench.engine.createRaw(bench.context, `ingest${i + 2}`, bench.schema);
      scratch.push(table);
      const same = table.insertMethods.find((m) => m.name === method.name) ?? method;
      extra.push({ name: same.name, run: (events) => same.insert(events), ms: 0 });
    }
  }
  const main: IngestSide = { name: first.name, run: (events) => first.insert(events), ms: 0 };
  try {
    await feed(bench, 'ingest recordMany', bench.batchSize, [eventlog, main, ...extra]);
  } finally {
    for (const table of scratch) {
      await table.close();
      await table.drop();
    }
  }
  await checkCount(bench, 'ingest recordMany', await bench.log.count(), bench.raw);
  if (selected) {
    reportIngest(
      bench,
      `ingest recordMany (${bench.batchSize}/call)`,
      eventlog,
      [main, ...extra],
      { maxRatio: 1 / 0.7 },
      `${bench.rows} events`,
    );
  }
}

/**
 * Individual `record` calls, `window` of them outstanding at once (as a web server issues them),
 * into a fresh store, against raw transactions of `window` rows on a fresh table.
 */
export async function ingestRecord(
  bench: BenchContext,
  createLog: (slot: string) => Promise<{ log: EventLog; drop(): Promise<void> }>,
): Promise<void> {
  const target = await createLog('record');
  const raws = await Promise.all(
    bench.raw.insertMethods.map((_, i) => bench.engine.createRaw(bench.context, `record${i + 1}`, bench.schema)),
  );
  try {
    await target.log.ready();
    const eventlog: IngestSide = {
      name: 'eventlog',
      run: (events) => Promise.all(events.map((e) => target.log.record(e))),
      ms: 0,
    };
    const sides = raws.map((table, i) => {
      const method = table.insertMethods[i] as RawInsertMethod;
      return { name: method.name, run: (events: readonly EventInput[]) => method.insert(events), ms: 0 };
    });
    await feed(bench, 'ingest record', bench.window, [eventlog, ...sides]);
    await checkCount(bench, 'ingest record', await target.log.count(), raws[0] as RawHandle);
    reportIngest(
      bench,
      `ingest record (${bench.window} concurrent)`,
      eventlog,
      sides,
      { maxRatio: 1 / 0.5 },
      `${bench.rows} events; raw transactions of ${bench.window}`,
    );
  } finally {
    await target.log.close();
    await target.drop();
    for (const table of raws) {
      await table.close();
      await table.drop();
    }
  }
}

// ---- queries --------------------------------------------------------------------------------

async function timeQuery(
  bench: BenchContext,
  name: string,
  eventlog: () => Promise<unknown>,
  raw: () => Promise<unknown>,
  target: Target | undefined,
  note: string,
): Promise<void> {
  bench.progress(`${name}: timing`);
  const timing = await timePair(eventlog, raw, bench.query);
  const n = timing.eventlog.length;
  const cpuRatio = quantile(timing.eventlogCpu, 0.5) / quantile(timing.rawCpu, 0.5);
  for (const [label, q] of [
    ['p50', 0.5],
    ['p95', 0.95],
  ] as const) {
    bench.report(
      result(bench.engine.name, `${name} ${label}`, 'time', quantile(timing.eventlog, q), 'ms', quantile(timing.raw, q), {
        ...(label === 'p50' && target ? { target } : {}),
        note: `${note}; ${n} runs each${label === 'p50' ? `; CPU-time p50 ratio ${cpuRatio.toFixed(2)}` : ''}`,
      }),
    );
  }
}

const ids = (rows: readonly { id?: unknown }[]) => rows.map((r) => Number(r.id)).join(',');

/**
 * What identifies the rows of an answer on both sides: their ids, or, when the raw table numbers
 * its rows itself (`ownIds`), their time, type and message (both sides order ties by their own
 * increasing ids, i.e. by insertion order, so the sequences still line up row for row).
 */
function rowKeys(bench: BenchContext, rows: readonly { id?: unknown; time?: unknown; type?: unknown; message?: unknown }[]): string {
  if (!bench.engine.ownIds) return ids(rows);
  return rows.map((r) => `${Number(r.time)}|${String(r.type)}|${String(r.message ?? '')}`).join('\n');
}

function sameSums(a: Record<string, number>, b: Record<string, number>): boolean {
  return Object.keys(b).every((k) => Math.abs((a[k] ?? 0) - (b[k] ?? 0)) <= 1e-6 * Math.max(1, Math.abs(b[k] ?? 0)));
}

/** Page 1 (of 50 rows) with the total, filtered by tenant, type and the last 24 hours. */
export async function pageWorkload(bench: BenchContext): Promise<void> {
  const p = { tenantId: TENANTS[2] as string, type: 'llm.consumption', since: NOW - DAY, until: NOW, page: 1, pageSize: 50 };
  const eventlog = () =>
    bench.log.query({ filter: { tenantId: p.tenantId, type: p.type, since: p.since, until: p.until }, page: p.page, pageSize: p.pageSize });
  const raw = () => bench.raw.page(p);
  const [a, b] = [await eventlog(), await raw()];
  if (a.total !== b.total || rowKeys(bench, a.items) !== rowKeys(bench, b.rows))
    bench.problem(`page: eventlog total ${a.total} vs raw ${b.total}, or different rows`);
  await timeQuery(bench, 'page 1 + total', eventlog, raw, SHORT_TARGET, `tenant+type+24 h, ${p.pageSize} of ${b.total} rows`);
}

/** A keyset page of 50 rows, 20,000 rows deep into the largest tenant's events. */
export async function keysetWorkload(bench: BenchContext): Promise<void> {
  const tenantId = TENANTS[0] as string;
  const depth = Math.max(1000, Math.min(20_000, Math.floor(bench.rows / 50)));
  let cursor: string | null = null;
  let last: { time: number; id: number } | undefined;
  for (let walked = 0; walked < depth; ) {
    const page: CursorResult = await bench.log.query({ filter: { tenantId }, limit: 1000, ...(cursor ? { cursor } : {}) });
    const tail = page.items[page.items.length - 1];
    if (!tail || !page.nextCursor) break;
    walked += page.items.length;
    cursor = page.nextCursor;
    last = { time: tail.time, id: tail.id };
  }
  if (!cursor || !last) {
    bench.problem('keyset: could not reach the requested depth');
    return;
  }
  let after = last;
  if (bench.engine.ownIds) {
    // eventlog's (time, id) means nothing in a table with its own ids: raw walks as deep on its own.
    after = { time: Number.MAX_SAFE_INTEGER, id: Number.MAX_SAFE_INTEGER };
    for (let walked = 0; walked < depth; ) {
      const rows = await bench.raw.keyset({ tenantId, limit: 1000, after });
      const tail = rows[rows.length - 1];
      if (!tail) break;
      walked += rows.length;
      after = { time: Number(tail.time), id: Number(tail.id) };
    }
  }
  const rawAfter = after;
  const from = cursor;
  const eventlog = () => bench.log.query({ filter: { tenantId }, limit: 50, cursor: from });
  const raw = () => bench.raw.keyset({ tenantId, limit: 51, after: rawAfter });
  const [a, b] = [await eventlog(), await raw()];
  if (rowKeys(bench, a.items) !== rowKeys(bench, b.slice(0, 50))) bench.problem('keyset: eventlog and raw return different rows');
  await timeQuery(bench, 'keyset page', eventlog, raw, SHORT_TARGET, `tenant, 50 rows after row ${depth}`);
}

/** Count, sums of every metric, RPM and TPM for one tenant over 7 days. */
export async function statsWorkload(bench: BenchContext): Promise<void> {
  const registry = bench.log.registry;
  const p = {
    tenantId: TENANTS[1] as string,
    since: NOW - 7 * DAY,
    until: NOW,
    recentSince: NOW - 60_000,
    metrics: [...registry.metrics.keys()],
    tokenMetrics: [...registry.metrics.values()].filter((m) => m.tokens).map((m) => m.name),
  };
  const eventlog = () => bench.log.stats({ tenantId: p.tenantId, since: p.since, until: p.until });
  const raw = () => bench.raw.stats(p);
  const [a, b] = [await eventlog(), await raw()];
  if (a.count !== b.count || a.rpm !== b.rpm || a.tpm !== b.tpm || !sameSums(a.sums, b.sums)) {
    bench.problem(`stats: eventlog ${JSON.stringify(a)} vs raw ${JSON.stringify(b)}`);
  }
  await timeQuery(bench, 'stats + rpm/tpm', eventlog, raw, SHORT_TARGET, `tenant, 7 days, ${b.count} rows, ${p.metrics.length} sums`);
}

/** Hourly timeline of one tenant over the last 7 days (crossing a DST change) in Europe/Berlin. */
export async function timelineWorkload(bench: BenchContext): Promise<void> {
  const metrics = ['quota', 'prompt_tokens', 'completion_tokens'];
  const p = { tenantId: TENANTS[0] as string, since: NOW - 7 * DAY, until: NOW, stepMs: HOUR, metrics };
  const eventlog = () =>
    bench.log.timeline({ filter: { tenantId: p.tenantId, since: p.since, until: p.until }, bucket: 'hour', timeZone: DST_ZONE, metrics });
  const raw = () => bench.raw.timeline(p);
  const [a, b] = [await eventlog(), await raw()];
  const countsA = a.points.map((x) => x.count).join(',');
  const countsB = b.map((x) => x.count).join(',');
  if (countsA !== countsB) bench.problem(`timeline: eventlog has ${a.points.length} buckets, raw ${b.length}, or counts differ`);
  const total = b.reduce((s, x) => s + x.count, 0);
  await timeQuery(
    bench,
    'timeline hourly',
    eventlog,
    raw,
    SHORT_TARGET,
    `tenant, 7 days in ${DST_ZONE}, ${b.length} buckets, ${total} rows`,
  );
}

/** Top 10 models by count over the last 7 days, all tenants, with every metric summed. */
export async function topWorkload(bench: BenchContext): Promise<void> {
  const metrics = [...bench.log.registry.metrics.keys()];
  const p = { column: 'model_name', since: NOW - 7 * DAY, limit: 10, metrics };
  const eventlog = () => bench.log.top({ by: 'model_name', filter: { since: p.since }, limit: 10 });
  const raw = () => bench.raw.top(p);
  const [a, b] = [await eventlog(), await raw()];
  const keysA = a.map((x) => `${x.value}:${x.count}`).join(',');
  const keysB = b.map((x) => `${x.key}:${x.count}`).join(',');
  if (keysA !== keysB) bench.problem(`top: eventlog ${keysA} vs raw ${keysB}`);
  await timeQuery(bench, 'top-10 models', eventlog, raw, undefined, `all tenants, 7 days, ${metrics.length} sums`);
}

// ---- export ---------------------------------------------------------------------------------

/**
 * A retention job (`log.jobs.prune`) deletes the oldest third while a writer inserts one event
 * every 10 ms; reports the prune time and the longest insert wait (target ≤ 100 ms). Raw deletes
 * in the same batches with the same pause. When the engine skips `prune-writer`, both sides prune
 * without a writer and only the time is reported.
 */
export async function pruneWorkload(bench: BenchContext): Promise<void> {
  const before = bench.generator.timeOf(Math.floor(bench.rows / 3));
  const batchSize = bench.log.store.capabilities.deleteBatchSize;
  const pauseMs = 5;
  const noWriter = bench.engine.skip?.['prune-writer'];
  if (noWriter) bench.skipped('prune: writer max wait (prune timed without writers)', noWriter);
  const idle: TimedWriter = { stop: async () => [] };

  bench.progress('prune: eventlog');
  const writerA = noWriter
    ? idle
    : startWriter(
        (e) => bench.log.record(e),
        (k) => bench.generator.live(k),
      );
  let t0 = now();
  const job = await bench.log.jobs.prune({ before, batchSize, pauseMs });
  const deletedA = job.processed;
  if (job.status !== 'succeeded' || job.total !== deletedA)
    bench.problem(`prune: job ${job.id} ended ${job.status}, ${deletedA} of ${job.total}`);
  const msA = now() - t0;
  const waitsA = await writerA.stop();

  bench.progress('prune: raw');
  const writerB = noWriter
    ? idle
    : startWriter(
        (e) => bench.raw.insertOne(e),
        (k) => bench.generator.live(k),
      );
  t0 = now();
  let deletedB = 0;
  for (;;) {
    const n = await bench.raw.pruneBatch(before, batchSize);
    deletedB += n;
    if (n < batchSize) break;
    await sleep(pauseMs);
  }
  const msB = now() - t0;
  const waitsB = await writerB.stop();

  if (deletedA !== deletedB) bench.problem(`prune: eventlog deleted ${deletedA}, raw ${deletedB}`);
  bench.report(
    result(bench.engine.name, 'prune oldest third', 'time', msA / 1000, 's', msB / 1000, {
      note: `${deletedB} rows in batches of ${batchSize}, ${pauseMs} ms pause${noWriter ? ', no concurrent writer' : ''}`,
    }),
  );
  if (noWriter) return;
  const max = (xs: number[]) => xs.reduce((m, x) => Math.max(m, x), 0);
  const over = (xs: number[]) => xs.filter((x) => x > 100).length;
  bench.report(
    result(bench.engine.name, 'prune: writer max wait', 'time', max(waitsA), 'ms', max(waitsB), {
      target: { maxValue: 100 },
      note: `one insert every 10 ms; ${waitsA.length} inserts, p99 ${quantile(waitsA, 0.99).toFixed(1)} ms, ${over(waitsA)} over 100 ms (raw: ${waitsB.length}, p99 ${quantile(waitsB, 0.99).toFixed(1)} ms, ${over(waitsB)} over 100 ms)`,
    }),
  );
}
