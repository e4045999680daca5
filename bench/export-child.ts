import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { createEventLog } from '@eventlog/core';
import type { Location } from './engine.js';
import { loadEngine } from './engines/index.js';
import { NOW } from './generate.js';
import { now } from './measure.js';
import { BENCH_PRESETS } from './presets.js';

// Runs one CSV export in its own process, so that its peak RSS is its own: `fork()`ed by run.ts
// with one JSON argument, answers with one IPC message.

/** What the parent asks for. */
export interface ExportRequest {
  engine: string;
  mode: 'eventlog' | 'raw';
  store: Location;
  raw: Location;
  out: string;
}

/** What the child answers. */
export interface ExportReply {
  ms: number;
  rows: number | null;
  /** RSS once everything is loaded and open, before the export starts. */
  baselineRssMb: number;
  /** Peak RSS of the whole process (getrusage maxrss). */
  peakRssMb: number;
  error?: string;
}

async function main(): Promise<ExportReply> {
  const request = JSON.parse(process.argv[2] ?? '{}') as ExportRequest;
  const engine = await loadEngine(request.engine);
  // Both modes load and open the same modules, so their baselines are equal.
  const log = createEventLog({ store: await engine.openStore(request.store), presets: BENCH_PRESETS, clock: () => NOW });
  const schema = log.registry.storeSchema;
  if (request.mode === 'eventlog') await log.ready();
  const out = createWriteStream(request.out);
  const write = (chunk: string) => (out.write(chunk) ? undefined : once(out, 'drain').then(() => undefined));
  const baselineRssMb = process.memoryUsage().rss / 2 ** 20;
  const t0 = now();
  let rows: number | null = null;
  if (request.mode === 'eventlog') {
    for await (const chunk of log.exportCsv()) await write(chunk);
  } else {
    rows = await engine.exportRaw(request.raw, schema, write);
  }
  out.end();
  await once(out, 'finish');
  const ms = now() - t0;
  const peakRssMb = process.resourceUsage().maxRSS / 1024;
  await log.close();
  return { ms, rows, baselineRssMb, peakRssMb };
}

main().then(
  (reply) => {
    process.send?.(reply);
    process.exitCode = 0;
  },
  (error: unknown) => {
    const reply: ExportReply = {
      ms: 0,
      rows: null,
      baselineRssMb: 0,
      peakRssMb: 0,
      error: error instanceof Error ? (error.stack ?? error.message) : String(error),
    };
    process.send?.(reply);
    process.exitCode = 1;
  },
);
