import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMemoryStore } from '@eventlog/adapters/memory';
import { createMysqlStore } from '@eventlog/adapters/mysql';
import { createPostgresStore } from '@eventlog/adapters/postgres';
import { createSqliteStore } from '@eventlog/adapters/sqlite';
import Database from 'better-sqlite3';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
// The repository's own server probe (not a public entry): PostgreSQL and MariaDB run on the project's machines.
import { requireServer } from '../../../adapters/src/testing/servers.js';
import { isEventLogError } from '../errors.js';
import { createEventLog } from '../event-log.js';
import type { EventStore } from '../storage/contract.js';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 0, 31);
const dir = mkdtempSync(join(tmpdir(), 'eventlog-expire-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const pgUrl = await requireServer('postgres');
const mysqlUrl = await requireServer('mysql');
// One schema (PostgreSQL) or table prefix (MariaDB) per store: runs and parallel files never meet.
const run = `elx${randomBytes(3).toString('hex')}`;
const pgSchemas: string[] = [];
const mysqlPrefixes: string[] = [];
afterAll(async () => {
  if (pgUrl && pgSchemas.length > 0) {
    const client = new pg.Client({ connectionString: pgUrl });
    await client.connect();
    for (const schema of pgSchemas) await client.query(`drop schema if exists ${schema} cascade`);
    await client.end();
  }
  if (mysqlUrl && mysqlPrefixes.length > 0) {
    const connection = await mysql.createConnection({ uri: mysqlUrl });
    for (const prefix of mysqlPrefixes) {
      const tables = ['events', 'sessions', 'locks', 'migrations', 'batches'].map((t) => `\`${prefix}${t}\``).join(', ');
      await connection.query(`drop table if exists ${tables}`);
    }
    await connection.end();
  }
});

const stores: (readonly [string, (name: string) => EventStore])[] = [
  ['sqlite', (name: string) => createSqliteStore({ filename: join(dir, `${name}.db`) })],
  ['memory', () => createMemoryStore()],
];
if (pgUrl) {
  stores.push([
    'postgres',
    () => {
      const schema = `${run}_${pgSchemas.length}`;
      pgSchemas.push(schema);
      return createPostgresStore({ connectionString: pgUrl, schema, maxConnections: 2 });
    },
  ]);
}
if (mysqlUrl) {
  stores.push([
    'mysql',
    () => {
      const tablePrefix = `${run}_${mysqlPrefixes.length}_`;
      mysqlPrefixes.push(tablePrefix);
      return createMysqlStore({ uri: mysqlUrl, tablePrefix, connectionLimit: 2 });
    },
  ]);
}

/** Ten days of events, one a day, each carrying personal data, a metric and a dimension. */
async function seed(store: EventStore) {
  const log = createEventLog({
    store,
    clock: () => NOW,
    dimensions: [{ name: 'model' }],
    metrics: [{ name: 'tokens' }],
  });
  for (let day = 10; day >= 1; day--) {
    await log.record({
      type: day % 2 === 0 ? 'llm.call' : 'llm.error',
      time: NOW - day * DAY,
      tenantId: 't1',
      dimensions: { model: 'gpt' },
      metrics: { tokens: 100 },
      data: { user: { email: `u${day}@example.com`, plan: 'pro' }, prompt: `secret prompt ${day}`, status: 200 },
    });
  }
  return log;
}

describe.each(stores)('expireData on the %s store', (engine, makeStore) => {
  it('drops the whole payload of old events and keeps counts, metrics and dimensions', async () => {
    const log = await seed(makeStore(`${engine}-whole`));
    const before = await log.stats({ since: NOW - 30 * DAY });
    // Days 10, 9 and 8 are strictly older than 7 days ago; batches of 2 take two calls.
    expect(await log.expireData({ before: NOW - 7 * DAY, batchSize: 2 })).toBe(3);
    const page = await log.query({ pageSize: 20, sort: { field: 'time', direction: 'asc' } });
    expect(page.items.map((e) => e.data === undefined)).toEqual([true, true, true, false, false, false, false, false, false, false]);
    expect(page.items.map((e) => [e.metrics.tokens, e.dimensions.model, e.tenantId])).toEqual(Array(10).fill([100, 'gpt', 't1']));
    expect(await log.stats({ since: NOW - 30 * DAY })).toEqual(before);
    expect(await log.top({ by: 'model', filter: { since: NOW - 30 * DAY } })).toEqual([
      { value: 'gpt', count: 10, sums: { tokens: 1000 } },
    ]);
    // Nothing is left to remove: a second pass changes nothing.
    expect(await log.expireData({ before: NOW - 7 * DAY })).toBe(0);
    await log.close();
    if (engine === 'sqlite') {
      const db = new Database(join(dir, `${engine}-whole.db`), { readonly: true });
      const rows = db.prepare('select time, data, tokens, model from eventlog_events order by time').all() as Record<string, unknown>[];
      expect(rows.map((r) => r.data === null)).toEqual([true, true, true, false, false, false, false, false, false, false]);
      expect(rows.every((r) => r.tokens === 100 && r.model === 'gpt')).toBe(true);
      expect(rows.slice(0, 3).some((r) => JSON.stringify(r).includes('example.com'))).toBe(false);
      db.close();
    }
  });

  it('removes listed paths only, from events matching a filter', async () => {
    const log = await seed(makeStore(`${engine}-fields`));
    const changed = await log.expireData({
      before: NOW - 3 * DAY,
      filter: { type: 'llm.call' },
      fields: ['data.user.email', 'data.prompt', 'data.missing.key'],
    });
    expect(changed).toBe(4); // llm.call on days 10, 8, 6 and 4
    const page = await log.query({ pageSize: 20, sort: { field: 'time', direction: 'asc' } });
    const byDay = new Map(page.items.map((e) => [Math.round((NOW - e.time) / DAY), e.data]));
    expect(byDay.get(10)).toEqual({ user: { plan: 'pro' }, status: 200 });
    expect(byDay.get(4)).toEqual({ user: { plan: 'pro' }, status: 200 });
    expect(byDay.get(9)).toEqual({ user: { email: 'u9@example.com', plan: 'pro' }, prompt: 'secret prompt 9', status: 200 });
    expect(byDay.get(2)).toEqual({ user: { email: 'u2@example.com', plan: 'pro' }, prompt: 'secret prompt 2', status: 200 });
    expect(await log.expireData({ before: NOW - 3 * DAY, filter: { type: 'llm.call' }, fields: ['data.prompt'] })).toBe(0);
    expect(await log.count()).toBe(10);
    await log.close();
  });
});

describe('expireData input', () => {
  it('refuses malformed input and stores without redactData', async () => {
    const log = createEventLog({ store: createMemoryStore() });
    for (const [input, message] of [
      [{}, /^before: must be a time/],
      [{ before: 0, fields: ['user.email'] }, /must be a path into data/],
      [{ before: 0, fields: ['data.a"b'] }, /must be a path into data/],
      [{ before: 0, fields: [] }, /must name at least one path/],
      [{ before: 0, batchSize: 0 }, /^batchSize: must be a whole number/],
    ] as const) {
      const error = await log.expireData(input as never).catch((e: unknown) => e);
      expect(isEventLogError(error, 'VALIDATION_FAILED'), String(error)).toBe(true);
      expect((error as Error).message).toMatch(message);
    }
    await log.close();

    const memory = createMemoryStore();
    const without = new Proxy(memory, { get: (target, key) => (key === 'redactData' ? undefined : Reflect.get(target, key)) });
    const bare = createEventLog({ store: without });
    const error = await bare.expireData({ before: NOW }).catch((e: unknown) => e);
    expect(isEventLogError(error, 'UNSUPPORTED')).toBe(true);
    expect((error as Error).message).toMatch(/memory store cannot remove data/);
    await bare.close();
  });
});
