import { randomBytes } from 'node:crypto';
import { createEventLog, type EventRow, isEventLogError, type StoredEvent } from '@eventlog/core';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createKyselyStore, type KyselyStore } from '../kysely/kysely-store.js';
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

  it('never closes a pool the host passed in', async () => {
    const pool = newPool();
    const store = createPostgresStore({ pool, schema: nextSchema() });
    const log = createEventLog({ store, presets: [conformancePreset] });
    await log.record({ type: 'auth.login' });
    await log.close();
    await store.close();
    const result = await pool.query('select 1 as one');
    expect(result.rows[0]?.one).toBe(1);
  });

  it('closes the pool it opened', async () => {
    const store = createPostgresStore({ connectionString, schema: nextSchema() });
    await store.migrate(schemaOf());
    await store.close();
    await expect(store.count([])).rejects.toThrow();
  });

  it('concurrent migrate() calls from separate pools all succeed and create each index once', async () => {
    const schema = nextSchema();
    const a = createPostgresStore({ pool: newPool(), schema });
    const b = createPostgresStore({ pool: newPool(), schema });
    const c = createPostgresStore({ pool: newPool(), schema });
    const spec = schemaOf();
    await Promise.all([a.migrate(spec), b.migrate(spec), c.migrate(spec), a.migrate(spec)]);
    const indexes = await admin().query<{ indexname: string; indexdef: string }>(
      'select indexname, indexdef from pg_indexes where schemaname = $1 and tablename = $2 order by indexname',
      [schema, 'eventlog_events'],
    );
    expect(indexes.rows.map((r) => r.indexname)).toEqual(
      // …and the keyword-search trigram index (kysely/search/postgres-trigram.ts).
      ['eventlog_events_pkey', 'eventlog_ix_search', ...spec.indexes.map((i) => `eventlog_ix_${i.name}`)].sort(),
    );
    const versions = await admin().query(`select version from ${schema}.eventlog_migrations`);
    expect(versions.rowCount).toBe(1);
  });

  it('rebuilds an index whose columns are in the wrong order and adds missing columns', async () => {
    const schema = nextSchema();
    const store = createPostgresStore({ pool: newPool(), schema });
    const spec = schemaOf();
    await store.migrate(spec);
    await admin().query(`drop index ${schema}.eventlog_ix_tenant_time`);
    await admin().query(`create index eventlog_ix_tenant_time on ${schema}.eventlog_events (time, tenant_id, id)`);
    await admin().query(`alter table ${schema}.eventlog_events drop column token_name`);
    // A same-named table in another schema must not hide the missing column.
    const other = nextSchema();
    await createPostgresStore({ pool: newPool(), schema: other }).migrate(spec);
    await store.migrate(spec);
    const def = await admin().query<{ indexdef: string }>('select indexdef from pg_indexes where schemaname = $1 and indexname = $2', [
      schema,
      'eventlog_ix_tenant_time',
    ]);
    expect(def.rows[0]?.indexdef).toMatch(/\(tenant_id, "time", id\)/);
    const columns = await admin().query('select 1 from information_schema.columns where table_schema = $1 and column_name = $2', [
      schema,
      'token_name',
    ]);
    expect(columns.rowCount).toBe(1);
  });

  it('tryLock excludes another process until released', async () => {
    const schema = nextSchema();
    const a = createPostgresStore({ pool: newPool(), schema });
    const b = createPostgresStore({ pool: newPool(), schema });
    await a.migrate(schemaOf());
    const held = await a.tryLock('retention', 60_000);
    expect(held).not.toBeNull();
    expect(await b.tryLock('retention', 60_000)).toBeNull();
    expect(await a.tryLock('retention', 60_000)).toBeNull();
    const other = await b.tryLock('another', 60_000);
    expect(other).not.toBeNull();
    await held?.();
    await held?.();
    const again = await b.tryLock('retention', 60_000);
    expect(again).not.toBeNull();
    await again?.();
    await other?.();
  });

  it('returns numbers, never strings, for int8 ids, counts, sums and buckets', async () => {
    const log = createEventLog({
      store: createPostgresStore({ connectionString, schema: nextSchema() }),
      presets: [conformancePreset],
      clock: () => NOW,
    });
    stores.push(log);
    await log.record({ type: 'llm.consumption', metrics: { quota: 2 ** 52, prompt_tokens: 3 }, dimensions: { channel: 2 ** 40 } });
    const [event] = (await log.query()).items;
    expect(typeof event?.id).toBe('number');
    expect(event?.metrics.quota).toBe(2 ** 52);
    expect(event?.dimensions.channel).toBe(2 ** 40);
    const stats = await log.stats();
    expect(stats).toMatchObject({ count: 1, sums: { quota: 2 ** 52, prompt_tokens: 3 } });
    const [top] = await log.top({ by: 'channel' });
    expect(top?.value).toBe(2 ** 40);
    const timeline = await log.timeline({ bucket: 'hour', filter: { since: NOW - 3_600_000, until: NOW + 1 } });
    expect(timeline.points.reduce((n, p) => n + p.count, 0)).toBe(1);
  });

  for (const method of ['unnest', 'copy'] as const) {
    it(`keeps every acknowledged event (${method}) when its connections are terminated mid-ingest`, async () => {
      const application = `${run}_fault`;
      const schema = nextSchema();
      const store = createPostgresStore({
        connectionString: `${connectionString}?application_name=${application}`,
        schema,
        maxConnections: 4,
      });
      const log = createEventLog({
        store,
        presets: [conformancePreset],
        buffer: { maxBatchSize: 200, retries: 10, retryDelayMs: 10, maxRetryDelayMs: 200 },
      });
      stores.push(log);
      await log.ready();
      const failures: unknown[] = [];
      const insert = store.insert;
      store.insert = async (rows: readonly EventRow[]) => {
        try {
          return await insert(rows);
        } catch (error) {
          failures.push(error);
          throw error;
        }
      };

      let ingesting = true;
      let terminated = 0;
      const killer = (async () => {
        const killerPool = admin();
        while (ingesting) {
          const result = await killerPool.query('select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1', [
            application,
          ]);
          terminated += result.rowCount ?? 0;
          await new Promise((resolve) => setTimeout(resolve, 30));
        }
      })();

      type Outcome = { key: string; event?: StoredEvent; error?: unknown };
      const outcomes: Promise<Outcome>[] = [];
      for (let round = 0; round < 60; round++) {
        for (let i = 0; i < 40; i++) {
          const key = `k${round}-${i}`;
          outcomes.push(
            log.record({ type: 'auth.login', message: key, target: { id: key } }).then(
              (event) => ({ key, event }),
              (error: unknown) => ({ key, error }),
            ),
          );
        }
        // Pace the ingest so batches keep flowing while connections die.
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      const results = await Promise.all(outcomes);
      ingesting = false;
      await killer;

      const acknowledged = results.filter((r) => r.event);
      const rejected = results.filter((r) => r.error !== undefined);
      for (const r of rejected) expect(isEventLogError(r.error, 'STORE_FAILED'), String(r.error)).toBe(true);
      const rows = await admin().query<{ target_id: string; id: string; n: string }>(
        `select target_id, min(id) as id, count(*) as n from ${schema}.eventlog_events group by target_id`,
      );
      const byKey = new Map(rows.rows.map((r) => [r.target_id, r]));
      for (const r of acknowledged) {
        const row = byKey.get(r.key);
        expect(row, `acknowledged ${r.key} is missing`).toBeDefined();
        expect(Number(row?.id)).toBe(r.event?.id);
      }
      // Retries reuse their preallocated ids (COPY) or token (unnest): a lost acknowledgement never duplicates rows.
      expect(rows.rows.filter((r) => Number(r.n) > 1)).toEqual([]);
      console.info(
        `[postgres fault, ${method}] ${results.length} records: ${acknowledged.length} acknowledged, ${rejected.length} rejected, ` +
          `${failures.length} failed inserts retried, ${terminated} backends terminated` +
          (rejected[0] ? `; first rejection: ${String((rejected[0].error as Error).message)}` : ''),
      );
      expect(terminated).toBeGreaterThan(0);
      expect(failures.length).toBeGreaterThan(0);
    }, 120_000);
  }
});
