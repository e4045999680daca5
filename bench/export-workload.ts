/** The CSV export workload of `pnpm bench`: eventlog and the raw driver each export every row in a child process. */
import { fork } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleExportChild } from './bundle.js';
import type { ExportReply, ExportRequest } from './export-child.js';
import { result } from './report.js';

import type { BenchContext } from './workloads.js';

const CHILD_SOURCE = fileURLToPath(new URL('./export-child.ts', import.meta.url));
let childBundle: Promise<{ file: string } | { error: string }> | undefined;

/** The export child as plain JavaScript (bundled once per run), or its TypeScript source run through tsx when bundling fails. */
async function exportChild(bench: BenchContext): Promise<{ file: string; execArgv: string[] | undefined; how: string }> {
  childBundle ??= bundleExportChild(join(bench.context.tmpDir, 'child'));
  const bundle = await childBundle;
  if ('file' in bundle) return { file: bundle.file, execArgv: [], how: 'bundled JavaScript' };
  bench.progress(`export: bundling the child failed, running it through tsx (its RSS includes the TypeScript loader): ${bundle.error}`);
  // fork() then reuses this process's execArgv, i.e. tsx's loader.
  return { file: CHILD_SOURCE, execArgv: undefined, how: 'TypeScript through tsx' };
}

function runChild(childFile: { file: string; execArgv: string[] | undefined }, request: ExportRequest): Promise<ExportReply> {
  return new Promise((resolve, reject) => {
    const child = fork(childFile.file, [JSON.stringify(request)], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      ...(childFile.execArgv ? { execArgv: childFile.execArgv } : {}),
    });
    let reply: ExportReply | undefined;
    child.on('message', (message) => {
      reply = message as ExportReply;
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (reply?.error) reject(new Error(`export child (${request.mode}) failed:\n${reply.error}`));
      else if (!reply || code !== 0) reject(new Error(`export child (${request.mode}) exited with ${code}`));
      else resolve(reply);
    });
  });
}

/** SHA-256 of a file; with `withoutIds`, of its text with the leading id field of every line removed. */
async function sha256(file: string, withoutIds = false): Promise<string> {
  const hash = createHash('sha256');
  if (!withoutIds) {
    for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
    return hash.digest('hex');
  }
  let rest = '';
  for await (const chunk of createReadStream(file, { encoding: 'utf8' })) {
    const lines = (rest + (chunk as string)).split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) hash.update(`${line.replace(/^\d+,/, '')}\n`);
  }
  hash.update(rest.replace(/^\d+,/, ''));
  return hash.digest('hex');
}

/** CSV export of every row, each side in its own child process (for a clean peak RSS). */
export async function exportWorkload(bench: BenchContext): Promise<void> {
  const files = { eventlog: join(bench.context.tmpDir, 'export-eventlog.csv'), raw: join(bench.context.tmpDir, 'export-raw.csv') };
  const together: Partial<Record<'eventlog' | 'raw', ExportReply>> = {};
  const alone: Partial<Record<'eventlog' | 'raw', ExportReply>> = {};
  const child = await exportChild(bench);
  const run = (mode: 'eventlog' | 'raw') =>
    runChild(child, { engine: bench.engine.name, mode, store: bench.storeLocation, raw: bench.raw.location, out: files[mode] });
  try {
    // Time: both children at once, so that load from other processes on a shared machine hits them
    // alike.
    bench.progress('export: eventlog and raw children, at once (time)');
    [together.eventlog, together.raw] = await Promise.all([run('eventlog'), run('raw')]);
    // With ownIds the id columns differ by construction; every other byte must still be equal.
    const withoutIds = bench.engine.ownIds === true;
    const [hashA, hashB] = [await sha256(files.eventlog, withoutIds), await sha256(files.raw, withoutIds)];
    if (hashA !== hashB) bench.problem(`export: the eventlog and raw CSV files differ${withoutIds ? ' (ids aside)' : ''}`);
    // Memory: each child alone. Peak RSS is a property of the process, but two processes competing
    // for 2 cores delay V8's concurrent collector and inflate both peaks (by 10-25 MB, measured), so
    // the memory figures come from runs one after the other.
    bench.progress('export: eventlog child alone, then raw child alone (peak RSS)');
    alone.eventlog = await run('eventlog');
    alone.raw = await run('raw');
  } finally {
    rmSync(files.eventlog, { force: true });
    rmSync(files.raw, { force: true });
  }
  const a = together.eventlog as ExportReply;
  const b = together.raw as ExportReply;
  const rows = b.rows ?? bench.rows;
  bench.report(
    result(bench.engine.name, 'export CSV, all rows', 'time', a.ms / 1000, 's', b.ms / 1000, {
      note: `${rows} rows; ${Math.round(rows / (a.ms / 1000))} vs ${Math.round(rows / (b.ms / 1000))} rows/s (children at once)`,
    }),
  );
  const ma = alone.eventlog as ExportReply;
  const mb = alone.raw as ExportReply;
  bench.report(
    result(bench.engine.name, 'export CSV, peak RSS', 'memory', ma.peakRssMb, 'MB', mb.peakRssMb, {
      target: { maxValue: 150 },
      note:
        `child process alone (${child.how}); RSS before the export ${ma.baselineRssMb.toFixed(0)} MB (eventlog) / ` +
        `${mb.baselineRssMb.toFixed(0)} MB (raw); with both children at once ${a.peakRssMb.toFixed(0)} / ${b.peakRssMb.toFixed(0)} MB`,
    }),
  );
}

// ---- prune ----------------------------------------------------------------------------------
