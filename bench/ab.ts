import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { createGenerator, DAY, DST_ZONE, NOW, TENANTS } from './generate.js';
import { BENCH_PRESETS } from './presets.js';

// This tree's library against the checkout in DIR, in ONE process: both load their own
// @eventlog/core and store (each from its own source, with its own dependencies), write the same
// events into their own tables, then run the same calls in alternation, each call's CPU time
// (process.cpuUsage) and wall time recorded. Load on the machine hits both sides alike, so the CPU
// ratio stays meaningful where two separate `pnpm bench` runs, minutes apart, differ by more than
// the change being looked for. The raw driver is not involved: this compares two library versions.

const USAGE = `Usage: tsx bench/ab.ts --against DIR [--engine sqlite|postgres|mysql|clickhouse] [--rows N] [--calls N]
  --against DIR  the other checkout (it needs its own node_modules)
  --engine       default sqlite
  --rows N       events each side stores first (default 100000)
  --calls N      timed calls per operation and side (default 1000; ingest: batches of 2,000)
  --readers N    SQLite: the stores' reader workers (a checkout from before they existed ignores it)
  --ops LIST     comma-separated operations to time (default all)`;

const { values } = parseArgs({
  options: {
    against: { type: 'string' },
    engine: { type: 'string' },
    rows: { type: 'string' },
    calls: { type: 'string' },
    readers: { type: 'string' },
    ops: { type: 'string' },
    help: { type: 'boolean' },
  },
});
if (values.help || !values.against) {
  console.log(USAGE);
  process.exit(values.help ? 0 : 2);
}
const engine = values.engine ?? 'sqlite';
const rows = Number(values.rows ?? 100_000);
const calls = Number(values.calls ?? 1000);
const here = resolve(import.meta.dirname, '..');
const there = resolve(values.against);
const dir = mkdtempSync(join(tmpdir(), 'eventlog-ab-'));
const run = (process.pid % 10000).toString(36);

/* biome-ignore lint/suspicious/noExplicitAny: two versions of the library, typed by neither */
type AnyLog = any;

async function openStore(root: string, tag: string): Promise<unknown> {
  const src = (sub: string) => pathToFileURL(join(root, 'packages/adapters/src', sub, 'index.ts')).href;
  const prefix = `ab${run}_${tag.slice(0, 1)}_`;
  if (engine === 'sqlite') {
    const readers = values.readers === undefined ? {} : { readers: Number(values.readers) };
    return (await import(src('sqlite'))).createSqliteStore({ filename: join(dir, `${tag}.db`), ...readers });
  }
  if (engine === 'postgres')
    return (await import(src('postgres'))).createPostgresStore({
      connectionString: 'postgres://postgres@127.0.0.1:5432/test',
      tablePrefix: prefix,
    });
  if (engine === 'mysql')
    return (await import(src('mysql'))).createMysqlStore({ uri: 'mysql://root@127.0.0.1:3306/test', tablePrefix: prefix });
  if (engine === 'clickhouse')
    return (await import(src('clickhouse'))).createClickhouseStore({
      url: 'http://127.0.0.1:18123',
      database: 'default',
      tablePrefix: prefix,
    });
  throw new Error(USAGE);
}

/** Drops the tables both sides created (every table whose name starts with `prefix`). */
async function dropTables(prefix: string): Promise<void> {
  const like = `${prefix.replaceAll('_', '\\_')}%`;
  if (engine === 'postgres') {
    const { default: pg } = await import('pg');
    const client = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/test' });
    await client.connect();
    const { rows: found } = await client.query<{ name: string }>('select tablename as name from pg_tables where tablename like $1', [like]);
    for (const { name } of found) await client.query(`drop table if exists "${name}" cascade`);
    await client.end();
  } else if (engine === 'mysql') {
    const mysql = await import('mysql2/promise');
    const connection = await mysql.createConnection({ uri: 'mysql://root@127.0.0.1:3306/test' });
    const [found] = await connection.query(
      'select table_name as name from information_schema.tables where table_schema = database() and table_name like ?',
      [like],
    );
    for (const { name } of found as { name: string }[]) await connection.query(`drop table if exists \`${name}\``);
    await connection.end();
  } else if (engine === 'clickhouse') {
    // Over plain HTTP: @clickhouse/client is a dependency of the adapters package, not of the bench.
    const run = async (query: string) => {
      const response = await fetch(`http://127.0.0.1:18123/?query=${encodeURIComponent(query)}`, { method: 'POST' });
      if (!response.ok) throw new Error(await response.text());
      return response.text();
    };
    const names = (await run(`select name from system.tables where database = 'default' and startsWith(name, '${prefix}')`))
      .split('\n')
      .filter(Boolean);
    for (const name of names) await run(`drop table if exists default.\`${name}\``);
  }
}

async function openSide(root: string, tag: string) {
  const core = await import(pathToFileURL(join(root, 'packages/core/src/index.ts')).href);
  const log: AnyLog = core.createEventLog({ store: await openStore(root, tag), presets: BENCH_PRESETS, clock: () => NOW });
  await log.ready();
  const generator = createGenerator(rows + 400_000);
  for (let i = 0; i < rows; i += 5000) await log.recordMany(generator.batch(i, Math.min(5000, rows - i)));
  const tenantId = TENANTS[0];
  let cursor: string | undefined;
  for (let walked = 0; walked < Math.min(4000, rows / 20); ) {
    const page = await log.query({ filter: { tenantId }, limit: 500, ...(cursor ? { cursor } : {}) });
    if (!page.nextCursor) break;
    walked += page.items.length;
    cursor = page.nextCursor;
  }
  const since = NOW - 7 * DAY;
  let next = rows;
  const metrics = [...log.registry.metrics.keys()];
  return {
    log,
    ops: {
      'keyset page': () => log.query({ filter: { tenantId }, limit: 50, cursor }),
      // As pnpm bench's page workload (bench/workloads.ts).
      'page 1 + total': () =>
        log.query({ filter: { tenantId: TENANTS[2], type: 'llm.consumption', since: NOW - DAY, until: NOW }, page: 1, pageSize: 50 }),
      stats: () => log.stats({ tenantId, since, until: NOW }),
      'timeline hourly': () => log.timeline({ filter: { tenantId, since, until: NOW }, bucket: 'hour', timeZone: DST_ZONE, metrics }),
      'top-10 models': () => log.top({ by: 'model_name', filter: { since }, limit: 10 }),
      'recordMany (2,000)': () => {
        const batch = generator.batch(next, 2000);
        next += 2000;
        return log.recordMany(batch);
      },
    } as Record<string, () => Promise<unknown>>,
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
console.log(
  `engine ${engine}, ${rows} rows each; this tree ${here} against ${there}; load ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
);
const a = await openSide(here, 'this');
const b = await openSide(there, 'other');
const table: Record<string, string | number>[] = [];
try {
  const only = values.ops?.split(',');
  for (const name of Object.keys(a.ops).filter((n) => !only || only.includes(n))) {
    const n = name.startsWith('recordMany') ? Math.min(calls, 100) : calls;
    const cpu = { a: [] as number[], b: [] as number[] };
    const wall = { a: [] as number[], b: [] as number[] };
    for (let i = 0; i < Math.min(50, n); i++) {
      if (!name.startsWith('recordMany')) {
        await a.ops[name]!();
        await b.ops[name]!();
      }
    }
    for (let i = 0; i < n; i++) {
      for (const side of i % 2 === 0 ? (['a', 'b'] as const) : (['b', 'a'] as const)) {
        const c0 = process.cpuUsage();
        const t0 = performance.now();
        await (side === 'a' ? a : b).ops[name]!();
        const c = process.cpuUsage(c0);
        wall[side].push(performance.now() - t0);
        cpu[side].push((c.user + c.system) / 1000);
      }
    }
    const sum = (xs: number[]) => xs.reduce((s, x) => s + x, 0);
    table.push({
      operation: name,
      calls: n,
      'CPU ms, this': +(sum(cpu.a) / n).toFixed(3),
      'CPU ms, other': +(sum(cpu.b) / n).toFixed(3),
      'CPU this ÷ other': +(sum(cpu.a) / sum(cpu.b)).toFixed(2),
      'p50 ms, this': +median(wall.a).toFixed(3),
      'p50 ms, other': +median(wall.b).toFixed(3),
    });
  }
} finally {
  await a.log.close();
  await b.log.close();
  rmSync(dir, { recursive: true, force: true });
  await dropTables(`ab${run}_`);
}
console.table(table);
console.log(
  `load at the end ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
);
