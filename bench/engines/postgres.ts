import { createRequire } from 'node:module';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { createPostgresStore } from '@eventlog/adapters/postgres';
import type { EventInput, StoreColumn, StoreSchema } from '@eventlog/core';
import pg from 'pg';
import {
  type EngineContext,
  type EngineModule,
  type Location,
  locate,
  type RawGroup,
  type RawHandle,
  type RawInsertMethod,
  type StoreHandle,
  type Write,
} from '../engine.js';
import { createCsvWriter, createRowMapper, fillSteps, insertColumns, readSums } from '../raw-common.js';

// PostgreSQL: eventlog's store and the raw pg driver in one private schema per run (dropped at the
// end). Raw ingest is measured two ways: the multi-row INSERT most applications send, and COPY
// through pg-copy-streams; eventlog is compared with the faster.

/** Server used by the benchmark; override with EVENTLOG_BENCH_POSTGRES_URL. */
/** EVENTLOG_BENCH_KEYWORD_INDEX=1: the store keeps its pg_trgm keyword-search index (opt-in, off as in the library). */
const BENCH_KEYWORD_INDEX = process.env.EVENTLOG_BENCH_KEYWORD_INDEX === '1';
export const POSTGRES_URL = process.env.EVENTLOG_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

const q = (name: string) => `"${name.replaceAll('"', '""')}"`;
const MAX_PARAMETERS = 65_535;

/** pg returns int8 and numeric as strings; the raw side reads them as numbers, as eventlog does. */
const numericTypes: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === 20 || oid === 1700 ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

function columnType(column: StoreColumn): string {
  switch (column.type) {
    case 'string':
      return `varchar(${column.maxLength ?? 255})`;
    case 'text':
      return 'text';
    case 'integer':
      return 'bigint';
    case 'float':
      return 'double precision';
    case 'json':
      return 'jsonb';
  }
}

type CopyStream = Writable & pg.Submittable;
type CopyFrom = (sql: string) => CopyStream;
let copyFrom: CopyFrom | undefined;

/** pg-copy-streams is a dependency of the adapters package, so it is resolved from there. */
function loadCopyFrom(): CopyFrom {
  if (!copyFrom) {
    const require = createRequire(fileURLToPath(new URL('../../packages/adapters/package.json', import.meta.url)));
    copyFrom = (require('pg-copy-streams') as { from: CopyFrom }).from;
  }
  return copyFrom;
}

/** One value in COPY text format. */
function copyText(value: unknown): string {
  if (value === null || value === undefined) return '\\N';
  if (typeof value === 'number') return String(value);
  const text = String(value);
  let plain = true;
  for (let i = 0; i < text.length && plain; i++) {
    const c = text.charCodeAt(i);
    plain = c !== 92 && c !== 10 && c !== 13 && c !== 9;
  }
  return plain ? text : text.replaceAll('\\', '\\\\').replaceAll('\n', '\\n').replaceAll('\r', '\\r').replaceAll('\t', '\\t');
}

const sums = (metrics: readonly string[]) => metrics.map((m, i) => `, coalesce(sum(${q(m)}), 0) as s${i}`).join('');

interface Names {
  url: string;
  schema: string;
  table: string;
}

function qualified(n: Names): string {
  return `${q(n.schema)}.${q(n.table)}`;
}

function createRaw(pool: pg.Pool, names: Names, schema: StoreSchema): RawHandle {
  const columns = insertColumns(schema);
  const toValues = createRowMapper(schema);
  const t = qualified(names);
  const list = columns.map(q).join(', ');
  const rowsPerStatement = Math.floor(MAX_PARAMETERS / columns.length);

  const multiRowInsert: RawInsertMethod = {
    name: 'multi-row INSERT',
    async insert(events) {
      const client = await pool.connect();
      try {
        await client.query('begin');
        for (let from = 0; from < events.length; from += rowsPerStatement) {
          const chunk = events.slice(from, from + rowsPerStatement);
          const params: unknown[] = [];
          const tuples: string[] = [];
          for (const event of chunk) {
            const values = toValues(event);
            const start = params.length;
            tuples.push(`(${values.map((_, i) => `$${start + i + 1}`).join(', ')})`);
            for (const v of values) params.push(v);
          }
          await client.query(`insert into ${t} (${list}) values ${tuples.join(', ')}`, params);
        }
        await client.query('commit');
      } catch (error) {
        await client.query('rollback').catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    },
  };

  const copy: RawInsertMethod = {
    name: 'COPY',
    async insert(events) {
      const from = loadCopyFrom();
      const client = await pool.connect();
      try {
        const stream = client.query(from(`copy ${t} (${list}) from stdin`));
        await pipeline(
          Readable.from(
            (function* () {
              let chunk = '';
              for (const event of events) {
                chunk += `${toValues(event).map(copyText).join('\t')}\n`;
                if (chunk.length >= 65_536) {
                  yield chunk;
                  chunk = '';
                }
              }
              if (chunk) yield chunk;
            })(),
          ),
          stream,
        );
      } finally {
        client.release();
      }
    },
  };

  const one = `insert into ${t} (${list}) values (${columns.map((_, i) => `$${i + 1}`).join(', ')})`;
  const all = async (sql: string, params: unknown[]) => (await pool.query(sql, params)).rows as Record<string, unknown>[];

  return {
    location: { url: names.url, schema: names.schema, table: names.table },
    insertMethods: [copy, multiRowInsert],
    async insertOne(event: EventInput) {
      await pool.query(one, toValues(event));
    },
    async count() {
      return Number((await all(`select count(*) as n from ${t}`, []))[0]?.n ?? 0);
    },
    async page(p) {
      const where = 'tenant_id = $1 and type = $2 and time >= $3 and time < $4';
      const [rows, total] = await Promise.all([
        all(`select * from ${t} where ${where} order by time desc, id desc limit $5 offset $6`, [
          p.tenantId,
          p.type,
          p.since,
          p.until,
          p.pageSize,
          (p.page - 1) * p.pageSize,
        ]),
        all(`select count(*) as n from ${t} where ${where}`, [p.tenantId, p.type, p.since, p.until]),
      ]);
      return { rows, total: Number(total[0]?.n ?? 0) };
    },
    async keyset(p) {
      // The row comparison is one index condition (what eventlog's store writes on PostgreSQL too).
      return all(`select * from ${t} where tenant_id = $1 and (time, id) < ($2, $3) order by time desc, id desc limit $4`, [
        p.tenantId,
        p.after.time,
        p.after.id,
        p.limit,
      ]);
    },
    async stats(p) {
      const [whole, recent] = await Promise.all([
        all(`select count(*) as n${sums(p.metrics)} from ${t} where tenant_id = $1 and time >= $2 and time < $3`, [
          p.tenantId,
          p.since,
          p.until,
        ]),
        all(`select count(*) as n${sums(p.tokenMetrics)} from ${t} where tenant_id = $1 and time >= $2`, [p.tenantId, p.recentSince]),
      ]);
      const recentSums = readSums(recent[0], p.tokenMetrics);
      return {
        count: Number(whole[0]?.n ?? 0),
        sums: readSums(whole[0], p.metrics),
        rpm: Number(recent[0]?.n ?? 0),
        tpm: Object.values(recentSums).reduce((a, b) => a + b, 0),
      };
    },
    async timeline(p) {
      const rows = await all(
        `select (time / ${p.stepMs}) * ${p.stepMs} as k, count(*) as n${sums(p.metrics)} from ${t} where tenant_id = $1 and time >= $2 and time < $3 group by k`,
        [p.tenantId, p.since, p.until],
      );
      return fillSteps(rows, p);
    },
    async top(p) {
      const c = q(p.column);
      const rows = await all(
        `select ${c} as k, count(*) as n${sums(p.metrics)} from ${t} where time >= $1 and ${c} is not null group by ${c} order by n desc, k limit $2`,
        [p.since, p.limit],
      );
      return rows.map((r): RawGroup => ({ key: r.k as string | number, count: Number(r.n), sums: readSums(r, p.metrics) }));
    },
    async pruneBatch(before, limit) {
      const result = await pool.query(`delete from ${t} where id in (select id from ${t} where time < $1 order by time, id limit $2)`, [
        before,
        limit,
      ]);
      return result.rowCount ?? 0;
    },
    async close() {
      await pool.end();
    },
    async drop() {
      const admin = new pg.Client({ connectionString: names.url });
      await admin.connect();
      try {
        await admin.query(`drop table if exists ${t}`);
      } finally {
        await admin.end();
      }
    },
  };
}

function schemaName(context: EngineContext): string {
  return `eventlog_bench_${context.runId}`.toLowerCase();
}

async function describe(url: string, schema: string, table: string): Promise<{ columns: string[]; indexes: string[] }> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const columns = (
      await client.query<{ column_name: string; data_type: string; is_nullable: string; len: number | null; def: string | null }>(
        `select column_name, data_type, is_nullable, character_maximum_length as len, column_default as def
           from information_schema.columns where table_schema = $1 and table_name = $2 order by ordinal_position`,
        [schema, table],
      )
    ).rows.map(
      (c) =>
        `${c.column_name} ${c.data_type}${c.len ? `(${c.len})` : ''}${c.is_nullable === 'NO' ? ' not null' : ''}${c.def?.startsWith('nextval') ? ' serial' : ''}`,
    );
    const indexes = (
      await client.query<{ cols: string }>(
        `select string_agg(a.attname, ',' order by k.ord) as cols
           from pg_index x
           join pg_class t on t.oid = x.indrelid
           join pg_namespace n on n.oid = t.relnamespace
           cross join lateral unnest(x.indkey) with ordinality as k(attnum, ord)
           join pg_attribute a on a.attrelid = t.oid and a.attnum = k.attnum
          where n.nspname = $1 and t.relname = $2
          group by x.indexrelid`,
        [schema, table],
      )
    ).rows
      .map((r) => r.cols)
      .sort();
    return { columns, indexes };
  } finally {
    await client.end();
  }
}

export const postgresEngine: EngineModule = {
  name: 'postgres',
  async check() {
    const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 3000 });
    try {
      await client.connect();
      await client.query('select 1');
      return null;
    } catch (error) {
      return `cannot reach ${POSTGRES_URL}: ${error instanceof Error ? error.message : String(error)}`;
    } finally {
      await client.end().catch(() => undefined);
    }
  },
  async createStore(context: EngineContext, slot: string): Promise<StoreHandle> {
    const location = { url: POSTGRES_URL, schema: schemaName(context), prefix: `${slot}_` };
    return {
      store: createPostgresStore({
        connectionString: location.url,
        schema: location.schema,
        tablePrefix: location.prefix,
        keywordIndex: BENCH_KEYWORD_INDEX,
      }),
      location,
      drop: async () => {
        const admin = new pg.Client({ connectionString: location.url });
        await admin.connect();
        try {
          for (const t of ['events', 'sessions', 'locks', 'migrations'])
            await admin.query(`drop table if exists ${q(location.schema)}.${q(`${slot}_${t}`)}`);
        } finally {
          await admin.end();
        }
      },
    };
  },
  async openStore(location: Location) {
    return createPostgresStore({
      connectionString: locate(location, 'url'),
      schema: locate(location, 'schema'),
      tablePrefix: locate(location, 'prefix'),
      keywordIndex: BENCH_KEYWORD_INDEX,
    });
  },
  async createRaw(context: EngineContext, slot: string, schema: StoreSchema) {
    const names: Names = { url: POSTGRES_URL, schema: schemaName(context), table: `raw_${slot}_events` };
    const pool = new pg.Pool({ connectionString: names.url, max: 10, types: numericTypes });
    pool.on('error', () => undefined);
    const t = qualified(names);
    await pool.query(`create schema if not exists ${q(names.schema)}`);
    const columns = schema.columns.map((c) =>
      c.name === 'id' ? `${q('id')} bigserial primary key` : `${q(c.name)} ${columnType(c)}${c.nullable ? '' : ' not null'}`,
    );
    await pool.query(`create table ${t} (${columns.join(', ')})`);
    for (const index of schema.indexes) {
      await pool.query(`create index ${q(`raw_${slot}_ix_${index.name}`)} on ${t} (${index.columns.map(q).join(', ')})`);
    }
    return createRaw(pool, names, schema);
  },
  async exportRaw(location: Location, schema: StoreSchema, write: Write) {
    const names: Names = { url: locate(location, 'url'), schema: locate(location, 'schema'), table: locate(location, 'table') };
    const client = new pg.Client({ connectionString: names.url, types: numericTypes });
    await client.connect();
    try {
      const csv = createCsvWriter(schema);
      await write(csv.header);
      await client.query('begin');
      await client.query(`declare raw_export no scroll cursor for select * from ${qualified(names)} order by time desc, id desc`);
      let rows = 0;
      for (;;) {
        const batch = (await client.query('fetch 2000 from raw_export')).rows as Record<string, unknown>[];
        if (batch.length === 0) break;
        let chunk = '';
        for (const row of batch) chunk += csv.line(row);
        rows += batch.length;
        await write(chunk);
      }
      await client.query('commit');
      return rows;
    } finally {
      await client.end();
    }
  },
  async analyze(store: Location, raw: Location) {
    const admin = new pg.Client({ connectionString: POSTGRES_URL });
    await admin.connect();
    try {
      await admin.query(`analyze ${q(locate(store, 'schema'))}.${q(`${locate(store, 'prefix')}events`)}`);
      await admin.query(`analyze ${q(locate(raw, 'schema'))}.${q(locate(raw, 'table'))}`);
    } finally {
      await admin.end();
    }
  },
  async compareSchemas(store: Location, raw: Location) {
    const a = await describe(locate(store, 'url'), locate(store, 'schema'), `${locate(store, 'prefix')}events`);
    const b = await describe(locate(raw, 'url'), locate(raw, 'schema'), locate(raw, 'table'));
    const problems: string[] = [];
    if (a.columns.join('|') !== b.columns.join('|'))
      problems.push(`columns differ:\n  eventlog ${a.columns.join(', ')}\n  raw      ${b.columns.join(', ')}`);
    if (a.indexes.join('|') !== b.indexes.join('|'))
      problems.push(`indexes differ:\n  eventlog ${a.indexes.join(' ; ')}\n  raw      ${b.indexes.join(' ; ')}`);
    return problems;
  },
  async cleanup(context: EngineContext) {
    const admin = new pg.Client({ connectionString: POSTGRES_URL });
    await admin.connect();
    try {
      await admin.query(`drop schema if exists ${q(schemaName(context))} cascade`);
    } finally {
      await admin.end();
    }
  },
};
