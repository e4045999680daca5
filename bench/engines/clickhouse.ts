import { request as httpRequest, type IncomingMessage } from 'node:http';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { type ClickhouseStore, createClickhouseStore } from '@eventlog/adapters/clickhouse';
import type { EventInput, StoreColumn, StoreSchema } from '@eventlog/core';
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
import { createCsvWriter, createRowMapper, csvLayout, fillSteps, insertColumns, readSums } from '../raw-common.js';

// ClickHouse (18.16 and later): eventlog's store and the raw @clickhouse/client in one private
// database per run (dropped at the end). The raw table has the store's layout: a MergeTree
// partitioned by UTC day and ordered by (ifNull(tenant_id, ''), time, id), filtered on that key
// expression as a hand-written application on this table would. 18.16 has no query parameters, so
// raw values are inlined as escaped literals too.
//
// ClickHouse has no auto-increment: eventlog's store makes its ids in the process, and the raw side
// numbers its rows with a counter. The ids of the two tables therefore differ (`ownIds`), and the
// harness compares rows by content. Raw ingest is measured two ways: the client's `insert()` with
// JSONEachRow (one object per row, stringified by the client) and a plain `fetch` POST of a
// JSONEachRow body; eventlog is compared with the faster. The raw export (in the export child,
// which cannot resolve the client) streams one query over node:http.

/** Server used by the benchmark; override with EVENTLOG_BENCH_CLICKHOUSE_URL. */
export const CLICKHOUSE_URL = process.env.EVENTLOG_BENCH_CLICKHOUSE_URL ?? 'http://127.0.0.1:18123';

const DAY_MS = 86_400_000;
const SORTING_KEY = "ifNull(tenant_id, ''), time, id";
const TENANT = "ifNull(`tenant_id`, '')";
/** 64-bit integers unquoted in JSON output (they are quoted by default), as eventlog's store asks too. */
const READ_SETTINGS = { output_format_json_quote_64bit_integers: 0 } as const;

type Client = ClickhouseStore['client'];
type CreateClient = (config: { url: string }) => Client;
type Row = Record<string, unknown>;

let createClient: CreateClient | undefined;

/**
 * @clickhouse/client is a dependency of the adapters package, so it is resolved from there. Only the
 * main process needs it: the export child reads over plain HTTP.
 */
function client(url: string): Client {
  if (!createClient) {
    const require = createRequire(fileURLToPath(new URL('../../packages/adapters/package.json', import.meta.url)));
    createClient = (require('@clickhouse/client') as { createClient: CreateClient }).createClient;
  }
  return createClient({ url });
}

const q = (name: string) => `\`${name.replaceAll('\\', '\\\\').replaceAll('`', '\\`')}\``;

/** A string literal (backslash and quote escaped; control characters too, so a query stays one line). */
const lit = (value: string) =>
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are escaped on purpose.
  `'${value.replace(/[\\'\x00-\x1f]/g, (c) => (c === '\\' || c === "'" ? `\\${c}` : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`))}'`;

/** A number literal (finite; negative ones in parentheses). */
function num(value: number): string {
  if (!Number.isFinite(value)) throw new TypeError(`not a finite number: ${value}`);
  return value < 0 ? `(${value})` : String(value);
}

function columnType(column: StoreColumn): string {
  const base = column.type === 'integer' ? 'Int64' : column.type === 'float' ? 'Float64' : 'String';
  return column.nullable ? `Nullable(${base})` : base;
}

const sums = (metrics: readonly string[]) => metrics.map((m, i) => `, ifNull(sum(${q(m)}), 0) AS s${i}`).join('');

function parseData(row: Row): Row {
  if (typeof row.data === 'string') row.data = JSON.parse(row.data);
  return row;
}

/** The HTTP endpoint and credentials of a server URL (fetch refuses credentials inside the URL). */
function endpoint(url: string): { base: string; headers: Record<string, string> } {
  const u = new URL(url);
  const headers: Record<string, string> = {};
  if (u.username) headers['X-ClickHouse-User'] = decodeURIComponent(u.username);
  if (u.password) headers['X-ClickHouse-Key'] = decodeURIComponent(u.password);
  u.username = '';
  u.password = '';
  return { base: `${u.origin}${u.pathname}`, headers };
}

/** Sends one statement (with `body`: an INSERT and its data) over plain HTTP; returns the response text. */
async function post(url: string, query: string, body?: string): Promise<string> {
  const { base, headers } = endpoint(url);
  const target = body === undefined ? base : `${base}?query=${encodeURIComponent(query)}`;
  const response = await fetch(target, { method: 'POST', headers, body: body ?? query });
  const text = await response.text();
  if (!response.ok) throw new Error(`ClickHouse ${response.status}: ${text.slice(0, 500)}`);
  return text;
}

/** Sends one query over node:http and resolves with the response stream once the status is known. */
function stream(url: string, query: string): Promise<IncomingMessage> {
  const { base, headers } = endpoint(url);
  return new Promise((resolve, reject) => {
    const request = httpRequest(base, { method: 'POST', headers }, (response) => {
      if (response.statusCode === 200) return resolve(response);
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (piece: string) => {
        text += piece;
      });
      response.on('end', () => reject(new Error(`ClickHouse ${response.statusCode}: ${text.slice(0, 500)}`)));
    });
    request.on('error', reject);
    request.end(query);
  });
}

async function select(c: Client, query: string): Promise<Row[]> {
  const result = await c.query({ query, format: 'JSONEachRow', clickhouse_settings: READ_SETTINGS });
  return result.json<Row>();
}

interface Names {
  url: string;
  database: string;
  table: string;
}

function createRaw(c: Client, names: Names, schema: StoreSchema): RawHandle {
  const columns = insertColumns(schema);
  const toValues = createRowMapper(schema);
  const t = `${q(names.database)}.${q(names.table)}`;
  // The raw application numbers its rows itself: a counter, from a 15-digit base so the rows are
  // about as long as eventlog's (whose ids are 10-ms ticks × 2^15).
  let nextId = Math.floor(Date.now() / 10) * 2 ** 15;
  const toObject = (event: EventInput): Row => {
    const values = toValues(event);
    const row: Row = { id: nextId++ };
    for (let i = 0; i < columns.length; i++) row[columns[i] as string] = values[i];
    return row;
  };

  const clientInsert: RawInsertMethod = {
    name: 'client insert() JSONEachRow',
    async insert(events) {
      await c.insert({ table: t, values: events.map(toObject), format: 'JSONEachRow' });
    },
  };

  const fetchInsert: RawInsertMethod = {
    name: 'fetch POST JSONEachRow',
    async insert(events) {
      let body = '';
      for (const event of events) body += `${JSON.stringify(toObject(event))}\n`;
      await post(names.url, `INSERT INTO ${t} FORMAT JSONEachRow`, body);
    },
  };

  const all = (query: string) => select(c, query);
  const command = async (query: string) => {
    await c.command({ query });
  };

  /** Waits until the table has no unfinished mutation (18.16 has no mutations_sync). */
  const waitForMutations = async () => {
    for (;;) {
      const [row] = await all(
        `SELECT count() AS n FROM system.mutations WHERE database = ${lit(names.database)} AND table = ${lit(names.table)} AND is_done = 0`,
      );
      if (Number(row?.n ?? 0) === 0) return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };

  return {
    location: { url: names.url, database: names.database, table: names.table },
    insertMethods: [clientInsert, fetchInsert],
    async insertOne(event: EventInput) {
      await c.insert({ table: t, values: [toObject(event)], format: 'JSONEachRow' });
    },
    async count() {
      return Number((await all(`SELECT count() AS n FROM ${t}`))[0]?.n ?? 0);
    },
    async page(p) {
      const where = `${TENANT} = ${lit(p.tenantId)} AND type = ${lit(p.type)} AND time >= ${num(p.since)} AND time < ${num(p.until)}`;
      const [rows, total] = await Promise.all([
        all(
          `SELECT * FROM ${t} WHERE ${where} ORDER BY time DESC, id DESC LIMIT ${num(p.pageSize)} OFFSET ${num((p.page - 1) * p.pageSize)}`,
        ),
        all(`SELECT count() AS n FROM ${t} WHERE ${where}`),
      ]);
      return { rows: rows.map(parseData), total: Number(total[0]?.n ?? 0) };
    },
    async keyset(p) {
      const time = num(p.after.time);
      const rows = await all(
        `SELECT * FROM ${t} WHERE ${TENANT} = ${lit(p.tenantId)} AND time <= ${time} AND (time < ${time} OR id < ${num(p.after.id)}) ` +
          `ORDER BY time DESC, id DESC LIMIT ${num(p.limit)}`,
      );
      return rows.map(parseData);
    },
    async stats(p) {
      const tenant = `${TENANT} = ${lit(p.tenantId)}`;
      const [whole, recent] = await Promise.all([
        all(`SELECT count() AS n${sums(p.metrics)} FROM ${t} WHERE ${tenant} AND time >= ${num(p.since)} AND time < ${num(p.until)}`),
        all(`SELECT count() AS n${sums(p.tokenMetrics)} FROM ${t} WHERE ${tenant} AND time >= ${num(p.recentSince)}`),
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
      const step = num(p.stepMs);
      const rows = await all(
        `SELECT intDiv(time, ${step}) * ${step} AS k, count() AS n${sums(p.metrics)} FROM ${t} ` +
          `WHERE ${TENANT} = ${lit(p.tenantId)} AND time >= ${num(p.since)} AND time < ${num(p.until)} GROUP BY k`,
      );
      return fillSteps(rows, p);
    },
    async top(p) {
      const column = q(p.column);
      const rows = await all(
        `SELECT ${column} AS k, count() AS n${sums(p.metrics)} FROM ${t} WHERE time >= ${num(p.since)} AND isNotNull(${column}) ` +
          `GROUP BY ${column} ORDER BY n DESC, k LIMIT ${num(p.limit)}`,
      );
      return rows.map((r): RawGroup => ({ key: r.k as string | number, count: Number(r.n), sums: readSums(r, p.metrics) }));
    },
    async pruneBatch(before, limit) {
      // As ClickHouse retention is done (and as eventlog's store does it): whole UTC days go with
      // DROP PARTITION (rows counted from system.parts), the rest with one delete mutation bounded
      // by the batch's last (time, id), waited for.
      const parts = await all(
        `SELECT partition, sum(rows) AS n FROM system.parts WHERE database = ${lit(names.database)} AND table = ${lit(names.table)} AND active GROUP BY partition`,
      );
      let dropped = 0;
      for (const part of parts) {
        const day = Number(part.partition);
        if (!Number.isInteger(day) || (day + 1) * DAY_MS > before) continue;
        await command(`ALTER TABLE ${t} DROP PARTITION ${num(day)}`);
        dropped += Number(part.n);
      }
      const [last] = await all(`SELECT time, id FROM ${t} WHERE time < ${num(before)} ORDER BY time, id LIMIT 1 OFFSET ${num(limit - 1)}`);
      let condition = `time < ${num(before)}`;
      let deleted: number;
      if (last) {
        const time = num(Number(last.time));
        condition += ` AND (time < ${time} OR (time = ${time} AND id <= ${num(Number(last.id))}))`;
        deleted = limit;
      } else {
        deleted = Number((await all(`SELECT count() AS n FROM ${t} WHERE ${condition}`))[0]?.n ?? 0);
      }
      if (deleted > 0) {
        await command(`ALTER TABLE ${t} DELETE WHERE ${condition}`);
        await waitForMutations();
      }
      return dropped + deleted;
    },
    async close() {
      await c.close();
    },
    async drop() {
      await post(names.url, `DROP TABLE IF EXISTS ${t}`);
    },
  };
}

function databaseName(context: EngineContext): string {
  return `eventlog_bench_${context.runId}`.toLowerCase();
}

async function describe(url: string, database: string, table: string): Promise<{ columns: string[]; keys: string[] }> {
  const c = client(url);
  try {
    const columns = (await select(c, `DESCRIBE TABLE ${q(database)}.${q(table)}`)).map(
      (r) => `${r.name} ${r.type}${r.default_type ? ` ${r.default_type} ${r.default_expression}` : ''}`,
    );
    const [info] = await select(
      c,
      `SELECT engine, partition_key, sorting_key, primary_key, sampling_key FROM system.tables WHERE database = ${lit(database)} AND name = ${lit(table)}`,
    );
    const keys = ['engine', 'partition_key', 'sorting_key', 'primary_key', 'sampling_key'].map(
      (k) => `${k}: ${String(info?.[k] ?? '').replace(/[\s`]/g, '')}`,
    );
    return { columns, keys };
  } finally {
    await c.close();
  }
}

export const clickhouseEngine: EngineModule = {
  name: 'clickhouse',
  ownIds: true,
  skip: {
    // Measured on 18.16 here without any prune: raw's writer (one INSERT per event, each a new
    // part) queued up to ~20 s waits within 10 s, while eventlog's record() groups concurrent calls
    // into one insert and stayed under 200 ms. Raw's prune queries then wait behind that queue.
    'prune-writer':
      "one single-row INSERT every 10 ms is more than ClickHouse takes (each insert writes a part): raw's writer backs up by " +
      'seconds even without a prune, so its waits (and a prune sharing its connections) would measure the insert pattern, not the prune',
  },
  async check() {
    try {
      const response = await fetch(`${endpoint(CLICKHOUSE_URL).base}?query=${encodeURIComponent('SELECT 1')}`, {
        headers: endpoint(CLICKHOUSE_URL).headers,
        signal: AbortSignal.timeout(3000),
      });
      const body = await response.text();
      if (!response.ok || !body.startsWith('1')) return `${CLICKHOUSE_URL} answered ${response.status}: ${body.slice(0, 200)}`;
      return null;
    } catch (error) {
      return `cannot reach ${CLICKHOUSE_URL}: ${error instanceof Error ? error.message : String(error)}`;
    }
  },
  async createStore(context: EngineContext, slot: string): Promise<StoreHandle> {
    const location = { url: CLICKHOUSE_URL, database: databaseName(context), prefix: `${slot}_` };
    return {
      store: createClickhouseStore({ url: location.url, database: location.database, tablePrefix: location.prefix }),
      location,
      drop: async () => {
        for (const t of ['events', 'sessions'])
          await post(location.url, `DROP TABLE IF EXISTS ${q(location.database)}.${q(`${slot}_${t}`)}`);
      },
    };
  },
  async openStore(location: Location) {
    return createClickhouseStore({
      url: locate(location, 'url'),
      database: locate(location, 'database'),
      tablePrefix: locate(location, 'prefix'),
    });
  },
  async createRaw(context: EngineContext, slot: string, schema: StoreSchema) {
    const names: Names = { url: CLICKHOUSE_URL, database: databaseName(context), table: `raw_${slot}_events` };
    await post(names.url, `CREATE DATABASE IF NOT EXISTS ${q(names.database)}`);
    const columns = schema.columns.map((column) => `${q(column.name)} ${columnType(column)}`);
    // The store's layout (packages/adapters/src/clickhouse): no secondary indexes (18.16 has data
    // skipping indexes only behind an experimental flag).
    await post(
      names.url,
      `CREATE TABLE ${q(names.database)}.${q(names.table)} (${columns.join(', ')}) ENGINE = MergeTree ` +
        `PARTITION BY intDiv(time, ${DAY_MS}) ORDER BY (${SORTING_KEY})`,
    );
    return createRaw(client(names.url), names, schema);
  },
  async exportRaw(location: Location, schema: StoreSchema, write: Write) {
    // One query streamed over node:http (undici's fetch buffers a large response ahead of a slower
    // reader and re-concatenates it: quadratic), JSONEachRow lines parsed as they arrive.
    // Only the exported columns, as an application writing this export by hand would select (a
    // column store reads just those): the same rows and columns eventlog's export reads.
    const t = `${q(locate(location, 'database'))}.${q(locate(location, 'table'))}`;
    const selected = csvLayout(schema).columns.map(q).join(', ');
    const response = await stream(
      locate(location, 'url'),
      `SELECT ${selected} FROM ${t} ORDER BY time DESC, id DESC SETTINGS output_format_json_quote_64bit_integers = 0 FORMAT JSONEachRow`,
    );
    response.setEncoding('utf8');
    const csv = createCsvWriter(schema);
    await write(csv.header);
    let rows = 0;
    let rest = '';
    for await (const text of response as AsyncIterable<string>) {
      const end = text.lastIndexOf('\n');
      if (end < 0) {
        rest += text;
        continue;
      }
      // The first line continues the previous piece's tail; the others lie inside this piece.
      const first = text.indexOf('\n');
      const joined = rest + text.slice(0, first);
      let chunk = '';
      if (joined) {
        chunk += csv.line(JSON.parse(joined) as Row);
        rows++;
      }
      for (let from = first + 1; from <= end; ) {
        const next = text.indexOf('\n', from);
        chunk += csv.line(JSON.parse(text.slice(from, next)) as Row);
        rows++;
        from = next + 1;
      }
      rest = text.slice(end + 1);
      await write(chunk);
    }
    if (rest.trim()) {
      await write(csv.line(JSON.parse(rest) as Row));
      rows++;
    }
    return rows;
  },
  async compareSchemas(store: Location, raw: Location) {
    const a = await describe(locate(store, 'url'), locate(store, 'database'), `${locate(store, 'prefix')}events`);
    const b = await describe(locate(raw, 'url'), locate(raw, 'database'), locate(raw, 'table'));
    const problems: string[] = [];
    if (a.columns.join('|') !== b.columns.join('|'))
      problems.push(`columns differ:\n  eventlog ${a.columns.join(', ')}\n  raw      ${b.columns.join(', ')}`);
    if (a.keys.join('|') !== b.keys.join('|'))
      problems.push(`table engine or keys differ:\n  eventlog ${a.keys.join(' ; ')}\n  raw      ${b.keys.join(' ; ')}`);
    return problems;
  },
  async cleanup(context: EngineContext) {
    await post(CLICKHOUSE_URL, `DROP DATABASE IF EXISTS ${q(databaseName(context))}`);
  },
};
