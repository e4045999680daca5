/**
 * `pnpm bench scale`: the scale benchmark of issue 14. Fills a store per engine and size with the
 * demo's data (examples/demo: new-api, XUI.ONE, MediaCP, UniFi Access, the proxy, seeded through
 * `recordMany`), keeps it in .bench-data/scale (SQLite) or a schema/database/table prefix named
 * after the size (servers) for the next run, then serves the demo's profiles through the HTTP
 * handler on a real socket and times every endpoint of the issue's table: p50, p95, the store
 * queries one request makes, and the longest event-loop stall during the requests. "raw" replays
 * the very statements a request sent, with the raw driver, without eventlog or HTTP.
 *
 *   pnpm bench scale --engines sqlite,postgres --sizes 100k,1m [--requests N] [--budget MS] [--json FILE]
 *   pnpm bench scale --seed-check 200k     (demo seeding vs recordMany of the same events, SQLite)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { createEventLog, type EventLog } from '@eventlog/core';
import { createHandler } from '@eventlog/http';
import { toNodeHandler } from '@eventlog/http/node';
import { DEMO_MODULES, demoNativeProfile } from '../examples/demo/src/modules.js';
import { quantile } from './measure.js';
import { type ScaleEndpoint, scaleEndpoints } from './scale-endpoints.js';
import { seedCheck, seedDemo } from './scale-seed.js';
import { openScaleStore, SCALE_ENGINES, type ScaleEngine, type ScaleStore } from './scale-stores.js';

const USAGE = `Usage: pnpm bench scale [options]

  --engines LIST   comma-separated: ${SCALE_ENGINES.join(', ')} (default sqlite)
  --sizes LIST     store sizes, e.g. 100k,1m,10m (default 100k)
  --requests N     timed requests per endpoint at most (default 30)
  --budget MS      time per endpoint after which no more requests start, at least 5 run (default 8000)
  --only TEXT      only endpoints whose name contains TEXT
  --json FILE      write the rows as JSON
  --queries FILE   write the statements one request of each endpoint sends (the first engine and size)
  --rollups        keep rollups (the demo presets' marked dimensions); the store's name gets "-rollups"
  --keyword-index  SQLite and PostgreSQL: the keyword-search index; the store's name gets "-kw"
                   (a store filled without them is reused by copying or renaming it: the migration
                   backfills rollups and builds the index, with progress)
  --seed-check N   instead: time the demo's seeding of N events against recordMany of the same events (SQLite)
  --help`;

const { values } = parseArgs({
  // `pnpm run <script> -- --flag` passes the `--` on.
  args: process.argv.slice(2).filter((a) => a !== '--'),
  options: {
    engines: { type: 'string', default: 'sqlite' },
    sizes: { type: 'string', default: '100k' },
    requests: { type: 'string', default: '30' },
    budget: { type: 'string', default: '8000' },
    only: { type: 'string' },
    json: { type: 'string' },
    queries: { type: 'string' },
    'seed-check': { type: 'string' },
    rollups: { type: 'boolean' },
    'keyword-index': { type: 'boolean' },
    help: { type: 'boolean' },
  },
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}

/** `100k` → 100000, `1m` → 1000000, `2_500` → 2500. */
export function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)([km]?)$/i.exec(text.trim().replaceAll('_', ''));
  if (!m) throw new Error(`not a size: "${text}" (e.g. 100k, 1m, 250000)`);
  const n = Number(m[1]) * ({ k: 1e3, m: 1e6 }[m[2]?.toLowerCase() ?? ''] ?? 1);
  if (!Number.isInteger(n) || n < 1000) throw new Error(`size ${text} must be a whole number of at least 1000`);
  return n;
}

const dataDir = join(process.cwd(), '.bench-data', 'scale');
mkdirSync(dataDir, { recursive: true });
const say = (message: string) => console.error(`[${new Date().toISOString().slice(11, 19)}] ${message}`);
const load = () =>
  loadavg()
    .map((n) => n.toFixed(2))
    .join(' ');

/** One row of the table. */
interface Row {
  engine: string;
  size: string;
  events: number;
  endpoint: string;
  status: number;
  p50: number;
  p95: number;
  requests: number;
  queries: number;
  maxLoopDelayMs: number;
  rawP50: number | null;
  ratio: number | null;
  load: string;
}

async function measure(
  store: ScaleStore,
  log: EventLog,
  base: string,
  endpoint: ScaleEndpoint,
  options: { requests: number; budget: number },
) {
  const loop = monitorEventLoopDelay({ resolution: 1 });
  const send = async () => {
    const response = await fetch(base + endpoint.path, {
      method: endpoint.method ?? 'GET',
      headers: endpoint.headers,
      ...(endpoint.body ? { body: endpoint.body } : {}),
    });
    await response.arrayBuffer();
    return response.status;
  };
  // A first request warms caches and tells which statements one request sends.
  store.capture();
  const status = await send();
  await log.flush();
  const statements = store.capture();
  const samples: number[] = [];
  let maxDelay = 0;
  const started = performance.now();
  loop.enable();
  for (let i = 0; i < options.requests; i++) {
    if (i >= 5 && performance.now() - started > options.budget) break;
    loop.reset();
    const t = performance.now();
    await send();
    samples.push(performance.now() - t);
    // The histogram only records a delay when its timer fires: let it, once, after the request.
    await new Promise((resolve) => setTimeout(resolve, 2));
    maxDelay = Math.max(maxDelay, loop.max / 1e6);
  }
  loop.disable();
  store.capture();
  let rawP50: number | null = null;
  if (store.replay && statements.length) {
    const raw: number[] = [];
    const replay = store.replay;
    await replay(statements);
    const t0 = performance.now();
    for (let i = 0; i < samples.length; i++) {
      if (i >= 5 && performance.now() - t0 > options.budget) break;
      const t = performance.now();
      await replay(statements);
      raw.push(performance.now() - t);
    }
    rawP50 = quantile(raw, 0.5);
  }
  return { status, samples, statements, maxDelay, rawP50 };
}

async function runSize(engine: ScaleEngine, label: string, size: number, rows: Row[]) {
  const rollups = values.rollups === true;
  const keywordIndex = values['keyword-index'] === true;
  const name = `${label}${rollups ? '-rollups' : ''}${keywordIndex ? '-kw' : ''}`;
  const store = await openScaleStore(engine, name.replaceAll('-', '_'), dataDir, { keywordIndex });
  const presets = [...new Set(DEMO_MODULES.flatMap((m) => m.presets))];
  const log = createEventLog({ store: store.store, presets, allowUnknownTypes: true, rollups });
  let said = 0;
  log.on('rollups', (p) => {
    if (performance.now() - said < 10_000) return;
    said = performance.now();
    say(`${engine} ${name}: rollups ${JSON.stringify(p)}`);
  });
  const server = createServer(
    toNodeHandler(createHandler({ log, profiles: [...DEMO_MODULES.flatMap((m) => m.profiles()), demoNativeProfile()] })),
  );
  try {
    await log.ready();
    let events = await log.count();
    if (events < size * 0.98) {
      if (events > 0) throw new Error(`${store.where} holds ${events} events, not ~${size}: drop it and run again`);
      say(`${engine} ${label}: filling ${store.where} with ~${size.toLocaleString('en-US')} demo events (load ${load()})`);
      const filled = await seedDemo(log, size, say);
      say(`${engine} ${label}: ${filled.events.toLocaleString('en-US')} events in ${(filled.ms / 1000).toFixed(0)} s`);
      await store.analyze();
      events = await log.count();
    } else {
      say(`${engine} ${label}: reusing ${store.where} (${events.toLocaleString('en-US')} events)`);
    }
    store.capture();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const deep = Math.min(90_000, Math.floor(size / 20 / 1000) * 1000 || 1000);
    for (const endpoint of scaleEndpoints(deep)) {
      if (values.only && !endpoint.name.includes(values.only)) continue;
      const m = await measure(store, log, base, endpoint, { requests: Number(values.requests), budget: Number(values.budget) });
      const p50 = quantile(m.samples, 0.5);
      const row: Row = {
        engine,
        size: label,
        events,
        endpoint: endpoint.name,
        status: m.status,
        p50,
        p95: quantile(m.samples, 0.95),
        requests: m.samples.length,
        queries: m.statements.length,
        maxLoopDelayMs: m.maxDelay,
        rawP50: m.rawP50,
        ratio: m.rawP50 ? p50 / m.rawP50 : null,
        load: load(),
      };
      rows.push(row);
      if (values.queries && !statementsOf.has(endpoint.name))
        statementsOf.set(
          endpoint.name,
          m.statements.map((st) => st.sql),
        );
      say(
        `${engine} ${label} ${endpoint.name}: ${m.status} p50 ${p50.toFixed(1)} ms, p95 ${row.p95.toFixed(1)} ms, ${m.statements.length} queries, ` +
          `loop ${m.maxDelay.toFixed(0)} ms${m.rawP50 ? `, raw ${m.rawP50.toFixed(1)} ms (${(p50 / m.rawP50).toFixed(2)}×)` : ''}`,
      );
    }
  } finally {
    server.close();
    await log.close();
    await store.close();
  }
}

/** The statements of one request per endpoint, for --queries. */
const statementsOf = new Map<string, string[]>();

const f = (n: number | null) => (n === null ? '–' : n >= 100 ? n.toFixed(0) : n.toFixed(1));

function table(rows: readonly Row[]): string {
  const head = '| engine | size | endpoint | p50 ms | p95 ms | queries | max loop delay ms | raw p50 ms | ratio | load avg |';
  const rule = '|---|---|---|---:|---:|---:|---:|---:|---:|---|';
  const lines = rows.map(
    (r) =>
      `| ${r.engine} | ${r.size} (${r.events.toLocaleString('en-US')}) | ${r.endpoint}${r.status === 200 ? '' : ` (HTTP ${r.status})`} | ${f(r.p50)} | ${f(r.p95)} | ${r.queries} | ${f(r.maxLoopDelayMs)} | ${f(r.rawP50)} | ${r.ratio === null ? '–' : r.ratio.toFixed(2)} | ${r.load} |`,
  );
  return [head, rule, ...lines].join('\n');
}

async function main() {
  if (values['seed-check']) {
    await seedCheck(parseSize(values['seed-check']), dataDir, say);
    return;
  }
  const engines = values.engines.split(',').map((e) => e.trim());
  for (const e of engines) if (!(SCALE_ENGINES as readonly string[]).includes(e)) throw new Error(`unknown engine ${e}`);
  const rows: Row[] = [];
  for (const engine of engines as ScaleEngine[]) {
    for (const label of values.sizes.split(',').map((s) => s.trim().toLowerCase())) await runSize(engine, label, parseSize(label), rows);
  }
  console.log(`\n${table(rows)}\n`);
  console.log('raw = the same statements one request sends, replayed with the raw driver (no eventlog, no HTTP); ratio = p50 / raw p50.');
  if (values.json) writeFileSync(values.json, `${JSON.stringify(rows, null, 2)}\n`);
  if (values.queries) {
    const text = [...statementsOf].map(([name, list]) => `## ${name}\n\n${list.map((sql) => `- \`${sql}\``).join('\n')}\n`);
    writeFileSync(values.queries, text.join('\n'));
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exitCode = 1;
});
