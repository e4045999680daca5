import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { createSqliteStore } from '@eventlog/adapters/sqlite';
import type { EventInput, StoreColumn, StoreSchema } from '@eventlog/core';
import Database from 'better-sqlite3';
import {
  type EngineContext,
  type EngineModule,
  type Location,
  locate,
  type RawGroup,
  type RawHandle,
  type StoreHandle,
  type Write,
} from '../engine.js';
import { createCsvWriter, createRowMapper, fillSteps, insertColumns, readSums } from '../raw-common.js';

// SQLite: eventlog's store on a file database, and raw better-sqlite3 on a second file with the
// same pragmas (WAL, synchronous=NORMAL), columns and indexes, using cached prepared statements.

const RAW_TABLE = 'raw_events';
const STORE_TABLE = 'eventlog_events';

const q = (name: string) => `"${name.replaceAll('"', '""')}"`;

function columnType(column: StoreColumn): string {
  if (column.type === 'integer') return 'integer';
  if (column.type === 'float') return 'real';
  return 'text';
}

function open(file: string): Database.Database {
  const db = new Database(file);
  db.pragma('busy_timeout = 5000');
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  return db;
}

function removeDatabase(file: string): void {
  for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(`${file}${suffix}`, { force: true });
}

function createRawTable(db: Database.Database, schema: StoreSchema): void {
  const columns = schema.columns.map((c) =>
    c.name === 'id' ? `${q('id')} integer primary key autoincrement` : `${q(c.name)} ${columnType(c)}${c.nullable ? '' : ' not null'}`,
  );
  db.exec(`create table ${q(RAW_TABLE)} (${columns.join(', ')})`);
  for (const index of schema.indexes) {
    db.exec(`create index ${q(`raw_ix_${index.name}`)} on ${q(RAW_TABLE)} (${index.columns.map(q).join(', ')})`);
  }
}

function parseData(row: Record<string, unknown>): Record<string, unknown> {
  if (typeof row.data === 'string') row.data = JSON.parse(row.data);
  return row;
}

const sums = (metrics: readonly string[]) => metrics.map((m, i) => `, coalesce(sum(${q(m)}), 0) as s${i}`).join('');

function createRaw(db: Database.Database, file: string, schema: StoreSchema): RawHandle {
  const columns = insertColumns(schema);
  const toValues = createRowMapper(schema);
  const insert = db.prepare(`insert into ${q(RAW_TABLE)} (${columns.map(q).join(', ')}) values (${columns.map(() => '?').join(', ')})`);
  const insertAll = db.transaction((events: readonly EventInput[]) => {
    for (const event of events) insert.run(toValues(event));
  });
  const statements = new Map<string, Database.Statement>();
  const prepared = (sql: string) => {
    let statement = statements.get(sql);
    if (!statement) {
      statement = db.prepare(sql);
      statements.set(sql, statement);
    }
    return statement;
  };
  const t = q(RAW_TABLE);
  return {
    location: { file },
    insertMethods: [
      {
        name: 'prepared INSERT in a transaction',
        insert: async (events) => {
          insertAll(events);
        },
      },
    ],
    async insertOne(event) {
      insert.run(toValues(event));
    },
    async count() {
      return Number((prepared(`select count(*) as n from ${t}`).get() as { n: number }).n);
    },
    async page(p) {
      const where = 'tenant_id = ? and type = ? and time >= ? and time < ?';
      const rows = prepared(`select * from ${t} where ${where} order by time desc, id desc limit ? offset ?`).all(
        p.tenantId,
        p.type,
        p.since,
        p.until,
        p.pageSize,
        (p.page - 1) * p.pageSize,
      ) as Record<string, unknown>[];
      const total = (prepared(`select count(*) as n from ${t} where ${where}`).get(p.tenantId, p.type, p.since, p.until) as { n: number })
        .n;
      return { rows: rows.map(parseData), total };
    },
    async keyset(p) {
      const rows = prepared(
        `select * from ${t} where tenant_id = ? and time <= ? and (time < ? or id < ?) order by time desc, id desc limit ?`,
      ).all(p.tenantId, p.after.time, p.after.time, p.after.id, p.limit) as Record<string, unknown>[];
      return rows.map(parseData);
    },
    async stats(p) {
      const all = prepared(`select count(*) as n${sums(p.metrics)} from ${t} where tenant_id = ? and time >= ? and time < ?`).get(
        p.tenantId,
        p.since,
        p.until,
      ) as Record<string, unknown>;
      const recent = prepared(`select count(*) as n${sums(p.tokenMetrics)} from ${t} where tenant_id = ? and time >= ?`).get(
        p.tenantId,
        p.recentSince,
      ) as Record<string, unknown>;
      const recentSums = readSums(recent, p.tokenMetrics);
      return {
        count: Number(all.n),
        sums: readSums(all, p.metrics),
        rpm: Number(recent.n),
        tpm: Object.values(recentSums).reduce((a, b) => a + b, 0),
      };
    },
    async timeline(p) {
      const rows = prepared(
        `select (time / ${p.stepMs}) * ${p.stepMs} as k, count(*) as n${sums(p.metrics)} from ${t} where tenant_id = ? and time >= ? and time < ? group by k`,
      ).all(p.tenantId, p.since, p.until) as Record<string, unknown>[];
      return fillSteps(rows, p);
    },
    async top(p) {
      const c = q(p.column);
      const rows = prepared(
        `select ${c} as k, count(*) as n${sums(p.metrics)} from ${t} where time >= ? and ${c} is not null group by ${c} order by n desc, k limit ?`,
      ).all(p.since, p.limit) as Record<string, unknown>[];
      return rows.map((r): RawGroup => ({ key: r.k as string | number, count: Number(r.n), sums: readSums(r, p.metrics) }));
    },
    async pruneBatch(before, limit) {
      return prepared(`delete from ${t} where id in (select id from ${t} where time < ? order by time, id limit ?)`).run(before, limit)
        .changes;
    },
    async close() {
      statements.clear();
      if (db.open) db.close();
    },
    async drop() {
      if (db.open) db.close();
      removeDatabase(file);
    },
  };
}

function describe(file: string, table: string): { columns: string[]; indexes: string[] } {
  const db = new Database(file, { readonly: true });
  try {
    const columns = (
      db.prepare(`select name, type, "notnull", pk from pragma_table_info(?) order by cid`).all(table) as Record<string, unknown>[]
    ).map((c) => `${c.name} ${String(c.type).toLowerCase()}${c.notnull ? ' not null' : ''}${c.pk ? ' pk' : ''}`);
    const indexes = (
      db
        .prepare(
          `select il.name as ix, group_concat(ii.name, ',') as cols from pragma_index_list(?) il, pragma_index_info(il.name) ii group by il.name`,
        )
        .all(table) as { ix: string; cols: string }[]
    )
      .map((r) => r.cols)
      .sort();
    return { columns, indexes };
  } finally {
    db.close();
  }
}

/** EVENTLOG_BENCH_KEYWORD_INDEX=1: the store keeps its keyword-search index (opt-in, off as in the library). */
const BENCH_KEYWORD_INDEX = process.env.EVENTLOG_BENCH_KEYWORD_INDEX === '1';
/** EVENTLOG_BENCH_CHECKPOINT_WORKER=0: the store checkpoints inside its commits, as SQLite does by default. */
const BENCH_CHECKPOINT_WORKER = process.env.EVENTLOG_BENCH_CHECKPOINT_WORKER !== '0';
/** EVENTLOG_BENCH_READERS=N: the store's reader workers (0: every read on the store's own connection). */
const BENCH_READERS = process.env.EVENTLOG_BENCH_READERS === undefined ? {} : { readers: Number(process.env.EVENTLOG_BENCH_READERS) };
const storeOptions = { keywordIndex: BENCH_KEYWORD_INDEX, checkpointWorker: BENCH_CHECKPOINT_WORKER, ...BENCH_READERS };

export const sqliteEngine: EngineModule = {
  name: 'sqlite',
  async check() {
    return null;
  },
  // The store keeps planner statistics by itself (PRAGMA optimize after each 50,000 rows written,
  // STAT1 figures without STAT4 samples; sqlite-dialect.ts): the raw table gets the same, made the
  // same way, so both sides plan alike.
  async analyze(_store: Location, raw: Location) {
    const db = open(locate(raw, 'file'));
    try {
      db.exec('pragma optimize=0x10002');
      db.exec('delete from sqlite_stat4');
    } finally {
      db.close();
    }
  },
  async createStore(context: EngineContext, slot: string): Promise<StoreHandle> {
    const file = join(context.tmpDir, `${slot}-eventlog.db`);
    return {
      store: createSqliteStore({ filename: file, ...storeOptions }),
      location: { file },
      drop: async () => removeDatabase(file),
    };
  },
  async openStore(location: Location) {
    return createSqliteStore({ filename: locate(location, 'file'), ...storeOptions });
  },
  async createRaw(context: EngineContext, slot: string, schema: StoreSchema) {
    const file = join(context.tmpDir, `${slot}-raw.db`);
    const db = open(file);
    createRawTable(db, schema);
    return createRaw(db, file, schema);
  },
  async exportRaw(location: Location, schema: StoreSchema, write: Write) {
    const db = open(locate(location, 'file'));
    try {
      const csv = createCsvWriter(schema);
      await write(csv.header);
      let rows = 0;
      let chunk = '';
      for (const row of db.prepare(`select * from ${q(RAW_TABLE)} order by time desc, id desc`).iterate() as IterableIterator<
        Record<string, unknown>
      >) {
        chunk += csv.line(row);
        if (++rows % 2000 === 0) {
          await write(chunk);
          chunk = '';
        }
      }
      if (chunk) await write(chunk);
      return rows;
    } finally {
      db.close();
    }
  },
  async compareSchemas(store: Location, raw: Location) {
    const a = describe(locate(store, 'file'), STORE_TABLE);
    const b = describe(locate(raw, 'file'), RAW_TABLE);
    const problems: string[] = [];
    if (a.columns.join('|') !== b.columns.join('|'))
      problems.push(`columns differ:\n  eventlog ${a.columns.join(', ')}\n  raw      ${b.columns.join(', ')}`);
    if (a.indexes.join('|') !== b.indexes.join('|'))
      problems.push(`indexes differ:\n  eventlog ${a.indexes.join(' ; ')}\n  raw      ${b.indexes.join(' ; ')}`);
    return problems;
  },
};
