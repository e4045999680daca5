import { randomBytes } from 'node:crypto';
import { createEventLog, type EventRow } from '@eventlog/core';
import mysql from 'mysql2';
import mysqlPromise from 'mysql2/promise';
import { afterAll, describe, expect, it } from 'vitest';
import { wellFormedJson } from '../kysely/json.js';
import { appendChainedBatches, chainedLog } from '../testing/chain-batches.js';
import { conformancePreset, NOW } from '../testing/fixtures.js';
import { requireServer } from '../testing/servers.js';
import { binaryCollation, isMysqlTransientError, lockName } from './mysql-dialect.js';
import { createMysqlStore } from './mysql-store.js';

const url = await requireServer('mysql');
const run = `elm${randomBytes(3).toString('hex')}`;
const prefixes: string[] = [];
const nextPrefix = () => {
  const prefix = `${run}_${prefixes.length}_`;
  prefixes.push(prefix);
  return prefix;
};
const schemaOf = () => createEventLog({ store: {} as never, presets: [conformancePreset] }).registry.storeSchema;

/** Strings that break naive SQL, CSV or JSON encoders. */
const HOSTILE = [
  'tab\there',
  'line\nfeed and\r\ncrlf and\rcr',
  'back\\slash, \\N, \\0, \\\\ and a trailing backslash\\',
  '"double" and \'single\' quotes, `backticks`, commas, ;',
  'ünïcödé — 日本語 — 🚀👩‍👩‍👧',
  'NUL\u0000inside',
  'lone \ud800 high and \udc00 low surrogates',
  '',
  ' leading and trailing ',
  "'; DROP TABLE x; -- ",
];
/** How MySQL stores each of them: unpaired surrogates become U+FFFD (NUL is kept). */
const stored = (s: string) => s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');

describe('mysql dialect (no server)', () => {
  it('classifies transient errors', () => {
    const error = (props: object) => Object.assign(new Error('x'), props);
    for (const props of [
      { errno: 1213, code: 'ER_LOCK_DEADLOCK' },
      { errno: 1205 },
      { errno: 1927 },
      { errno: 2013 },
      { errno: 1053 },
      { code: 'PROTOCOL_CONNECTION_LOST', fatal: true },
      { code: 'ECONNRESET' },
      { code: 'ECONNREFUSED' },
      { fatal: true },
    ]) {
      expect(isMysqlTransientError(error(props)), JSON.stringify(props)).toBe(true);
    }
    expect(isMysqlTransientError(new Error("Can't add new command when connection is in closed state"))).toBe(true);
    for (const props of [{ errno: 1062 }, { errno: 1146 }, { errno: 1045, fatal: true }, { errno: 4025 }]) {
      expect(isMysqlTransientError(error(props)), JSON.stringify(props)).toBe(false);
    }
  });

  it('keeps GET_LOCK names within 64 characters and per database', () => {
    expect(lockName('test', 'eventlog:migrate:eventlog_events')).toBe('test.eventlog:migrate:eventlog_events');
    const long = lockName('a_rather_long_database_name', `eventlog:${'p'.repeat(16)}events:${'r'.repeat(40)}`);
    expect(long.length).toBeLessThanOrEqual(64);
    expect(lockName('db1', 'k')).not.toBe(lockName('db2', 'k'));
  });

  it('picks a binary no-pad collation per server', () => {
    expect(binaryCollation('10.11.19-MariaDB-0+deb12u1')).toBe('utf8mb4_nopad_bin');
    expect(binaryCollation('8.0.36')).toBe('utf8mb4_0900_bin');
    expect(binaryCollation('5.7.44-log')).toBe('utf8mb4_bin');
  });

  it('keeps __proto__, constructor and prototype keys when it rewrites', () => {
    const json = '{"__proto__":{"a":"\\ud800"},"constructor":1,"prototype":[2],"x":{"__proto__":"\\u0000"}}';
    const repaired = JSON.parse(wellFormedJson(json, { nul: true }));
    expect(Object.keys(repaired)).toEqual(['__proto__', 'constructor', 'prototype', 'x']);
    expect(Object.getOwnPropertyDescriptor(repaired, '__proto__')?.value).toEqual({ a: '\ufffd' });
    expect(Object.getOwnPropertyDescriptor(repaired.x, '__proto__')?.value).toBe('\ufffd');
  });

  it('rewrites only JSON that holds unpaired surrogate escapes', () => {
    const plain = JSON.stringify({ a: 'x\\ud800 is text, \u0000 stays' });
    expect(wellFormedJson(plain, { nul: false })).toBe(plain);
    expect(JSON.parse(wellFormedJson(JSON.stringify({ k: 'v\ud800\u0000' }), { nul: false }))).toEqual({ k: 'v\ufffd\u0000' });
  });
});

describe.skipIf(!url)('mysql store on a real server', () => {
  const uri = url ?? '';
  const pools: mysql.Pool[] = [];
  const closers: { close(): Promise<void> }[] = [];
  const newPool = (options: mysql.PoolOptions = {}) => {
    const pool = mysql.createPool({ uri, connectionLimit: 4, ...options });
    pools.push(pool);
    return pool;
  };
  const admin = mysqlPromise.createPool({ uri, connectionLimit: 2 });

  afterAll(async () => {
    await Promise.all(closers.map((c) => c.close().catch(() => undefined)));
    for (const prefix of prefixes) {
      await admin.query(
        `drop table if exists ${['events', 'sessions', 'locks', 'migrations', 'batches', 'checkpoints', 'chain_locks', 'jobs'].map((t) => `\`${prefix}${t}\``).join(', ')}`,
      );
    }
    await admin.end();
    await Promise.all(pools.map((p) => new Promise((resolve) => p.end(resolve))));
  });

  it('stores hostile strings exactly in text, dimensions and JSON, and finds them by equality and search', async () => {
    const log = createEventLog({
      store: createMysqlStore({ uri, tablePrefix: nextPrefix() }),
      presets: [conformancePreset],
      clock: () => NOW,
    });
    closers.push(log);
    const events = HOSTILE.map((s, i) => ({
      type: 'llm.consumption' as const,
      time: NOW - i,
      message: s,
      actor: { name: s.slice(0, 200) },
      dimensions: { model_name: s.slice(0, 200) },
      data: { other: { [`key ${s}`]: s, list: [s, null, 1.5] } },
    }));
    const written = await log.recordMany(events);
    for (const [i, s] of HOSTILE.entries()) {
      const read = await log.get(written[i]?.id as number);
      expect(read?.message, JSON.stringify(s)).toBe(stored(s));
      expect(read?.actor.name).toBe(stored(s.slice(0, 200)));
      expect(read?.data).toEqual({ other: { [`key ${stored(s)}`]: stored(s), list: [stored(s), null, 1.5] } });
      expect(await log.count({ dimensions: { model_name: s.slice(0, 200) } }), JSON.stringify(s)).toBe(1);
    }
    expect(await log.count({ search: 'NUL\u0000INS' })).toBe(1);
    expect(await log.count({ search: 'ÜNÏCÖDÉ' })).toBe(1);
    expect(await log.count({ search: 'backslash\\' })).toBe(1);
    expect(await log.count({ search: '\\N' })).toBe(1);
  });

  it('splits a batch larger than max_allowed_packet into statements of one transaction', async () => {
    const log = createEventLog({
      store: createMysqlStore({ uri, tablePrefix: nextPrefix() }),
      presets: [conformancePreset],
      clock: () => NOW,
    });
    closers.push(log);
    const [row] = await admin.query<mysqlPromise.RowDataPacket[]>('select @@max_allowed_packet as packet');
    const packet = Number(row?.[0]?.packet);
    const big = 'x'.repeat(60_000);
    const count = Math.ceil((packet * 1.2) / big.length);
    const stored = await log.recordMany(Array.from({ length: count }, (_, i) => ({ type: 'auth.login' as const, message: `${i}:${big}` })));
    expect(await log.count()).toBe(count);
    if (log.store.capabilities.returnsIds) {
      const page = await log.query({ pageSize: 1000, sort: { field: 'id', direction: 'asc' } });
      expect(page.items.map((e) => [e.id, e.message?.slice(0, 6)])).toEqual(stored.map((e) => [e.id, e.message?.slice(0, 6)]));
    }
  });

  it('returns exact ids only when the server hands out consecutive auto-increment values', async () => {
    const store = createMysqlStore({ uri, tablePrefix: nextPrefix() });
    closers.push(store);
    await store.migrate(schemaOf());
    const [row] = await admin.query<mysqlPromise.RowDataPacket[]>(
      'select @@innodb_autoinc_lock_mode as mode, @@auto_increment_increment as step',
    );
    const consecutive = Number(row?.[0]?.mode) <= 1 && Number(row?.[0]?.step) === 1;
    expect(store.capabilities.returnsIds).toBe(consecutive);
    const rows: EventRow[] = Array.from({ length: 3000 }, (_, i) => ({ time: NOW + i, type: 'auth.login', message: `m${i}` }));
    const ids = await store.insert(rows);
    if (!consecutive) {
      expect(ids).toEqual([]);
      return;
    }
    const found = await store.find({ where: [], orderBy: { column: 'id', direction: 'asc' }, limit: 5000 });
    expect(found.map((r) => [r.id, r.message])).toEqual(rows.map((r, i) => [ids[i], r.message]));
  });

  it('retries an insert whose COMMIT succeeded but whose reply was lost, storing the rows once', async () => {
    const pool = newPool();
    let sabotage = 1;
    // Fault injection on the real server: the first COMMIT runs, then its client reports a lost connection.
    const flaky = {
      getConnection(callback: (error: unknown, connection?: mysql.PoolConnection) => void) {
        pool.getConnection((error, connection) => {
          if (error || !connection) return callback(error);
          const query = connection.query as (...args: unknown[]) => unknown;
          (connection as { query: unknown }).query = (sql: unknown, ...rest: unknown[]) => {
            const done = rest.at(-1);
            if (sabotage > 0 && typeof sql === 'string' && /^commit/i.test(sql) && typeof done === 'function') {
              sabotage--;
              return query.call(connection, sql, ...rest.slice(0, -1), (e: unknown) => {
                connection.destroy();
                done(
                  e ??
                    Object.assign(new Error('Connection lost: The server closed the connection.'), {
                      code: 'PROTOCOL_CONNECTION_LOST',
                      fatal: true,
                    }),
                );
              });
            }
            return query.call(connection, sql, ...rest);
          };
          callback(null, connection);
        });
      },
      end: (callback: () => void) => callback(),
      on: () => undefined,
    } as unknown as mysql.Pool;
    const store = createMysqlStore({ pool: flaky, tablePrefix: nextPrefix() });
    const log = createEventLog({ store, presets: [conformancePreset], clock: () => NOW, buffer: { retryDelayMs: 1 }, closeStore: false });
    await log.ready();
    const failures: unknown[] = [];
    const insert = store.insert;
    store.insert = async (rows) => {
      try {
        return await insert(rows);
      } catch (error) {
        failures.push(error);
        throw error;
      }
    };
    const events = await log.recordMany(Array.from({ length: 25 }, (_, i) => ({ type: 'auth.login' as const, message: `m${i}` })));
    expect(failures).toHaveLength(1);
    expect(await log.count()).toBe(25);
    if (store.capabilities.returnsIds) {
      const page = await log.query({ pageSize: 100, sort: { field: 'id', direction: 'asc' } });
      expect(page.items.map((e) => [e.id, e.message])).toEqual(events.map((e) => [e.id, e.message]));
    }
    await log.close();
  });

  // The rows used to be written on a second connection while the first held the chain locks, so a
  // pool of one connection waited for itself forever; now the append is one transaction on one.
  it('appends a chain with a pool of one connection, in one transaction, and verifies', async () => {
    const pool = newPool({ connectionLimit: 1 });
    const log = chainedLog(createMysqlStore({ pool, tablePrefix: nextPrefix() }));
    closers.push(log);
    await appendChainedBatches(log);
  }, 30_000);

  it('never closes a mysql2/promise pool the host passed in (the suite checks the callback pool)', async () => {
    const promisePool = mysqlPromise.createPool({ uri, connectionLimit: 2 });
    const store = createMysqlStore({ pool: promisePool, tablePrefix: nextPrefix() });
    const log = createEventLog({ store, presets: [conformancePreset] });
    await log.record({ type: 'auth.login' });
    expect(await log.count()).toBe(1);
    await log.close();
    await store.close();
    const [rows] = await promisePool.query<mysqlPromise.RowDataPacket[]>('select 1 as one');
    expect(rows[0]?.one).toBe(1);
    await promisePool.end();
  });
});
