/**
 * The keyword index on each engine, checked the way a DBA would: it is built and backfilled when a
 * database that already holds rows is migrated, the engine's plan reaches it, and it is kept in
 * step with writes and deletes. The search semantics themselves are in the conformance suite.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEventLog, type EventLog, isEventLogError } from '@eventlog/core';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createPostgresStore } from '../../postgres/postgres-store.js';
import { createSqliteStore } from '../../sqlite/sqlite-store.js';
import { conformancePreset, MINUTE, NOW } from '../../testing/fixtures.js';
import { requireServer } from '../../testing/servers.js';
import { postgresSearchIndex } from './postgres-trigram.js';
import { sqliteSearchNames, trigramQuery } from './sqlite-trigram.js';

const rows = (n: number, offset = 0) =>
  Array.from({ length: n }, (_, i) => ({
    type: 'auth.login' as const,
    time: NOW - (i + offset) * MINUTE,
    tenantId: `tenant-${i % 3}`,
    message: i % 1000 === 7 ? `rare needle ${i + offset}` : `user ${i + offset} signed in from host-${i % 50}`,
  }));

const open = (store: Parameters<typeof createEventLog>[0]['store']) =>
  createEventLog({ store, presets: [conformancePreset], clock: () => NOW });

describe('sqlite trigram index', () => {
  const dir = mkdtempSync(join(tmpdir(), 'eventlog-search-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a database migrated without the index gets it, filled with the rows it already held', async () => {
    const filename = join(dir, 'old.db');
    const first = open(createSqliteStore({ filename, keywordIndex: true }));
    await first.recordMany(rows(3000));
    await first.close();
    // The state of a database written before the index existed: no FTS table, no triggers.
    const names = sqliteSearchNames({ events: 'eventlog_events' });
    const raw = new Database(filename);
    for (const trigger of [names.insert, names.delete, names.update]) raw.exec(`drop trigger "${trigger}"`);
    raw.exec(`drop table "${names.fts}"`);
    raw.close();

    const log = open(createSqliteStore({ filename, keywordIndex: true }));
    await log.ready();
    expect(await log.count({ search: 'RARE NEEDLE' })).toBe(3);
    expect(await log.count({ search: 'needle 1007' })).toBe(1);
    expect(await log.count({ search: 'host-49' })).toBe(60);
    await log.record({ type: 'auth.login', message: 'a brand new needle' });
    expect(await log.count({ search: 'needle' })).toBe(4);
    expect(await log.prune({ before: NOW - 1500 * MINUTE, pauseMs: 0 })).toBe(1499);
    expect(await log.count({ search: 'needle' })).toBe(3);
    await log.close();

    const check = new Database(filename, { readonly: true });
    const indexed = check.prepare(`select count(*) as n from "${names.fts}" where "${names.fts}" match ?`).get(trigramQuery('needle')) as {
      n: number;
    };
    expect(indexed.n).toBe(3);
    // The query the store sends for a search reads the FTS table, not every row.
    const plan = check
      .prepare(
        `explain query plan select count(*) from eventlog_events where id in (select rowid from "${names.fts}" where "${names.fts}" match ?)`,
      )
      .all(trigramQuery('needle')) as { detail: string }[];
    expect(plan.map((p) => p.detail).join('\n')).toMatch(/VIRTUAL TABLE INDEX/);
    check.close();
  });

  it('keywordIndex: false drops the index and its triggers; search answers the same without it', async () => {
    const filename = join(dir, 'off.db');
    const first = open(createSqliteStore({ filename, keywordIndex: true }));
    await first.recordMany(rows(2000));
    expect(await first.count({ search: 'needle' })).toBe(2);
    await first.close();
    const log = open(createSqliteStore({ filename, keywordIndex: false }));
    await log.record({ type: 'auth.login', message: 'one more NEEDLE' });
    expect(await log.count({ search: 'needle' })).toBe(3);
    expect(await log.count({ search: 'needle 1007' })).toBe(1);
    await log.close();
    const check = new Database(filename, { readonly: true });
    const left = check.prepare(`select name from sqlite_master where name like '%fts%'`).all();
    check.close();
    expect(left).toEqual([]);
  });

  it('a long term uses a bounded trigram query; quotes stay literal', () => {
    expect(trigramQuery('abc')).toBe('"abc"');
    expect(trigramQuery('a"bc')).toBe('"a""b" AND """bc"');
    expect(trigramQuery('x'.repeat(200))).toBe('"xxx"');
    expect(trigramQuery('abcdefghijklmnopqrstuvwxyz').split(' AND ')).toHaveLength(12);
  });
});

const url = await requireServer('postgres');

describe.skipIf(!url)('postgres trigram index', () => {
  const run = `el_s${randomBytes(4).toString('hex')}`;
  const pool = new pg.Pool({ connectionString: url ?? undefined, max: 2 });
  const cleanup: string[] = [];
  const logs: EventLog[] = [];
  afterAll(async () => {
    await Promise.all(logs.map((l) => l.close().catch(() => undefined)));
    for (const statement of cleanup) await pool.query(statement).catch(() => undefined);
    await pool.end();
  });

  it('is rebuilt from existing rows, reached by the plan, and the bulk load is analyzed without a DBA', async () => {
    const schema = `${run}_a`;
    cleanup.push(`drop schema if exists "${schema}" cascade`);
    const first = open(createPostgresStore({ connectionString: url ?? '', schema, maxConnections: 2, keywordIndex: true }));
    logs.push(first);
    await first.ready();
    const index = postgresSearchIndex({ indexPrefix: 'eventlog_ix_' });
    // A database from before the index: drop it, then load rows with the store.
    await pool.query(`drop index "${schema}"."${index}"`);
    await first.recordMany(rows(20_000));
    // The store analyzes the table by itself once the load pauses (autovacuum is off on the test server).
    const analyzed = async () =>
      (
        await pool.query(
          `select (last_analyze is not null or last_autoanalyze is not null) as done from pg_stat_user_tables where schemaname = $1 and relname = 'eventlog_events'`,
          [schema],
        )
      ).rows[0]?.done === true;
    const deadline = Date.now() + 30_000;
    while (!(await analyzed()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect(await analyzed()).toBe(true);
    await first.close();

    const log = open(createPostgresStore({ connectionString: url ?? '', schema, maxConnections: 2, keywordIndex: true }));
    logs.push(log);
    await log.ready();
    const { rows: found } = await pool.query(
      `select x.indisvalid as valid, pg_get_indexdef(x.indexrelid) as def from pg_index x join pg_class i on i.oid = x.indexrelid
        join pg_namespace n on n.oid = i.relnamespace where n.nspname = $1 and i.relname = $2`,
      [schema, index],
    );
    expect(found[0]?.valid).toBe(true);
    expect(found[0]?.def).toMatch(/gin_trgm_ops/);
    expect(await log.count({ search: 'Rare Needle' })).toBe(20);
    expect(await log.count({ search: 'needle 1007' })).toBe(1);

    // The statement the store sends, explained with its parameters: the trigram index, no sequential scan.
    const captured: { sql: string; parameters: readonly unknown[] }[] = [];
    const spy = createPostgresStore({ connectionString: url ?? '', schema, maxConnections: 1, keywordIndex: true });
    const spyLog = open(spy);
    logs.push(spyLog);
    await spyLog.ready();
    const originalExecute = spy.db.getExecutor().executeQuery.bind(spy.db.getExecutor());
    spy.db.getExecutor().executeQuery = (async (compiled: { sql: string; parameters: readonly unknown[] }, id: unknown) => {
      captured.push(compiled);
      return originalExecute(compiled as never, id as never);
    }) as typeof originalExecute;
    await spyLog.count({ search: 'needle' });
    const statement = captured.find((c) => /count/i.test(c.sql));
    expect(statement).toBeDefined();
    const plan = await pool.query(`explain (format json) ${statement?.sql}`, [...(statement?.parameters ?? [])]);
    const text = JSON.stringify(plan.rows[0]);
    expect(text).toContain(index);
    expect(text).not.toContain('Seq Scan');
  }, 120_000);

  it('a role that may not create pg_trgm gets a StoreError naming what a DBA must run', async () => {
    const database = `${run}_db`;
    const role = `${run}_role`;
    await pool.query(`create database "${database}"`);
    cleanup.push(`drop database if exists "${database}" with (force)`, `drop role if exists "${role}"`);
    await pool.query(`create role "${role}" login`);
    const admin = new pg.Client({ connectionString: withDatabase(url ?? '', database) });
    await admin.connect();
    // Tables yes (CREATE on the schema), extensions no (that needs CREATE on the database).
    await admin.query(`grant create, usage on schema public to "${role}"`);
    await admin.end();
    const store = createPostgresStore({ connectionString: withDatabase(url ?? '', database, role), maxConnections: 1, keywordIndex: true });
    const error = await store
      .migrate(open(createSqliteStore()).registry.storeSchema)
      .then(() => undefined)
      .catch((e: unknown) => e);
    await store.close();
    expect(isEventLogError(error, 'STORE_FAILED')).toBe(true);
    expect((error as Error).message).toMatch(/CREATE EXTENSION pg_trgm/);
    expect((error as { transient?: boolean }).transient).toBe(false);
  });
});

function withDatabase(url: string, database: string, user?: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  if (user) {
    parsed.username = user;
    parsed.password = '';
  }
  return parsed.toString();
}
