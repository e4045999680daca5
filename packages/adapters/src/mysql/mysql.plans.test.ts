/**
 * Query plans of the MySQL store on 1,000,000 rows (run against MariaDB 10.11). Each read the core
 * sends (keyset and numbered pages with their count, stats, timeline, top-N, latest, a dimension
 * filter) and the retention delete is captured as the store sends it, EXPLAINed with the same
 * parameters, and checked the way a DBA would: which index reaches the events table, no full scan
 * (access type ALL) where the filter is selective, no filesort of a whole tenant under a page, few
 * rows read for a page.
 */
import { randomBytes } from 'node:crypto';
import { createEventLog, type EventLog } from '@eventlog/core';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KyselyStore } from '../kysely/kysely-store.js';
import { conformancePreset, DAY, NOW } from '../testing/fixtures.js';
import { requireServer } from '../testing/servers.js';
import { createMysqlStore } from './mysql-store.js';

const url = await requireServer('mysql');

const ROWS = 1_000_000;
/** The rows span 30 days and end a minute before the log's clock. */
const SPAN = 30 * DAY - 60_000;
const START = NOW - 30 * DAY;
/** Milliseconds between two consecutive rows. */
const STEP = SPAN / ROWS;
/** The largest tenant (~25 % of the rows). */
const BIG_TENANT = 't00';
/** A large tenant (~6 %) that wrote nothing in the last 10 days. */
const QUIET_TENANT = 't01';
const QUIET_SINCE = NOW - 10 * DAY;
/** Rows walked by cursor before the keyset page that is examined. */
const DEEP = 20_000;
/** Most rows a page of 50 may read from the table or an index (a few hundred). */
const PAGE_READ_LIMIT = 500;

/** A statement the store sent, with its bind parameters. */
interface Statement {
  sql: string;
  params: unknown[];
}

/** One table access of MariaDB's `EXPLAIN FORMAT=JSON` / `ANALYZE FORMAT=JSON`. */
interface TableAccess {
  table_name: string;
  access_type: string;
  key?: string;
  used_key_parts?: string[];
  rows?: number;
  /** Rows actually read per loop (ANALYZE only). */
  r_rows?: number;
  r_loops?: number;
  using_index?: boolean;
  attached_condition?: string;
  /** Whether a filesort sits above it in the same query block. */
  sorted: boolean;
  /** Whether it belongs to a derived table (the ids subquery of a deferred join). */
  derived: boolean;
}

let recording: Statement[] | null = null;

/** Runs `fn` and returns the statements it sent. */
async function capture(fn: () => Promise<unknown>): Promise<Statement[]> {
  const statements: Statement[] = [];
  recording = statements;
  try {
    await fn();
  } finally {
    recording = null;
  }
  return statements;
}

/** Makes a mysql2 connection record the statements it runs while a capture is on. */
function record(connection: { query: (...args: unknown[]) => unknown }): void {
  const query = connection.query.bind(connection);
  connection.query = (...args: unknown[]) => {
    const [first, second] = args;
    if (recording && typeof first === 'string') recording.push({ sql: first, params: Array.isArray(second) ? [...second] : [] });
    else if (recording && typeof (first as { sql?: unknown } | null)?.sql === 'string') {
      const command = first as { sql: string; values?: unknown[] };
      recording.push({ sql: command.sql, params: [...(command.values ?? (Array.isArray(second) ? second : []))] });
    }
    return query(...args);
  };
}

/** Every table access of a plan, with whether a filesort orders it and whether it is in a derived table. */
function accessesOf(node: unknown, sorted = false, derived = false): TableAccess[] {
  if (Array.isArray(node)) return node.flatMap((child) => accessesOf(child, sorted, derived));
  if (typeof node !== 'object' || node === null) return [];
  const object = node as Record<string, unknown>;
  const here = sorted || 'filesort' in object;
  const out: TableAccess[] = [];
  if (typeof object.table_name === 'string' && typeof object.access_type === 'string') {
    out.push({ ...(object as unknown as TableAccess), sorted: here, derived });
  }
  for (const [key, value] of Object.entries(object)) {
    // A derived table's own query block starts a new scope: the outer filesort does not order it.
    if (key === 'materialized') out.push(...accessesOf(value, false, true));
    else out.push(...accessesOf(value, here, derived));
  }
  return out;
}

/** Rows an access read: per-loop rows times loops under ANALYZE, else the optimizer's estimate. */
function rowsRead(access: TableAccess): number {
  return access.r_rows === undefined ? (access.rows ?? 0) : access.r_rows * (access.r_loops ?? 1);
}

function render(accesses: readonly TableAccess[]): string {
  return accesses
    .map((a) => {
      const flags = [a.derived ? 'derived' : '', a.using_index ? 'Using index' : '', a.sorted ? 'filesort' : ''].filter(Boolean);
      const actual = a.r_rows === undefined ? '' : ` r_rows=${a.r_rows}x${a.r_loops ?? 1}`;
      return `${a.table_name}: ${a.access_type} key=${a.key ?? '-'} (${(a.used_key_parts ?? []).join(',')}) rows=${a.rows}${actual} ${flags.join('; ')}`;
    })
    .join('\n');
}

if (url) {
  describe('mysql query plans on 1,000,000 rows', () => {
    const prefix = `elp${randomBytes(3).toString('hex')}_`;
    const pool = mysql.createPool({ uri: url, connectionLimit: 4 });
    // Kysely runs the store's queries on the callback pool inside; each new connection records.
    pool.pool.on('connection', (connection) => record(connection as unknown as { query: (...args: unknown[]) => unknown }));
    let store: KyselyStore;
    let log: EventLog;
    let table = '';
    const index = (name: string) => `${store.tables.indexPrefix}${name}`;

    /** The plan of a captured statement with the same parameters; ANALYZE runs it (reads only). */
    const explain = async (statement: Statement, analyze = true): Promise<TableAccess[]> => {
      const [rows] = await pool.query(`${analyze ? 'analyze' : 'explain'} format=json ${statement.sql}`, statement.params);
      const json = Object.values((rows as Record<string, string>[])[0] ?? {})[0] ?? '{}';
      const accesses = accessesOf(JSON.parse(json));
      if (process.env.EVENTLOG_PLANS_VERBOSE) console.info(`${statement.sql}\n${JSON.stringify(statement.params)}\n${render(accesses)}`);
      return accesses;
    };

    /** Accesses of the events table itself (the table or its alias `e`, not a derived table). */
    const scans = (accesses: readonly TableAccess[]) => accesses.filter((a) => a.table_name === table || a.table_name === 'e');

    const expectNoFullScan = (accesses: readonly TableAccess[]) => {
      expect(
        scans(accesses).filter((a) => a.access_type === 'ALL' || a.access_type === 'index'),
        render(accesses),
      ).toEqual([]);
    };

    /**
     * A page through the deferred join: the ids come from `name` alone (Using index), read in
     * index order (no filesort) and only a few hundred of them; the rows are then fetched by
     * primary key. A filesort of the page's own ≤ 51 rows in the outer query is fine.
     */
    const expectIndexPage = (accesses: readonly TableAccess[], name: string, coveringIds = true): TableAccess => {
      const text = render(accesses);
      const [ids, ...others] = scans(accesses).filter((a) => a.derived);
      expect(others, text).toEqual([]);
      expect(ids?.key, text).toBe(name);
      expect(['ref', 'range'], text).toContain(ids?.access_type);
      expect(ids?.sorted, text).toBe(false);
      if (coveringIds) expect(ids?.using_index, text).toBe(true);
      expect(rowsRead(ids as TableAccess), text).toBeLessThanOrEqual(PAGE_READ_LIMIT);
      const rows = scans(accesses).filter((a) => !a.derived);
      expect(
        rows.map((a) => [a.access_type, a.key]),
        text,
      ).toEqual([['eq_ref', 'PRIMARY']]);
      expect(rowsRead(rows[0] as TableAccess), text).toBeLessThanOrEqual(51);
      return ids as TableAccess;
    };

    beforeAll(async () => {
      const began = performance.now();
      store = createMysqlStore({ pool, tablePrefix: prefix });
      // The rows are imported behind the store's back (below), so no rollup counts them: these plans are the raw-row
      // reads (the planner's fallback, docs/rollups.md), read with rollups off.
      log = createEventLog({ store, presets: [conformancePreset], clock: () => NOW, rollups: false });
      // The store's own migration builds the table and every index the core's queries rely on.
      await log.ready();
      table = store.tables.events;
      await pool.query(fillSql(table));
      // Statistics: InnoDB samples a table only when enough of it changed, in the background, so a
      // freshly bulk-loaded table may still carry the statistics of an empty one; ANALYZE TABLE
      // recomputes them now. Without them the optimizer's choices would be guesses.
      await pool.query(`analyze table \`${table}\``);
      if (process.env.EVENTLOG_PLANS_VERBOSE) console.info(`loaded and analyzed in ${Math.round(performance.now() - began)} ms`);
    }, 180_000);

    afterAll(async () => {
      await log?.close();
      const tables = ['events', 'sessions', 'locks', 'migrations', 'batches'].map((t) => `\`${prefix}${t}\``).join(', ');
      await pool.query(`drop table if exists ${tables}`);
      await pool.end();
    });

    it('has the data the plans are checked against', async () => {
      const [rows] = await pool.query(
        `select tenant_id as tenant, count(*) as n, max(time) as last from \`${table}\` group by tenant_id order by 2 desc`,
      );
      const tenants = rows as { tenant: string; n: number; last: number }[];
      expect(tenants.length).toBe(24);
      expect(tenants[0]?.tenant).toBe(BIG_TENANT);
      expect(Number(tenants[0]?.n) / ROWS).toBeGreaterThan(0.2);
      expect(Number(tenants[0]?.n) / ROWS).toBeLessThan(0.3);
      const quiet = tenants.find((r) => r.tenant === QUIET_TENANT);
      expect(Number(quiet?.n) / ROWS).toBeGreaterThan(0.04);
      expect(Number(quiet?.last)).toBeLessThan(QUIET_SINCE);
    });

    it.each([
      ['the largest tenant', BIG_TENANT],
      ['a mid-sized tenant', 't12'],
      ['a large tenant that wrote nothing for 10 days', QUIET_TENANT],
    ])('page 1 of %s: the ids from ix_tenant_time in index order', async (_label, tenantId) => {
      const [statement, ...more] = await capture(() => log.query({ filter: { tenantId }, limit: 50 }));
      expect(more).toEqual([]);
      expectIndexPage(await explain(statement!), index('tenant_time'));
    });

    it('the keyset page 20,000 rows into the largest tenant: a range of ix_tenant_time from the cursor', async () => {
      let cursor: string | null = null;
      for (let walked = 0; walked < DEEP; walked += 1000) {
        cursor = (await log.query({ filter: { tenantId: BIG_TENANT }, limit: 1000, cursor })).nextCursor;
        expect(cursor).not.toBeNull();
      }
      const [statement, ...more] = await capture(() => log.query({ filter: { tenantId: BIG_TENANT }, limit: 50, cursor }));
      expect(more).toEqual([]);
      const accesses = await explain(statement!);
      const ids = expectIndexPage(accesses, index('tenant_time'));
      // The range starts at the cursor: (tenant_id, time) are both key parts, not a filter afterwards.
      expect(ids.access_type, render(accesses)).toBe('range');
      expect(ids.used_key_parts?.slice(0, 2), render(accesses)).toEqual(['tenant_id', 'time']);
    });

    it('a numbered page with its total (tenant, type, 24 h): ix_tenant_time, no full scan', async () => {
      const filter = { tenantId: BIG_TENANT, type: 'llm.consumption', since: NOW - DAY, until: NOW };
      const statements = await capture(() => log.query({ filter, page: 1, pageSize: 50 }));
      expect(statements).toHaveLength(2);
      const find = statements.find((s) => !/count\(\*\)/i.test(s.sql));
      const count = statements.find((s) => /count\(\*\)/i.test(s.sql));
      // The type is not in the tenant index: the ids query reads rows to check it.
      expectIndexPage(await explain(find!), index('tenant_time'), false);
      const accesses = await explain(count!);
      expectNoFullScan(accesses);
      expect(
        scans(accesses).map((a) => [a.access_type, a.key]),
        render(accesses),
      ).toEqual([['range', index('tenant_time')]]);
    });

    it('stats of a tenant over 7 days: a range of ix_tenant_time, no full scan', async () => {
      const statements = await capture(() => log.stats({ tenantId: BIG_TENANT, since: NOW - 7 * DAY }));
      // The totals and the last-minute window run at once: tell them apart by the window's lower bound.
      expect(statements).toHaveLength(2);
      const recent = statements.find((s) => s.params.includes(NOW - 60_000 + 1));
      const totals = statements.find((s) => s !== recent);
      const accesses = await explain(totals!);
      expectNoFullScan(accesses);
      expect(
        scans(accesses).map((a) => [a.access_type, a.key]),
        render(accesses),
      ).toEqual([['range', index('tenant_time')]]);
      // The last-minute window (rpm, tpm): its time range is narrower than the tenant, so reading
      // that minute from ix_time is as good as from ix_tenant_time; either must be a range.
      const window = await explain(recent!);
      expectNoFullScan(window);
      const [scan, ...others] = scans(window);
      expect(others, render(window)).toEqual([]);
      expect(scan?.access_type, render(window)).toBe('range');
      expect([index('tenant_time'), index('time')], render(window)).toContain(scan?.key);
      expect(rowsRead(scan as TableAccess), render(window)).toBeLessThanOrEqual(PAGE_READ_LIMIT);
    });

    it('an hourly Europe/Berlin timeline of a tenant over 7 days: a range of ix_tenant_time, no full scan', async () => {
      const [statement, ...more] = await capture(() =>
        log.timeline({ filter: { tenantId: BIG_TENANT, since: NOW - 7 * DAY }, bucket: 'hour', timeZone: 'Europe/Berlin' }),
      );
      expect(more).toEqual([]);
      const accesses = await explain(statement!);
      expectNoFullScan(accesses);
      expect(
        scans(accesses).map((a) => [a.access_type, a.key]),
        render(accesses),
      ).toEqual([['range', index('tenant_time')]]);
    });

    it('top models over 7 days of all tenants: one pass over the range, no unrelated index', async () => {
      const [statement, ...more] = await capture(() => log.top({ by: 'model_name', filter: { since: NOW - 7 * DAY } }));
      expect(more).toEqual([]);
      const accesses = await explain(statement!);
      const text = render(accesses);
      // 7 of 30 days of every tenant is ~23 % of the table, every row of which is grouped: a full
      // scan is as legitimate as a range of ix_time (or a walk of the dimension index in group
      // order) here, so which one is not asserted. What is: the table is read once, through no
      // unrelated index, and the rows read stay near the table size, not a multiple of it.
      const [scan, ...others] = scans(accesses);
      expect(others, text).toEqual([]);
      if (scan?.key) expect([index('time'), index('dim_model_name')], text).toContain(scan.key);
      expect(rowsRead(scan as TableAccess), text).toBeLessThanOrEqual(ROWS * 1.1);
    });

    it('latest of a type on a target: the id from ix_target_time in index order', async () => {
      const [statement, ...more] = await capture(() => log.latest({ type: 'stream.state', target: { type: 'channel', id: 'ch-0042' } }));
      expect(more).toEqual([]);
      // The type is not in the target index: the ids query reads rows to check it.
      expectIndexPage(await explain(statement!), index('target_time'), false);
    });

    it.each([
      ['its most frequent value (~8 % of rows)', 'model-00'],
      ['a rarer value (~2 %)', 'model-19'],
    ])('a page filtered by an indexed dimension, %s: the ids from the dimension index in index order', async (_label, model) => {
      const [statement, ...more] = await capture(() => log.query({ filter: { dimensions: { model_name: model } }, limit: 50 }));
      expect(more).toEqual([]);
      expectIndexPage(await explain(statement!), index('dim_model_name'));
    });

    it('the retention delete: a range of ix_time from the oldest row, no filesort', async () => {
      // About 100 rows are older than this: the prune deletes them in one batch.
      const before = START + Math.round(100 * STEP);
      let deleted = 0;
      const captured = await capture(async () => {
        deleted = await log.prune({ before });
      });
      expect(deleted).toBeGreaterThan(50);
      expect(deleted).toBeLessThan(200);
      // A prune runs as a retention job: besides the batch it counts the selection and writes the
      // job's row (the jobs table, not the events); the events see exactly one delete.
      const statements = captured.filter((s) => /^\s*delete\b/i.test(s.sql));
      expect(captured.filter((s) => /\bdelete\b/i.test(s.sql) && !/jobs|locks/.test(s.sql))).toEqual(statements);
      expect(statements).toHaveLength(1);
      const batch = statements[0]!;
      // The batch as it ran, and the same statement when a whole day is due (a full batch): only
      // EXPLAINed, not run.
      const due = { sql: batch.sql, params: batch.params.map((p) => (p === before ? START + DAY : p)) };
      expect(due.params).toContain(START + DAY);
      for (const statement of [batch, due]) {
        const accesses = await explain(statement, false);
        const text = render(accesses);
        expect(
          scans(accesses).map((a) => [a.access_type, a.key, a.sorted]),
          text,
        ).toEqual([['range', index('time'), false]]);
      }
    });
  });
} else {
  // Reached only off CI: in CI requireServer() throws when the server is down, failing the file.
  describe.skipIf(!url)('mysql query plans (no server)', () => {
    it('needs a MySQL or MariaDB server', () => undefined);
  });
}

/**
 * One INSERT … SELECT over MariaDB's sequence table, so the million rows never leave the server.
 * The same data as the PostgreSQL plan test: times rise with ids over 30 days; each row draws its
 * tenant, type, model, actor and target from an md5 of its id, so the data is deterministic and
 * those columns are independent of each other:
 * - 24 tenants, skewed: t00 holds ~25 %, t23 ~2 %; t01 (~6 %) wrote nothing in the last 10 days;
 * - five types: llm.consumption 60 %, auth.login 15 %, stream.state 10 %, connection.open/close 15 %;
 * - model_name (consumption only) from 20 values, skewed: model-00 ~8 % of all rows, model-19 ~2 %;
 * - 5000 actors; consumption targets its model, stream and connection events one of 2000 channels.
 */
function fillSql(events: string): string {
  // The i-th uniform draw in [0, 1) of a row: a 32-bit slice of its hash.
  const u = (i: number) => `conv(substr(h, ${i * 8 + 1}, 8), 16, 10) / 4294967296`;
  // The LIMIT keeps MariaDB from merging the draws' derived table into the outer query, which
  // would recompute each hash wherever a draw is used.
  return `
    insert into \`${events}\` (id, time, type, category, action, outcome, severity, actor_id, actor_type, target_type, target_id,
      tenant_id, ip, session_id, message, duration_ms, data, model_name, token_name, channel, quota, prompt_tokens,
      completion_tokens, amount)
    select g, t, type,
      case type when 'llm.consumption' then 'consumption' when 'auth.login' then 'login' when 'stream.state' then 'stream'
        else 'connection' end,
      substring_index(type, '.', -1),
      case when r_outcome < 0.97 then 'success' else 'failure' end,
      case when r_outcome < 0.9 then 'info' when r_outcome < 0.99 then 'warn' else 'error' end,
      concat('user-', lpad(actor, 4, '0')), 'user',
      case when type = 'llm.consumption' then 'model' when type = 'auth.login' then null else 'channel' end,
      case when type = 'llm.consumption' then model when type = 'auth.login' then null else concat('ch-', lpad(channel, 4, '0')) end,
      concat('t', lpad(tenant, 2, '0')),
      concat('10.', actor % 200, '.', actor div 200, '.', g % 250),
      case when type like 'connection.%' then concat('sess-', channel, '-', g div 5000) end,
      concat(type, ' #', g),
      case when type = 'connection.close' then n * 37.5 end,
      case type
        when 'llm.consumption' then concat('{"other":{"request":"req-', g, '"}}')
        when 'auth.login' then '{"reason":"password"}'
        when 'stream.state' then '{"bitrate":"4500k","resolution":"1080p"}'
        else concat('{"port":', g % 65536, '}') end,
      model,
      case when type = 'llm.consumption' then concat('key-', actor % 40) end,
      case when type = 'llm.consumption' then actor % 12 end,
      case when type = 'llm.consumption' then 70 + n * 3 + (n * 7) % 500 end,
      case when type = 'llm.consumption' then 50 + n * 3 end,
      case when type = 'llm.consumption' then 20 + (n * 7) % 500 end,
      case when type = 'llm.consumption' then (70 + n * 3 + (n * 7) % 500) * 0.000002 end
    from (
      select g, t, r_outcome, actor, channel, n, type,
        case when tenant = 1 and t >= ${QUIET_SINCE} then 2 + g % 22 else tenant end as tenant,
        case when type = 'llm.consumption' then concat('model-', lpad(model, 2, '0')) end as model
      from (
        select g, t,
          case when u0 < 0.60 then 'llm.consumption' when u0 < 0.75 then 'auth.login'
            when u0 < 0.85 then 'stream.state' when u0 < 0.93 then 'connection.open' else 'connection.close' end as type,
          cast(floor(24 * pow(u1, 2.3)) as signed) as tenant,
          cast(floor(20 * pow(u2, 1.5)) as signed) as model,
          cast(floor(5000 * u3) as signed) as actor,
          cast(floor(2000 * u4) as signed) as channel,
          cast(floor(1000 * u5) as signed) as n,
          u6 as r_outcome
        from (
          select g, t, ${u(0)} as u0, ${u(1)} as u1, ${u(2)} as u2, ${u(3)} as u3, ${u(4)} as u4, ${u(5)} as u5, ${u(6)} as u6
          from (
            select seq as g, ${START} + ((seq - 1) * ${SPAN}) div ${ROWS} as t, concat(md5(seq), md5(-seq)) as h
            from seq_1_to_${ROWS}
            limit ${ROWS}
          ) s
          limit ${ROWS}
        ) d
      ) r
    ) x`;
}
