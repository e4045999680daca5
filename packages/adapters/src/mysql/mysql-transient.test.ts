import { randomBytes } from 'node:crypto';
import { createEventLog, type EventRow, isEventLogError, StoreError } from '@eventlog/core';
import mysqlPromise from 'mysql2/promise';
import { afterAll, describe, expect, it } from 'vitest';
import { conformancePreset, NOW } from '../testing/fixtures.js';
import { requireServer } from '../testing/servers.js';
import { isMysqlTransientError } from './mysql-dialect.js';
import { createMysqlStore } from './mysql-store.js';

const url = await requireServer('mysql');
const run = `elx${randomBytes(3).toString('hex')}`;
const prefixes: string[] = [];
const nextPrefix = () => {
  const prefix = `${run}_${prefixes.length}_`;
  prefixes.push(prefix);
  return prefix;
};

const coded = (props: object, cause?: unknown) => Object.assign(new Error('x', { cause }), props);

describe('mysql error classification (no server)', () => {
  it('an oversized packet is permanent even when the connection reset reports it', () => {
    const reset = coded({ code: 'ECONNRESET', errno: -104 });
    const tooLarge = coded({ code: 'ER_NET_PACKET_TOO_LARGE', errno: 1153 });
    expect(isMysqlTransientError(reset)).toBe(true);
    expect(isMysqlTransientError(tooLarge)).toBe(false);
    expect(isMysqlTransientError(coded({ code: 'PROTOCOL_CONNECTION_LOST', fatal: true }, tooLarge))).toBe(false);
    expect(isMysqlTransientError(new AggregateError([reset, tooLarge]))).toBe(false);
    // A verdict the store already made (it knew the statement's size) is final.
    expect(isMysqlTransientError(new StoreError('mysql', 'insert', reset, false))).toBe(false);
    expect(isMysqlTransientError(new StoreError('mysql', 'insert', reset, true))).toBe(true);
  });

  it('every socket error of the shared list is transient, with or without a wrapper', () => {
    for (const code of ['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'UND_ERR_SOCKET']) {
      expect(isMysqlTransientError(coded({ code })), code).toBe(true);
      expect(isMysqlTransientError(new Error('query failed', { cause: coded({ code }) })), code).toBe(true);
    }
  });
});

describe.skipIf(!url)('mysql transient errors on a real server', () => {
  const uri = url ?? '';
  const admin = mysqlPromise.createPool({ uri, connectionLimit: 2 });
  const closers: { close(): Promise<void> }[] = [];

  afterAll(async () => {
    await Promise.all(closers.map((c) => c.close().catch(() => undefined)));
    for (const prefix of prefixes) {
      const tables = ['events', 'sessions', 'locks', 'migrations', 'batches'].map((t) => `\`${prefix}${t}\``);
      await admin.query(`drop table if exists ${tables.join(', ')}`);
    }
    await admin.end();
  });

  it('a statement larger than max_allowed_packet fails once, as a permanent StoreError, and stores nothing', async () => {
    const [row] = await admin.query<mysqlPromise.RowDataPacket[]>('select @@max_allowed_packet as packet');
    const packet = Number(row?.[0]?.packet);
    // The store is told it may build statements far larger than the server accepts.
    const store = createMysqlStore({ connectionString: uri, tablePrefix: nextPrefix(), maxStatementBytes: 1024 ** 3 });
    const log = createEventLog({
      store,
      presets: [conformancePreset],
      clock: () => NOW,
      buffer: { retries: 5, retryDelayMs: 1 },
      closeStore: false,
    });
    closers.push(log, store);
    await log.ready();
    let attempts = 0;
    const insert = store.insert;
    store.insert = (rows: readonly EventRow[]) => {
      attempts++;
      return insert(rows);
    };
    const big = 'y'.repeat(60_000);
    const count = Math.ceil((packet * 1.1) / big.length);
    const events = Array.from({ length: count }, (_, i) => ({ type: 'auth.login' as const, message: `${i}:${big}` }));
    const error = await log.recordMany(events).then(
      () => null,
      (e: unknown) => e,
    );
    expect(isEventLogError(error, 'STORE_FAILED'), String(error)).toBe(true);
    expect((error as StoreError).transient).toBe(false);
    expect((error as StoreError).message).toMatch(/max_allowed_packet/);
    expect(attempts).toBe(1);
    expect(await log.count()).toBe(0);
    // The store recovers: the next batch of ordinary size is stored.
    await log.record({ type: 'auth.login', message: 'after' });
    expect(await log.count()).toBe(1);
    await log.close();
  }, 60_000);

  it('a batch that only needs splitting is still split and stored', async () => {
    const store = createMysqlStore({ connectionString: uri, tablePrefix: nextPrefix(), maxStatementBytes: 256 * 1024 });
    const log = createEventLog({ store, presets: [conformancePreset], clock: () => NOW });
    closers.push(log);
    const big = 'z'.repeat(20_000);
    await log.recordMany(Array.from({ length: 40 }, (_, i) => ({ type: 'auth.login' as const, message: `${i}:${big}` })));
    expect(await log.count()).toBe(40);
  });
});
