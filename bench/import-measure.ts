/**
 * The `eventlog import` measurement shared by `pnpm bench` (workload `import`) and
 * `pnpm run bench:cli`: the CLI as a user runs it (a child process reading, parsing, batching and
 * storing a generated combined access log), against `recordMany` of the same events already
 * parsed, on fresh stores of the same engine, in the same run; plus the importer's peak RSS.
 */
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createReadStream, createWriteStream, existsSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { EventInput } from '@eventlog/core';
import { openContext } from '../packages/cli/src/context.js';
import { createLineParser } from '../packages/cli/src/import/formats.js';
import { buildCli, combinedLines } from '../packages/cli/src/test-support.js';

/** What one measurement gave. */
export interface ImportMeasurement {
  /** Lines in the log (every one is a valid event). */
  lines: number;
  /** Wall-clock seconds of the CLI process, start to exit. */
  importSeconds: number;
  /** Peak resident set of the CLI process (VmHWM), MB. */
  peakRssMb: number;
  /** CPU seconds (user + system, all threads) of the CLI process, start to exit. */
  importCpuSeconds: number;
  /** The CLI's own summary line. */
  summary: string;
  /** Seconds spent in `recordMany` for the same events, parsed beforehand and untimed. */
  recordManySeconds: number;
  /** Events stored by the `recordMany` side. */
  recordManyEvents: number;
  /** CPU seconds (user + system, all threads) of the process during the timed `recordMany` calls. */
  recordManyCpuSeconds: number;
}

/** Clock ticks per second of /proc's CPU times (USER_HZ; 100 on Linux unless `getconf CLK_TCK` says otherwise). */
function clockTicks(): number {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
}

/** Writes a combined log of `lines` lines to `file` (kept when it exists: generation is deterministic). */
export async function generateCombinedLog(file: string, lines: number): Promise<void> {
  if (existsSync(file)) return;
  const out = createWriteStream(`${file}.tmp`);
  const start = Date.UTC(2026, 0, 1);
  for (let done = 0; done < lines; done += 50_000) {
    const chunk = combinedLines(Math.min(50_000, lines - done), start + done * 1000, done + 1);
    if (!out.write(`${chunk.join('\n')}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  renameSync(`${file}.tmp`, file);
}

/** `recordMany` of already-parsed events: parsing happens outside the timed part, in slices. */
export async function recordManyBaseline(
  file: string,
  db: string,
  batch: number,
): Promise<{ seconds: number; cpuSeconds: number; events: number }> {
  const ctx = await openContext({ db }, { buffer: { maxBatchSize: batch, maxPending: batch * 3 } });
  await ctx.log.ready();
  const parser = createLineParser('combined', { dimensions: new Map(), metrics: new Set() });
  let seconds = 0;
  let cpu = 0;
  let events = 0;
  // The file is read line by line and parsed in slices of 100 000 events, so the baseline holds at
  // most one slice, like the importer holds a few batches, instead of every line of the file (the
  // collector would scan those during every recordMany call). Only recordMany is timed.
  let slice: EventInput[] = [];
  const store = async () => {
    const started = performance.now();
    const cpuStart = process.cpuUsage();
    for (let j = 0; j < slice.length; j += batch) await ctx.log.recordMany(slice.slice(j, j + batch));
    const used = process.cpuUsage(cpuStart);
    seconds += (performance.now() - started) / 1000;
    cpu += (used.user + used.system) / 1e6;
    events += slice.length;
    slice = [];
  };
  try {
    for await (const line of createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Number.POSITIVE_INFINITY })) {
      if (!line) continue;
      const result = parser.parse(line);
      if ('event' in result) slice.push(result.event);
      if (slice.length >= 100_000) await store();
    }
    await store();
  } finally {
    await ctx.log.close();
  }
  return { seconds, cpuSeconds: cpu, events };
}

/**
 * The CLI as a user runs it; peak RSS and CPU time read from /proc while it runs (CPU time is read
 * every 50 ms, so the last few milliseconds before exit are missed).
 */
export async function cliImport(bin: string, file: string, db: string, batch: number, stateDir: string) {
  const started = performance.now();
  const child = spawn(process.execPath, [bin, 'import', file, '--db', db, '--quiet', '--batch', String(batch), '--restart'], {
    env: { ...process.env, EVENTLOG_STATE_DIR: stateDir },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
  });
  let peak = 0;
  let cpu = 0;
  const ticks = clockTicks();
  const timer = setInterval(() => {
    try {
      const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      if (hwm) peak = Math.max(peak, Number(hwm[1]) / 1024);
      // Fields 14 and 15 of /proc/PID/stat (after the parenthesised name): utime and stime in clock ticks.
      const fields = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      cpu = (Number(fields[11]) + Number(fields[12])) / ticks;
    } catch {
      // The process has ended.
    }
  }, 50);
  const [code] = (await once(child, 'close')) as [number];
  clearInterval(timer);
  if (code !== 0) throw new Error(`eventlog import exited with ${code}`);
  return { seconds: (performance.now() - started) / 1000, peakRssMb: peak, cpuSeconds: cpu, summary: stdout.trim() };
}

/**
 * Measures one import of `file` against `recordMany` of its parsed events. `freshDb` returns a
 * new, empty store target (a `--db` value) for each side.
 */
export async function measureImport(options: {
  file: string;
  lines: number;
  batch: number;
  freshDb: () => string;
  workDir: string;
}): Promise<ImportMeasurement> {
  const bin = await buildCli();
  const cli = await cliImport(bin, options.file, options.freshDb(), options.batch, join(options.workDir, 'import-state'));
  const base = await recordManyBaseline(options.file, options.freshDb(), options.batch);
  return {
    lines: options.lines,
    importSeconds: cli.seconds,
    peakRssMb: cli.peakRssMb,
    importCpuSeconds: cli.cpuSeconds,
    summary: cli.summary,
    recordManySeconds: base.seconds,
    recordManyEvents: base.events,
    recordManyCpuSeconds: base.cpuSeconds,
  };
}
