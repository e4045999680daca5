import { createMysqlStore } from '@eventlog/adapters/mysql';
import type { EventInput, StoreColumn, StoreSchema } from '@eventlog/core';
import mysqlCallback from 'mysql2';
import mysql from 'mysql2/promise';
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

// MySQL / MariaDB: eventlog's store and raw mysql2 on tables named after the run in the test
// database (dropped at the end). Raw ingest is the multi-row INSERT (`VALUES ?` with nested
// arrays), split to fit max_allowed_packet, in one transaction per batch.

/** Server used by the benchmark; override with EVENTLOG_BENCH_MYSQL_URL. */
export const MYSQL_URL = process.env.EVENTLOG_BENCH_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';

const q = (name: string) => `\`${name.replaceAll('`', '``')}\``;

function columnType(column: StoreColumn): string {
  switch (column.type) {
    case 'string':
      return `varchar(${column.maxLength ?? 255})`;
    case 'text':
      return 'mediumtext';
    case 'integer':
      return 'bigint';
    case 'float':
      return 'double';
    case 'json':
      return 'json';
  }
}

const sums = (metrics: readonly string[]) => metrics.map((m, i) => `, coalesce(sum(${q(m)}), 0) as s${i}`).join('');

type Row = Record<string, unknown>;

function createRaw(pool: mysql.Pool, url: string, table: string, schema: StoreSchema, maxPacket: number): RawHandle {
  const columns = insertColumns(schema);
  const toValues = createRowMapper(schema);
  const t = q(table);
  const list = columns.map(q).join(', ');
  // Statements stay well under max_allowed_packet; the estimate is refined from the data.
  const budget = Math.floor(maxPacket * 0.5);

  const insertRows = async (connection: mysql.PoolConnection, events: readonly EventInput[]) => {
    let batch: unknown[][] = [];
    let bytes = 0;
    for (const event of events) {
      const values = toValues(event);
      let size = 8;
      for (const v of values) size += typeof v === 'string' ? v.length * 2 + 4 : 12;
      if (batch.length > 0 && bytes + size > budget) {
        await connection.query(`insert into ${t} (${list}) values ?`, [batch]);
        batch = [];
        bytes = 0;
      }
      batch.push(values);
      bytes += size;
    }
    if (batch.length) await connection.query(`insert into ${t} (${list}) values ?`, [batch]);
  };

  const multiRowInsert: RawInsertMethod = {
    name: 'multi-row INSERT',
    async insert(events) {
      const connection = await pool.getConnection();
      try {
        await connection.beginTransaction();
        await insertRows(connection, events);
        await connection.commit();
      } catch (error) {
        await connection.rollback().catch(() => undefined);
        throw error;
      } finally {
        connection.release();
      }
    },
  };

  const all = async (sql: string, params: unknown[]) => (await pool.query(sql, params))[0] as Row[];
  const one = `insert into ${t} (${list}) values (${columns.map(() => '?').join(', ')})`;

  return {
    location: { url, table },
    insertMethods: [multiRowInsert],
    async insertOne(event: EventInput) {
      await pool.query(one, toValues(event));
    },
    async count() {
      return Number((await all(`select count(*) as n from ${t}`, []))[0]?.n ?? 0);
    },
    async page(p) {
      const where = 'tenant_id = ? and type = ? and time >= ? and time < ?';
      const [rows, total] = await Promise.all([
        all(`select * from ${t} where ${where} order by time desc, id desc limit ? offset ?`, [
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
      // The page's ids from the covering (tenant_id, time, id) index first, as eventlog's store does:
      // MariaDB's optimizer otherwise reads every row of the tenant newer than the cursor.
      const ids = `select id from ${t} where tenant_id = ? and time <= ? and (time < ? or id < ?) order by time desc, id desc limit ?`;
      return all(`select e.* from ${t} e join (${ids}) k on k.id = e.id order by e.time desc, e.id desc`, [
        p.tenantId,
        p.after.time,
        p.after.time,
        p.after.id,
        p.limit,
      ]);
    },
    async stats(p) {
      const [whole, recent] = await Promise.all([
        all(`select count(*) as n${sums(p.metrics)} from ${t} where tenant_id = ? and time >= ? and time < ?`, [
          p.tenantId,
          p.since,
          p.until,
        ]),
        all(`select count(*) as n${sums(p.tokenMetrics)} from ${t} where tenant_id = ? and time >= ?`, [p.tenantId, p.recentSince]),
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
        `select (time div ${p.stepMs}) * ${p.stepMs} as k, count(*) as n${sums(p.metrics)} from ${t} where tenant_id = ? and time >= ? and time < ? group by k`,
        [p.tenantId, p.since, p.until],
      );
      return fillSteps(rows, p);
    },
    async top(p) {
      const c = q(p.column);
      const rows = await all(
        `select ${c} as k, count(*) as n${sums(p.metrics)} from ${t} where time >= ? and ${c} is not null group by ${c} order by n desc, k limit ?`,
        [p.since, p.limit],
      );
      return rows.map((r): RawGroup => ({ key: r.k as string | number, count: Number(r.n), sums: readSums(r, p.metrics) }));
    },
    async pruneBatch(before, limit) {
      const [result] = await pool.query(`delete from ${t} where time < ? order by time, id limit ?`, [before, limit]);
      return (result as mysql.ResultSetHeader).affectedRows;
    },
    async close() {
      await pool.end();
    },
    async drop() {
      const admin = await mysql.createConnection({ uri: url });
      try {
        await admin.query(`drop table if exists ${t}`);
      } finally {
        await admin.end();
      }
    },
  };
}

function storePrefix(context: EngineContext, slot: string): string {
  return `${context.runId}_${slot}_`;
}

async function describe(url: string, table: string): Promise<{ columns: string[]; indexes: string[]; collation: string }> {
  const admin = await mysql.createConnection({ uri: url });
  try {
    const [columns] = await admin.query(
      `select column_name as name, column_type as type, is_nullable as nullable, extra, collation_name as coll
         from information_schema.columns where table_schema = database() and table_name = ? order by ordinal_position`,
      [table],
    );
    const [indexes] = await admin.query(
      `select group_concat(column_name order by seq_in_index) as cols
         from information_schema.statistics where table_schema = database() and table_name = ? group by index_name`,
      [table],
    );
    const [tables] = await admin.query(
      'select table_collation as c from information_schema.tables where table_schema = database() and table_name = ?',
      [table],
    );
    return {
      columns: (columns as Row[]).map(
        (c) => `${c.name} ${c.type}${c.nullable === 'NO' ? ' not null' : ''}${c.extra ? ` ${c.extra}` : ''}${c.coll ? ` ${c.coll}` : ''}`,
      ),
      indexes: (indexes as Row[]).map((r) => String(r.cols)).sort(),
      collation: String((tables as Row[])[0]?.c ?? ''),
    };
  } finally {
    await admin.end();
  }
}

export const mysqlEngine: EngineModule = {
  name: 'mysql',
  async check() {
    try {
      const connection = await mysql.createConnection({ uri: MYSQL_URL, connectTimeout: 3000 });
      await connection.query('select 1');
      await connection.end();
      return null;
    } catch (error) {
      return `cannot reach ${MYSQL_URL}: ${error instanceof Error ? error.message : String(error)}`;
    }
  },
  async createStore(context: EngineContext, slot: string): Promise<StoreHandle> {
    const location = { url: MYSQL_URL, prefix: storePrefix(context, slot) };
    return {
      store: createMysqlStore({ uri: location.url, tablePrefix: location.prefix }),
      location,
      drop: async () => {
        const admin = await mysql.createConnection({ uri: location.url });
        try {
          for (const t of ['events', 'sessions', 'locks', 'migrations'])
            await admin.query(`drop table if exists ${q(`${location.prefix}${t}`)}`);
        } finally {
          await admin.end();
        }
      },
    };
  },
  async openStore(location: Location) {
    return createMysqlStore({ uri: locate(location, 'url'), tablePrefix: locate(location, 'prefix') });
  },
  async createRaw(context: EngineContext, slot: string, schema: StoreSchema) {
    const table = `raw_${context.runId}_${slot}`;
    const pool = mysql.createPool({ uri: MYSQL_URL, connectionLimit: 10, decimalNumbers: true });
    // The same collation as eventlog's table (the store picks a binary, no-pad one for the server).
    const store = await describe(MYSQL_URL, `${storePrefix(context, 'main')}events`);
    const collation = store.collation || 'utf8mb4_bin';
    const [settings] = await pool.query('select @@max_allowed_packet as packet');
    const maxPacket = Number((settings as Row[])[0]?.packet ?? 4 * 1024 * 1024);
    const columns = schema.columns.map((c) =>
      c.name === 'id'
        ? `${q('id')} bigint not null auto_increment primary key`
        : `${q(c.name)} ${columnType(c)}${c.nullable ? '' : ' not null'}`,
    );
    const indexes = schema.indexes.map((index) => `index ${q(`raw_ix_${index.name}`)} (${index.columns.map(q).join(', ')})`);
    await pool.query(
      `create table ${q(table)} (${[...columns, ...indexes].join(', ')}) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=${collation}`,
    );
    return createRaw(pool, MYSQL_URL, table, schema, maxPacket);
  },
  async exportRaw(location: Location, schema: StoreSchema, write: Write) {
    const connection = mysqlCallback.createConnection({ uri: locate(location, 'url'), decimalNumbers: true });
    try {
      const csv = createCsvWriter(schema);
      await write(csv.header);
      let rows = 0;
      let chunk = '';
      const stream = connection.query(`select * from ${q(locate(location, 'table'))} order by time desc, id desc`).stream();
      for await (const row of stream) {
        chunk += csv.line(row as Row);
        if (++rows % 2000 === 0) {
          await write(chunk);
          chunk = '';
        }
      }
      if (chunk) await write(chunk);
      return rows;
    } finally {
      await new Promise<void>((resolve) => connection.end(() => resolve()));
    }
  },
  async analyze(store: Location, raw: Location) {
    const admin = await mysql.createConnection({ uri: MYSQL_URL });
    try {
      await admin.query(`analyze table ${q(`${locate(store, 'prefix')}events`)}, ${q(locate(raw, 'table'))}`);
    } finally {
      await admin.end();
    }
  },
  async compareSchemas(store: Location, raw: Location) {
    const a = await describe(locate(store, 'url'), `${locate(store, 'prefix')}events`);
    const b = await describe(locate(raw, 'url'), locate(raw, 'table'));
    const problems: string[] = [];
    if (a.columns.join('|') !== b.columns.join('|'))
      problems.push(`columns differ:\n  eventlog ${a.columns.join(', ')}\n  raw      ${b.columns.join(', ')}`);
    if (a.indexes.join('|') !== b.indexes.join('|'))
      problems.push(`indexes differ:\n  eventlog ${a.indexes.join(' ; ')}\n  raw      ${b.indexes.join(' ; ')}`);
    return problems;
  },
  async cleanup(context: EngineContext) {
    const admin = await mysql.createConnection({ uri: MYSQL_URL });
    try {
      const [tables] = await admin.query(
        'select table_name as t from information_schema.tables where table_schema = database() and (table_name like ? or table_name like ?)',
        [`${context.runId}\\_%`, `raw\\_${context.runId}\\_%`],
      );
      for (const row of tables as Row[]) await admin.query(`drop table if exists ${q(String(row.t))}`);
    } finally {
      await admin.end();
    }
  },
};
