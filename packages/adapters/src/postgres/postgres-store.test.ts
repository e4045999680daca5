import { randomBytes } from 'node:crypto';
import { createEventLog } from '@eventlog/core';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createKyselyStore, type KyselyStore } from '../kysely/kysely-store.js';
import { recordWhileKilling } from '../testing/faults.js';
import { conformancePreset, NOW } from '../testing/fixtures.js';
import { requireServer } from '../testing/servers.js';
import { copyField, createPostgresDialect, isPostgresTransientError, PostgresTextPlugin, pgJson } from './postgres-dialect.js';
import { createPostgresStore } from './postgres-store.js';

const url = await requireServer('postgres');
const run = `elt_${randomBytes(4).toString('hex')}`;
const schemas: string[] = [];
const nextSchema = () => {
  const schema = `${run}_${schemas.length}`;
  schemas.push(schema);
  return schema;
};
const schemaOf = () => createEventLog({ store: {} as never, presets: [conformancePreset] }).registry.storeSchema;

/** Strings that break naive COPY, CSV, JSON or SQL encoders. */
const HOSTILE = [
  'tab\there',
  'line\nfeed and\r\ncrlf and\rcr',
  'back\\slash, \\N, \\., \\t literal',
  '\\',
  '"double" and \'single\' quotes, commas, ,;',
  'ünïcödé — 日本語 — 🚀👩‍👩‍👧',
  'NUL\u0000inside',
  'lone \ud800 high and \udc00 low surrogates',
  '\\.\n\\.',
  '',
  ' leading and trailing ',
  '\u2028\u2029 separators and \u0001\u001f controls',
];
/** How PostgreSQL stores each of them: NUL and unpaired surrogates become U+FFFD. */
const stored = (s: string) =>
  s.replace(/\0/g, '\ufffd').replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');

describe('postgres COPY encoding (no server)', () => {
  it('escapes the four COPY specials and writes null as \\N', () => {
    expect(copyField(null, false)).toBe('\\N');
    expect(copyField('\\N', false)).toBe('\\\\N');
    expect(copyField('a\tb\nc\rd\\e', false)).toBe('a\\tb\\nc\\rd\\\\e');
    expect(copyField(1.5, false)).toBe('1.5');
    expect(copyField(Number.NaN, false)).toBe('NaN');
    expect(copyField('nul\u0000', false)).toBe('nul\ufffd');
  });

  it('re-encodes JSON only when it holds escapes jsonb rejects', () => {
    const plain = JSON.stringify({ a: 'x\\u0000 is text, not an escape' });
    expect(pgJson(plain)).toBe(plain);
    expect(JSON.parse(pgJson(JSON.stringify({ 'k\u0000': 'v\u0000\ud800' })))).toEqual({ 'k\ufffd': 'v\ufffd\ufffd' });
  });

  it('classifies transient errors', () => {
    const coded = (code: string) => Object.assign(new Error('x'), { code });
    for (const code of ['40001', '40P01', '57P01', '57P02', '57P03', '08006', '08003', '53300', 'ECONNRESET', 'ECONNREFUSED', 'EPIPE']) {
      expect(isPostgresTransientError(coded(code)), code).toBe(true);
    }
    expect(isPostgresTransientError(new Error('Connection terminated unexpectedly'))).toBe(true);
    for (const code of ['23505', '22021', '42P01', '08P01']) expect(isPostgresTransientError(coded(code)), code).toBe(false);
    expect(isPostgresTransientError(new Error('syntax error'))).toBe(false);
  });
});

describe.skipIf(!url)('postgres store on a real server', () => {
  const connectionString = url ?? '';
  const pools: pg.Pool[] = [];
  const stores: { close(): Promise<void> }[] = [];
  const newPool = (options: pg.PoolConfig = {}) => {
    const pool = new pg.Pool({ connectionString, max: 4, ...options });
    pool.on('error', () => undefined);
    pools.push(pool);
    return pool;
  };
  const admin = () => pools[0] ?? newPool();

  afterAll(async () => {
    await Promise.all(stores.map((s) => s.close().catch(() => undefined)));
    const pool = admin();
    for (const schema of schemas) await pool.query(`drop schema if exists ${schema} cascade`);
    await Promise.all(pools.map((p) => p.end()));
  });

  /** A store built from its parts, so a test can pin the insert method or wrap the pool. */
  const partsStore = (pool: pg.Pool, schema: string, insertMethod: 'copy' | 'unnest' = 'copy'): KyselyStore => {
    let store: KyselyStore | undefined;
    const dialect = createPostgresDialect({ pool, schema, insertMethod, tables: () => (store as KyselyStore).tables });
    const db = new Kysely({ dialect: new PostgresDialect({ pool }), plugins: [new PostgresTextPlugin()] });
    store = createKyselyStore({ db, dialect, schema, destroy: async () => undefined });
    return store;
  };

  for (const method of ['copy', 'unnest'] as const) {
    it(`stores hostile strings exactly (${method}), in text, dimensions and jsonb`, async () => {
      const store = partsStore(newPool(), nextSchema(), method);
      const log = createEventLog({ store, presets: [conformancePreset], clock: () => NOW, closeStore: false });
      const events = HOSTILE.map((s, i) => ({
        type: 'llm.consumption' as const,
        time: NOW - i,
        message: s,
        actor: { name: s.slice(0, 200) },
        dimensions: { model_name: s.slice(0, 200) },
        data: { other: { [`key ${s}`]: s, list: [s, null, 1.5] } },
      }));
      const written = await log.recordMany(events);
      expect(written.map((e) => e.id)).toEqual([...written.map((e) => e.id)].sort((a, b) => a - b));
      for (const [i, s] of HOSTILE.entries()) {
        const read = await log.get(written[i]?.id as number);
        expect(read?.message, JSON.stringify(s)).toBe(stored(s));
        expect(read?.actor.name).toBe(stored(s.slice(0, 200)));
        expect(read?.data).toEqual({ other: { [`key ${stored(s)}`]: stored(s), list: [stored(s), null, 1.5] } });
        // The same replacement applies to filter values, so the original input still finds the row.
        expect(await log.count({ dimensions: { model_name: s.slice(0, 200) } }), JSON.stringify(s)).toBe(1);
      }
      expect(await log.count({ search: 'NUL\u0000ins' })).toBe(1);
      expect(await log.count({ search: '\\N' })).toBe(1);
      await log.close();
    });
  }

  it('an event with NUL goes through record(), sessions and search without a store error', async () => {
    const log = createEventLog({
      store: createPostgresStore({ connectionString, schema: nextSchema() }),
      presets: [conformancePreset],
      clock: () => NOW,
    });
    stores.push(log);
    const event = await log.record({ type: 'connection.open', message: 'a\u0000b', data: { 'x\u0000': 'y\u0000' }, sessionId: 's\u0000' });
    expect((await log.get(event.id))?.message).toBe('a\ufffdb');
    await log.sessions.open({ type: 'connection.open', sessionId: 'n\u0000', message: 'm\u0000', data: { v: '\u0000' } });
    expect((await log.sessions.list()).map((s) => s.sessionId)).toEqual(['n\ufffd']);
    expect(await log.count({ search: '\u0000' })).toBe(2);
  });

  for (const method of ['copy', 'unnest'] as const) {
    it(`retries an insert (${method}) that committed before its connection failed, storing the rows once`, async () => {
      const pool = newPool();
      let sabotage = 1;
      const lost = () => new Error('Connection terminated unexpectedly');
      // Fault injection on the real server: the first insert commits, then its client reports a lost connection.
      const flaky = {
        options: pool.options,
        Client: pg.Client,
        end: async () => undefined,
        on: (...args: unknown[]) => (pool.on as (...a: unknown[]) => unknown)(...args),
        query: async (...args: unknown[]) => {
          const result = await (pool.query as (...a: unknown[]) => Promise<unknown>)(...args);
          const text = (args[0] as { text?: string }).text ?? args[0];
          if (sabotage > 0 && typeof text === 'string' && text.startsWith('with ins')) {
            sabotage--;
            throw lost();
          }
          return result;
        },
        connect: async () => {
          const client = await pool.connect();
          const query = client.query as (...a: unknown[]) => unknown;
          (client as { query: unknown }).query = (q: unknown, ...rest: unknown[]) => {
            const result = query.call(client, q, ...rest);
            if (sabotage > 0 && q && typeof q === 'object' && 'submit' in q && (q as { text?: string }).text?.startsWith('copy')) {
              sabotage--;
              const stream = q as unknown as NodeJS.EventEmitter;
              const emit = stream.emit.bind(stream);
              stream.emit = (name: string | symbol, ...args: unknown[]) =>
                name === 'finish' ? emit('error', lost()) : emit(name, ...args);
            }
            return result;
          };
          return client;
        },
      } as unknown as pg.Pool;
      const store = partsStore(flaky, nextSchema(), method);
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
      const page = await log.query({ pageSize: 100, sort: { field: 'id', direction: 'asc' } });
      expect(page.items.map((e) => [e.id, e.message])).toEqual(events.map((e) => [e.id, e.message]));
      await log.close();
    });
  }

  it('closes the pool it opened', async () => {
    const store = createPostgresStore({ connectionString, schema: nextSchema() });
    await store.migrate(schemaOf());
    await store.close();
    await expect(store.count([])).rejects.toThrow();
  });

  it('a same-named table in another schema does not hide a missing column', async () => {
    const schema = nextSchema();
    const store = createPostgresStore({ pool: newPool(), schema });
    const spec = schemaOf();
    await store.migrate(spec);
    await admin().query(`alter table ${schema}.eventlog_events drop column token_name`);
    await createPostgresStore({ pool: newPool(), schema: nextSchema() }).migrate(spec);
    await store.migrate(spec);
    const columns = await admin().query('select 1 from information_schema.columns where table_schema = $1 and column_name = $2', [
      schema,
      'token_name',
    ]);
    expect(columns.rowCount).toBe(1);
  });

  // The suite kills connections under the default insert path (unnest for batches this size); COPY
  // is PostgreSQL's own path, with ids allocated before the rows are sent.
  it('keeps every acknowledged event (COPY) when its connections are terminated mid-ingest', async () => {
    const application = `${run}_copy_fault`;
    const pool = newPool({ connectionString: `${connectionString}?application_name=${application}` });
    const store = partsStore(pool, nextSchema(), 'copy');
    const log = createEventLog({
      store,
      presets: [conformancePreset],
      buffer: { maxBatchSize: 200, retries: 10, retryDelayMs: 10, maxRetryDelayMs: 200 },
      closeStore: false,
    });
    stores.push(log);
    await log.ready();
    const report = await recordWhileKilling(log, store, async () => {
      const result = await admin().query('select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1', [
        application,
      ]);
      return result.rowCount ?? 0;
    });
    expect(report.killed).toBeGreaterThan(0);
    expect(report.failedInserts).toBeGreaterThan(0);
  }, 120_000);
});
