/**
 * The `eventlog import` benchmark: throughput of the CLI importing a generated combined access log
 * (a child process: read, parse, batch, store) as a ratio to `recordMany` of the same events already
 * parsed, in one run on one machine, and the importer's peak RSS (constant memory: it must not grow
 * with the file). Run with `pnpm run bench:cli -- --lines 1000000` (about 190 MB).
 */
import { mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { tempDir } from '../packages/cli/src/test-support.js';
import { generateCombinedLog, measureImport } from './import-measure.js';

const USAGE = `Usage: pnpm run bench:cli [-- options]

  --lines N     lines in the generated combined log (default 1000000, about 190 MB)
  --batch N     events per recordMany batch, the same for both sides (default 5000)
  --db URL      store to measure on: "sqlite" (a fresh file each side) or a postgres:// URL with ?schema= (default sqlite)
  --keep        keep the generated log in .bench-data/ for the next run
  --help`;

const { values } = parseArgs({
  // `pnpm run <script> -- --flag` passes the `--` on.
  args: process.argv.slice(2).filter((a) => a !== '--'),
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

await generateCombinedLog(file, lines);
const size = statSync(file).size;
console.log(
  `input: ${file} (${lines.toLocaleString('en-US')} lines, ${(size / 1048576).toFixed(1)} MB), batch ${batch}, store ${values.db}`,
);
const m = await measureImport({ file, lines, batch, freshDb, workDir: work });
console.log(m.summary);
const cliRate = lines / m.importSeconds;
const baseRate = m.recordManyEvents / m.recordManySeconds;
console.log(
  `eventlog import:        ${m.importSeconds.toFixed(1)} s, ${Math.round(cliRate).toLocaleString('en-US')} events/s, peak RSS ${m.peakRssMb.toFixed(0)} MB`,
);
console.log(`recordMany (pre-parsed): ${m.recordManySeconds.toFixed(1)} s, ${Math.round(baseRate).toLocaleString('en-US')} events/s`);
console.log(`ratio import / recordMany: ${(cliRate / baseRate).toFixed(2)}× (target ≥ 0.8×)`);
// CPU seconds depend far less on the machine's load than wall-clock time: a second view of the same ratio.
console.log(
  `CPU: import ${m.importCpuSeconds.toFixed(1)} s, recordMany ${m.recordManyCpuSeconds.toFixed(1)} s, ratio ${(m.recordManyCpuSeconds / m.importCpuSeconds).toFixed(2)}×; load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`,
);
await dropSchemas();
if (!values.keep) rmSync(file, { force: true });
rmSync(work, { recursive: true, force: true });
