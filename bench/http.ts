/**
 * `pnpm bench:http`: a paged log query through the HTTP handler over a real socket (the native
 * profile's `GET /eventlog/events`), against the same query through the core in the same process,
 * on N stored events (default 1,000,000) in an SQLite file. "Raw" here is the direct core call: the
 * figure is what the HTTP layer (routing, validation, JSON, the socket) adds on top of the core.
 *
 *   pnpm bench:http [--rows N] [--requests N] [--concurrency N] [--json FILE]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createSqliteStore } from '@eventlog/adapters/sqlite';
import { createEventLog, eventlogAuditPreset } from '@eventlog/core';
import { createHandler, native } from '@eventlog/http';
import { toNodeHandler } from '@eventlog/http/node';
import { createGenerator, NOW, TENANTS } from './generate.js';
import { quantile } from './measure.js';
import { BENCH_PRESETS } from './presets.js';
import { type BenchResult, formatTable, RATIO_CONVENTION, result, writeJson } from './report.js';

const { values } = parseArgs({
  // `pnpm run <script> -- --flag` passes the `--` on.
  args: process.argv.slice(2).filter((a) => a !== '--'),
  options: {
    rows: { type: 'string', default: '1000000' },
    requests: { type: 'string', default: '2000' },
    concurrency: { type: 'string', default: '8' },
    json: { type: 'string' },
  },
});
const rows = Number(values.rows);
const requests = Number(values.requests);
const concurrency = Number(values.concurrency);

const dir = mkdtempSync(join(tmpdir(), 'eventlog-bench-http-'));
const log = createEventLog({
  store: createSqliteStore({ filename: join(dir, 'events.db') }),
  presets: [...BENCH_PRESETS, eventlogAuditPreset],
  clock: () => NOW,
});
const server = createServer(toNodeHandler(createHandler({ log, profiles: [native({ authenticate: () => ({ role: 'admin' }) })] })));
// The phases timing the core leave the client's sockets idle for seconds; with Node's 5 s default
// the server closes them just as fetch reuses them on a loaded machine (ECONNRESET).
server.keepAliveTimeout = 120_000;

try {
  const generator = createGenerator(rows);
  const started = Date.now();
  for (let from = 0; from < rows; from += 10_000) await log.recordMany(generator.batch(from, Math.min(10_000, rows - from)));
  console.log(`stored ${rows} events in ${((Date.now() - started) / 1000).toFixed(1)} s`);

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const tenant = (i: number) => TENANTS[i % TENANTS.length]!;
  const viaCore = async (i: number) => {
    const page = await log.query({ filter: { tenantId: tenant(i) }, limit: 50 });
    // The HTTP side serialises its answer; do the same so both sides return bytes.
    return JSON.stringify({ data: page.items, nextCursor: page.nextCursor }).length;
  };
  const viaHttp = async (i: number) => {
    const response = await fetch(`${base}/eventlog/events?tenantId=${tenant(i)}&limit=50`);
    if (response.status !== 200) throw new Error(`HTTP ${response.status}: ${await response.text()}`);
    return (await response.arrayBuffer()).byteLength;
  };

  const sequential = async (fn: (i: number) => Promise<number>) => {
    for (let i = 0; i < 100; i++) await fn(i); // warm-up
    const samples: number[] = [];
    for (let i = 0; i < requests; i++) {
      const t = performance.now();
      await fn(i);
      samples.push(performance.now() - t);
    }
    return samples;
  };
  const parallel = async (fn: (i: number) => Promise<number>) => {
    let next = 0;
    const t = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < requests) await fn(next++);
      }),
    );
    return requests / ((performance.now() - t) / 1000);
  };

  // Interleave the two sides so machine drift hits both alike.
  const coreLatency = await sequential(viaCore);
  const httpLatency = await sequential(viaHttp);
  const coreRps = await parallel(viaCore);
  const httpRps = await parallel(viaHttp);

  const note = `${rows} events, tenant-filtered keyset page of 50, ${requests} requests`;
  const results: BenchResult[] = [
    result('sqlite+http', 'paged query p50 latency', 'time', quantile(httpLatency, 0.5), 'ms', quantile(coreLatency, 0.5), { note }),
    result('sqlite+http', 'paged query p95 latency', 'time', quantile(httpLatency, 0.95), 'ms', quantile(coreLatency, 0.95), { note }),
    result('sqlite+http', `paged query throughput (${concurrency} in flight)`, 'throughput', httpRps, 'req/s', coreRps, { note }),
  ];
  console.log(`\n${RATIO_CONVENTION}\n"raw" = the same query through the core in the same process.\n`);
  console.log(formatTable(results));
  if (values.json) writeJson(values.json, results);
} finally {
  server.close();
  await log.close();
  rmSync(dir, { recursive: true, force: true });
}
