import { randomBytes } from 'node:crypto';
import { createEventLog, type EventRow } from '@eventlog/core';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createPostgresStore } from '../../postgres/postgres-store.js';
import { createSqliteStore } from '../../sqlite/sqlite-store.js';
import { conformancePreset, NOW } from '../../testing/fixtures.js';
import { requireServer } from '../../testing/servers.js';
import type { InsertStrategy } from '../dialect.js';
import { decodeIds, encodeIds, idempotentInsert } from './idempotent.js';

const url = await requireServer('postgres');

describe('the token id encoding', () => {
  it('writes runs of consecutive ids and reads them back', () => {
    expect(encodeIds([5, 6, 7, 9, 12, 13])).toBe('5:3,9:1,12:2');
    expect(decodeIds('5:3,9:1,12:2')).toEqual([5, 6, 7, 9, 12, 13]);
    expect(encodeIds([])).toBe('');
    expect(decodeIds('')).toEqual([]);
  });

  it('also reads the plain comma lists that PostgreSQL stores wrote before the encodings were unified', () => {
    expect(decodeIds('5,6,7,9')).toEqual([5, 6, 7, 9]);
    expect(decodeIds('41')).toEqual([41]);
  });
});

describe('the idempotent-token wrapper', () => {
  it('a retry after a lost reply returns the ids its token row holds, in either encoding, without writing again', async () => {
    const store = createSqliteStore();
    const log = createEventLog({ store, presets: [conformancePreset], closeStore: false });
    await log.ready();
    await sql`create table ${sql.table(store.tables.batches)} (token text primary key, ids text not null, created_at integer not null)`.execute(
      store.db,
    );
    for (const legacy of [false, true]) {
      let calls = 0;
      // The first attempt commits its token row and then "loses" the reply; the rows are made up.
      const strategy: InsertStrategy = async (_rows, _columns, context) => {
        calls++;
        const ids = legacy ? '5,6,9' : '5:2,9:1';
        await context.db.insertInto(context.tables.batches).values({ token: context.token?.token, ids, created_at: NOW }).execute();
        throw Object.assign(new Error('Connection lost'), { code: 'ECONNRESET' });
      };
      const insert = idempotentInsert(strategy);
      const context = {
        db: store.db,
        tables: store.tables,
        jsonColumns: ['data'],
        capabilities: store.capabilities,
        jsonValue: undefined,
      };
      const rows: EventRow[] = [{ type: 'auth.login' }, { type: 'auth.login' }, { type: 'auth.login' }];
      await expect(insert(rows, ['type'], context)).rejects.toThrow('Connection lost');
      expect(await insert(rows, ['type'], context)).toEqual([5, 6, 9]);
      expect(calls).toBe(1);
    }
    await log.close();
    await store.close();
  });
});

describe.skipIf(!url)('PostgreSQL writes the one encoding on both insert paths', () => {
  const admin = new pg.Pool({ connectionString: url ?? '', max: 1 });
  const schemas: string[] = [];
  afterAll(async () => {
    for (const schema of schemas) await admin.query(`drop schema if exists ${schema} cascade`);
    await admin.end();
  });

  for (const [method, count] of [
    ['unnest', 30],
    ['copy', 800],
  ] as const) {
    it(`${method}: the token row decodes to the ids the insert returned`, async () => {
      const schema = `elt_${randomBytes(4).toString('hex')}_${method}`;
      schemas.push(schema);
      const store = createPostgresStore({ connectionString: url ?? '', schema, maxConnections: 2 });
      const log = createEventLog({ store, presets: [conformancePreset], clock: () => NOW });
      const events = await log.recordMany(Array.from({ length: count }, (_, i) => ({ type: 'auth.login' as const, message: `m${i}` })));
      const result = await admin.query<{ ids: string }>(`select ids from ${schema}.eventlog_batches`);
      expect(result.rows).toHaveLength(1);
      const ids = result.rows[0]?.ids ?? '';
      expect(ids).toMatch(/^\d+:\d+(,\d+:\d+)*$/);
      expect(decodeIds(ids)).toEqual(events.map((e) => e.id));
      await log.close();
    });
  }
});
