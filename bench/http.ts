/**
 * `pnpm bench http` (also `pnpm bench:http`): a paged log query through the HTTP handler over a
 * real keep-alive socket (the native profile's `GET /eventlog/events`), against the same query
 * through the core in the same process, on N stored events (default 1,000,000) in an SQLite file.
 * "Raw" here is the direct core call: the figure is what the HTTP layer (routing, validation, JSON,
 * the socket) adds on top of the core. The same measurement runs as the `http-page` workload of
 * `pnpm bench` on every engine.
 *
 *   pnpm bench http [--rows N] [--iterations N] [--requests N] [--concurrency N] [--client raw|node] [--json FILE]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg as osLoadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createSqliteStore } from '@eventlog/adapters/sqlite';
import { createEventLog, eventlogAuditPreset } from '@eventlog/core';
import { createGenerator, NOW } from './generate.js';
import { measureHttpPage } from './http-workload.js';
import { BENCH_PRESETS } from './presets.js';
import { formatTable, RATIO_CONVENTION, writeJson } from './report.js';

const { values } = parseArgs({
  // `pnpm run <script> -- --flag` passes the `--` on.
  args: process.argv.slice(2).filter((a) => a !== '--'),
  options: {
    rows: { type: 'string', default: '1000000' },
    iterations: { type: 'string', default: '2000' },
    requests: { type: 'string', default: '2000' },
    concurrency: { type: 'string', default: '8' },
    client: { type: 'string', default: 'raw' },
    json: { type: 'string' },
  },
});
const rows = Number(values.rows);
const iterations = Number(values.iterations);
if (values.client !== 'raw' && values.client !== 'node') throw new Error(`--client must be raw or node, got "${values.client}"`);

const dir = mkdtempSync(join(tmpdir(), 'eventlog-bench-http-'));
const log = createEventLog({
  store: createSqliteStore({ filename: join(dir, 'events.db') }),
  presets: [...BENCH_PRESETS, eventlogAuditPreset],
  clock: () => NOW,
});

try {
  const generator = createGenerator(rows);
  const started = Date.now();
  for (let from = 0; from < rows; from += 10_000) await log.recordMany(generator.batch(from, Math.min(10_000, rows - from)));
  console.log(`stored ${rows} events in ${((Date.now() - started) / 1000).toFixed(1)} s; load average ${loadavg()}`);
  const results = await measureHttpPage(log, {
    engine: 'sqlite',
    pair: { warmup: 100, minIterations: iterations, maxIterations: iterations, budgetMs: Number.POSITIVE_INFINITY },
    requests: Number(values.requests),
    concurrency: Number(values.concurrency),
    client: values.client,
    progress: (message) => console.log(message),
  });
  console.log(`\n${RATIO_CONVENTION}\n"raw" = the same query through the core in the same process. Load average ${loadavg()}.\n`);
  console.log(formatTable(results));
  console.log(`\n${results[0]?.note ?? ''}`);
  if (values.json) writeJson(values.json, results);
} finally {
  await log.close();
  rmSync(dir, { recursive: true, force: true });
}

function loadavg(): string {
  return osLoadavg()
    .map((x) => x.toFixed(1))
    .join(' ');
}
