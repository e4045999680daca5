/**
 * The `eventlog import` benchmark: throughput of the CLI importing a generated combined access log
 * (a child process: read, parse, batch, store) as a ratio to `recordMany` of the same events already
 * parsed, in one run on one machine, and the importer's peak RSS (constant memory: it must not grow
 * with the file). Run with `pnpm run bench:cli -- --lines 1000000` (about 190 MB).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { EventInput } from '@eventlog/core';
import { openContext } from '../packages/cli/src/context.js';
import { createLineParser } from '../packages/cli/src/import/formats.js';
import { buildCli, combinedLines, tempDir } from '../packages/cli/src/test-support.js';

const USAGE = `Usage: pnpm run bench:cli [-- options]

  --lines N     lines in the generated combined log (default 1000000, about 190 MB)
  --batch N     events per recordMany batch, the same for both sides (default 5000)
  --db URL      store to measure on: "sqlite" (a fresh file each side) or a postgres:// URL with ?schema= (default sqlite)
  --keep        keep the generated log in .bench-data/ for the next run
  --help`;

const { values } = parseArgs({
  options: {
    lines: { type: 'string', default: '1000000' },
    batch: { type: 'string', default: '5000' },
    db: { type: 'string', default: 'sqlite' },
    keep: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const lines = Number(values.lines);
const batch = Number(values.batch);
const work = tempDir();
const dataDir = join(process.cwd(), '.bench-data');
mkdirSync(dataDir, { recursive: true });
const file = join(dataDir, `combined-${lines}.log`);

async function generate(): Promise<void> {
  if (existsSync(file)) return;
  const out = createWriteStream(`${file}.tmp`);
  const start = Date.UTC(2026, 0, 1);
  for (let done = 0; done < lines; done += 50_000) {
    const chunk = combinedLines(Math.min(50_000, lines - done), start + done * 1000, done + 1);
    if (!out.write(`${chunk.join('\n')}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  const { renameSync } = await import('node:fs');
  renameSync(`${file}.tmp`, file);
}

let side = 0;
const schemas: string[] = [];
const freshDb = () => {
  side++;
  if (values.db === 'sqlite') return join(work, `side-${side}.db`);
  const schema = `${/schema=(\w+)/.exec(values.db)?.[1] ?? 'bench'}_${process.pid}_${side}`;
  schemas.push(schema);
  return /schema=\w+/.test(values.db)
    ? values.db.replace(/schema=\w+/, `schema=${schema}`)
    : `${values.db}${values.db.includes('?') ? '&' : '?'}schema=${schema}`;
};

/** Drops the schemas a PostgreSQL run created. */
async function dropSchemas(): Promise<void> {
  if (schemas.length === 0) return;
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: values.db.split('?')[0] });
  await client.connect();
  for (const schema of schemas) await client.query(`drop schema if exists ${schema} cascade`);
  await client.end();
}

/** recordMany of already-parsed events: parsing happens outside the timed part, in slices. */
async function baseline(): Promise<{ seconds: number; events: number }> {
  const db = freshDb();
  const ctx = await openContext({ db }, { buffer: { maxBatchSize: batch, maxPending: batch * 3 } });
  await ctx.log.ready();
  const parser = createLineParser('combined', { dimensions: new Map(), metrics: new Set() });
  const text = readFileSync(file, 'utf8').split('\n');
  let seconds = 0;
  let events = 0;
  // Slices of 100 000 parsed events bound the baseline's own memory; only recordMany is timed.
  for (let i = 0; i < text.length; i += 100_000) {
    const slice: EventInput[] = [];
    for (const line of text.slice(i, i + 100_000)) {
      if (!line) continue;
      const result = parser.parse(line);
      if ('event' in result) slice.push(result.event);
    }
    const started = performance.now();
    for (let j = 0; j < slice.length; j += batch) await ctx.log.recordMany(slice.slice(j, j + batch));
    seconds += (performance.now() - started) / 1000;
    events += slice.length;
  }
  await ctx.log.close();
  return { seconds, events };
}

/** The CLI as a user runs it; peak RSS read from /proc while it runs. */
async function cliImport(bin: string): Promise<{ seconds: number; peakRssMb: number; stdout: string }> {
  const db = freshDb();
  const started = performance.now();
  const child = spawn(process.execPath, [bin, 'import', file, '--db', db, '--quiet', '--batch', String(batch), '--restart'], {
    env: { ...process.env, EVENTLOG_STATE_DIR: join(work, 'state') },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
  });
  let peak = 0;
  const timer = setInterval(() => {
    try {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      const hwm = /VmHWM:\s+(\d+) kB/.exec(status);
      if (hwm) peak = Math.max(peak, Number(hwm[1]) / 1024);
    } catch {
      // The process has ended.
    }
  }, 50);
  const [code] = (await once(child, 'close')) as [number];
  clearInterval(timer);
  if (code !== 0) throw new Error(`eventlog import exited with ${code}`);
  return { seconds: (performance.now() - started) / 1000, peakRssMb: peak, stdout };
}

await generate();
const size = statSync(file).size;
console.log(
  `input: ${file} (${lines.toLocaleString('en-US')} lines, ${(size / 1048576).toFixed(1)} MB), batch ${batch}, store ${values.db}`,
);
const bin = await buildCli();
const cli = await cliImport(bin);
console.log(cli.stdout.trim());
const base = await baseline();
const cliRate = lines / cli.seconds;
const baseRate = base.events / base.seconds;
console.log(
  `eventlog import:        ${cli.seconds.toFixed(1)} s, ${Math.round(cliRate).toLocaleString('en-US')} events/s, peak RSS ${cli.peakRssMb.toFixed(0)} MB`,
);
console.log(`recordMany (pre-parsed): ${base.seconds.toFixed(1)} s, ${Math.round(baseRate).toLocaleString('en-US')} events/s`);
console.log(`ratio import / recordMany: ${(cliRate / baseRate).toFixed(2)}× (target ≥ 0.8×)`);
await dropSchemas();
if (!values.keep) rmSync(file, { force: true });
rmSync(work, { recursive: true, force: true });
