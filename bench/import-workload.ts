import { join } from 'node:path';
import { POSTGRES_URL } from './engines/postgres.js';
import { generateCombinedLog, measureImport } from './import-measure.js';
import { result } from './report.js';
import type { BenchContext } from './workloads.js';

/** Engines whose stores the CLI's `--db` can name in a run of its own (a file, a schema). */
const IMPORT_ENGINES = new Set(['sqlite', 'postgres']);

/**
 * `eventlog import` of a combined access log with `rows` lines, as a child process, against
 * `recordMany` of the same events parsed beforehand (issue 13: import at least 0.8× recordMany,
 * so ratio ≤ 1.25). Each side writes to a fresh store of the engine; the peak RSS of the importer
 * goes into the note.
 */
export async function importWorkload(bench: BenchContext): Promise<void> {
  const engine = bench.engine.name;
  if (!IMPORT_ENGINES.has(engine)) {
    bench.skipped('import', 'the CLI import is measured on SQLite and PostgreSQL');
    return;
  }
  const { tmpDir, runId } = bench.context;
  const file = join(tmpDir, `combined-${bench.rows}.log`);
  bench.progress(`import: generating a combined log of ${bench.rows.toLocaleString('en-US')} lines`);
  await generateCombinedLog(file, bench.rows);
  const schemas: string[] = [];
  const freshDb = () => {
    const slot = `imp${schemas.length + 1}`;
    schemas.push(`${runId}_${slot}`);
    return engine === 'sqlite' ? join(tmpDir, `${slot}.db`) : `${POSTGRES_URL}?schema=${runId}_${slot}`;
  };
  try {
    bench.progress('import: eventlog import (child process), then recordMany of the parsed events');
    const m = await measureImport({ file, lines: bench.rows, batch: 5000, freshDb, workDir: tmpDir });
    if (m.recordManyEvents !== bench.rows) bench.problem(`import: recordMany stored ${m.recordManyEvents} of ${bench.rows} parsed lines`);
    if (!m.summary.includes(`${bench.rows.toLocaleString('en-US')} stored`)) bench.problem(`import: the CLI said "${m.summary}"`);
    bench.report(
      result(
        engine,
        'eventlog import (5000/batch)',
        'throughput',
        m.lines / m.importSeconds,
        'events/s',
        m.recordManyEvents / m.recordManySeconds,
        {
          target: { maxRatio: 1.25 },
          note: `raw = recordMany of the same events parsed beforehand (untimed); import ${m.importSeconds.toFixed(1)} s as a process (start to exit), recordMany ${m.recordManySeconds.toFixed(1)} s; CPU import ${m.importCpuSeconds.toFixed(1)} s, recordMany ${m.recordManyCpuSeconds.toFixed(1)} s; importer peak RSS ${m.peakRssMb.toFixed(0)} MB`,
        },
      ),
    );
  } finally {
    if (engine === 'postgres') {
      const { default: pg } = await import('pg');
      const client = new pg.Client({ connectionString: POSTGRES_URL });
      await client.connect();
      for (const schema of schemas) await client.query(`drop schema if exists "${schema}" cascade`);
      await client.end();
    }
  }
}
