import { randomBytes } from 'node:crypto';
import { createEventLog, isEventLogError, type StoreError } from '@eventlog/core';
import { sql } from 'kysely';
import mysqlPromise from 'mysql2/promise';
import pg from 'pg';
import { afterAll, describe, expect, expectTypeOf, it } from 'vitest';
import { createMysqlStore, type MysqlStoreOptions } from '../mysql/index.js';
import { createPostgresStore, type PostgresStoreOptions } from '../postgres/index.js';
import { conformancePreset } from '../testing/fixtures.js';
import { requireServer } from '../testing/servers.js';
import { connectionSettings, type SqlStoreOptions } from './options.js';

const pgUrl = await requireServer('postgres');
const mysqlUrl = await requireServer('mysql');
const run = `elo${randomBytes(3).toString('hex')}`;

describe('one set of option names across the SQL stores (types)', () => {
  it('both stores take the shared names with the same types', () => {
    expectTypeOf<PostgresStoreOptions>().toExtend<SqlStoreOptions>();
    expectTypeOf<MysqlStoreOptions>().toExtend<SqlStoreOptions>();
    expectTypeOf<PostgresStoreOptions['connectionString']>().toEqualTypeOf<MysqlStoreOptions['connectionString']>();
    expectTypeOf<PostgresStoreOptions['maxConnections']>().toEqualTypeOf<MysqlStoreOptions['maxConnections']>();
    expectTypeOf<PostgresStoreOptions['tablePrefix']>().toEqualTypeOf<MysqlStoreOptions['tablePrefix']>();
  });

  it('the old MySQL names still compile, as the same types as the names that replace them', () => {
    expectTypeOf<MysqlStoreOptions['uri']>().toEqualTypeOf<MysqlStoreOptions['connectionString']>();
    expectTypeOf<MysqlStoreOptions['connectionLimit']>().toEqualTypeOf<MysqlStoreOptions['maxConnections']>();
    const old: MysqlStoreOptions = { uri: 'mysql://app@localhost/app', connectionLimit: 4 };
    expect(old.uri).toBeDefined();
    // @ts-expect-error The PostgreSQL store never had the MySQL names.
    const wrong: PostgresStoreOptions = { connectionLimit: 4 };
    expect(wrong).toBeDefined();
  });
});

describe('option resolution (no server)', () => {
  const aliases = { uri: 'connectionString', connectionLimit: 'maxConnections' } as const;

  it('a deprecated name stands in for its replacement, and the pool size defaults to 10', () => {
    expect(connectionSettings('f', { uri: 'mysql://a/b' }, aliases, false)).toEqual({
      connectionString: 'mysql://a/b',
      maxConnections: 10,
    });
    expect(connectionSettings('f', { connectionString: 'mysql://a/b', connectionLimit: 3 }, aliases, false)).toEqual({
      connectionString: 'mysql://a/b',
      maxConnections: 3,
    });
    expect(connectionSettings('f', { uri: 'mysql://a/b', connectionString: 'mysql://a/b' }, aliases, false).connectionString).toBe(
      'mysql://a/b',
    );
  });

  it('rejects conflicting names, a missing connection and a bad pool size with a TypeError naming the option', () => {
    expect(() => createMysqlStore({ uri: 'mysql://a/b', connectionString: 'mysql://c/d' })).toThrow(
      new TypeError('createMysqlStore: uri (deprecated) and connectionString disagree; pass only connectionString.'),
    );
    expect(() => createMysqlStore({ maxConnections: 2, connectionLimit: 3, connectionString: 'mysql://a/b' })).toThrow(
      /connectionLimit \(deprecated\) and maxConnections disagree/,
    );
    expect(() => createMysqlStore({})).toThrow(TypeError);
    expect(() => createPostgresStore({})).toThrow(/createPostgresStore needs a connectionString or a pool/);
    expect(() => createPostgresStore({ connectionString: 'postgres://a/b', maxConnections: 0 })).toThrow(
      /maxConnections must be a positive integer/,
    );
  });
});

describe('a refused connection is transient at migrate() and at insert, on every SQL store', () => {
  const refused = {
    postgres: () => createPostgresStore({ connectionString: 'postgres://postgres@127.0.0.1:1/test', maxConnections: 1 }),
    mysql: () => createMysqlStore({ connectionString: 'mysql://root@127.0.0.1:1/test', maxConnections: 1 }),
  };
  for (const [engine, open] of Object.entries(refused)) {
    it(engine, async () => {
      const atMigrate = createEventLog({ store: open(), presets: [conformancePreset] });
      const migrateError = await atMigrate.ready().then(
        () => null,
        (e: unknown) => e,
      );
      expect(isEventLogError(migrateError, 'STORE_FAILED'), String(migrateError)).toBe(true);
      expect((migrateError as StoreError).transient).toBe(true);
      await atMigrate.close().catch(() => undefined);

      const atInsert = createEventLog({ store: open(), presets: [conformancePreset], migrate: false, buffer: { retries: 0 } });
      const insertError = await atInsert.record({ type: 'auth.login' }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(isEventLogError(insertError, 'STORE_FAILED'), String(insertError)).toBe(true);
      expect((insertError as StoreError).transient).toBe(true);
      await atInsert.close().catch(() => undefined);
    });
  }
});

describe.skipIf(!pgUrl)('maxConnections sizes the pool the PostgreSQL store opens', () => {
  const admin = new pg.Pool({ connectionString: pgUrl ?? '', max: 1 });
  afterAll(() => admin.end());

  it('opens at most maxConnections connections', async () => {
    const application = `${run}_pg`;
    const store = createPostgresStore({ connectionString: `${pgUrl}?application_name=${application}`, maxConnections: 2 });
    try {
      await Promise.all(Array.from({ length: 5 }, () => sql`select pg_sleep(0.1)`.execute(store.db)));
      const result = await admin.query('select count(*)::int as n from pg_stat_activity where application_name = $1', [application]);
      expect(result.rows[0]?.n).toBe(2);
    } finally {
      await store.close();
    }
  });
});

describe.skipIf(!mysqlUrl)('maxConnections (or the deprecated connectionLimit) sizes the pool the MySQL store opens', () => {
  const admin = mysqlPromise.createPool({ uri: mysqlUrl ?? '', connectionLimit: 1 });
  const databases: string[] = [];
  afterAll(async () => {
    for (const database of databases) await admin.query(`drop database if exists \`${database}\``);
    await admin.end();
  });

  const cases: [string, (connectionString: string) => MysqlStoreOptions, number][] = [
    ['maxConnections', (connectionString) => ({ connectionString, maxConnections: 3 }), 3],
    ['uri and connectionLimit', (uri) => ({ uri, connectionLimit: 2 }), 2],
  ];
  for (const [name, options, expected] of cases) {
    it(name, async () => {
      const database = `${run}_${databases.length}`;
      databases.push(database);
      await admin.query(`create database \`${database}\``);
      const url = new URL(mysqlUrl ?? '');
      url.pathname = `/${database}`;
      const store = createMysqlStore(options(url.toString()));
      try {
        await Promise.all(Array.from({ length: 6 }, () => sql`select sleep(0.1)`.execute(store.db)));
        const [rows] = await admin.query<mysqlPromise.RowDataPacket[]>(
          'select count(*) as n from information_schema.processlist where db = ?',
          [database],
        );
        expect(Number(rows[0]?.n)).toBe(expected);
      } finally {
        await store.close();
      }
    });
  }
});
