import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createEventLog } from '@eventlog/core';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { conformancePreset, NOW } from '../testing/fixtures.js';
import { createSqliteStore } from './sqlite-store.js';

const dir = mkdtempSync(join(tmpdir(), 'eventlog-sqlite-store-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('sqlite store', () => {
  it('uses WAL on file databases', async () => {
    const filename = join(dir, 'wal.db');
    const store = createSqliteStore({ filename });
    await createEventLog({ store, closeStore: false }).ready();
    const database = new Database(filename, { readonly: true });
    expect(database.pragma('journal_mode', { simple: true })).toBe('wal');
    database.close();
    await store.close();
  });

  it('checkpoints the WAL on a worker thread and restores the host connection afterwards', async () => {
    // The store's own connection (the host's event loop) only checkpoints past 20,000 WAL pages
    // (80 MB), a safety net; the worker copies the WAL into the database file after each 1,000 rows.
    // 40,000 rows (about 16 MB of table and indexes) write far less WAL than that: rows that reached
    // the database file were copied there by the worker.
    const filename = join(dir, 'checkpoints.db');
    const database = new Database(filename);
    const hostSetting = database.pragma('wal_autocheckpoint', { simple: true });
    const store = createSqliteStore({ database });
    const log = createEventLog({ store, closeStore: false });
    await log.ready();
    expect(database.pragma('wal_autocheckpoint', { simple: true })).toBe(20_000);
    const initial = statSync(filename).size;
    for (let chunk = 0; chunk < 40; chunk++) {
      await log.recordMany(
        Array.from({ length: 1000 }, (_, i) => ({
          type: 'app.tick',
          message: `chunk ${chunk} row ${i} ${'x'.repeat(200)}`,
          tenantId: `t${i % 13}`,
          actor: { id: `u${(chunk * 1000 + i) % 977}` },
        })),
      );
    }
    expect(statSync(filename).size - initial).toBeGreaterThan(8 * 1024 * 1024);
    await log.close();
    await store.close();
    expect(database.pragma('wal_autocheckpoint', { simple: true })).toBe(hostSetting);
    database.close();
  });

  it('keeps planner statistics for its tables without STAT4 samples, and leaves the host tables alone', async () => {
    // With STAT4 samples SQLite plans a statement again each time a bound value changes, which is
    // every read (docs/benchmarks.md, "SQLite planner samples"); STAT1 figures give the same plans.
    const filename = join(dir, 'statistics.db');
    const database = new Database(filename);
    database.exec('create table host_items (id integer primary key, kind text); create index host_items_kind on host_items (kind)');
    const fill = database.prepare('insert into host_items (kind) values (?)');
    database.transaction(() => {
      for (let i = 0; i < 2000; i++) fill.run(`k${i % 7}`);
    })();
    database.exec('analyze');
    const samples = database.prepare('select count(*) as n from sqlite_stat4 where tbl = ?').pluck();
    const hostSamples = samples.get('host_items') as number;
    expect(hostSamples).toBeGreaterThan(0);

    const store = createSqliteStore({ database, readers: 1 });
    const log = createEventLog({ store, closeStore: false, clock: () => NOW });
    const events = (from: number) =>
      Array.from({ length: 5000 }, (_, i) => ({ type: 'app.tick', tenantId: `t${(from + i) % 13}`, time: NOW - (from + i) * 1000 }));
    const reads = () => log.query({ filter: { tenantId: 't3', since: NOW - 86_400_000 }, page: 1, pageSize: 20 });
    for (let from = 0; from < 55_000; from += 5000) {
      await log.recordMany(events(from));
      // Reads on the reader worker before and after each refresh of the statistics.
      expect((await reads()).items).toHaveLength(20);
    }
    const stat1 = database.prepare("select count(*) from sqlite_stat1 where tbl = 'eventlog_events'").pluck();
    for (let waited = 0; (stat1.get() as number) === 0 && waited < 5000; waited += 50) await new Promise((r) => setTimeout(r, 50));
    expect(stat1.get()).toBeGreaterThan(0);
    expect(samples.get('eventlog_events')).toBe(0);
    expect(samples.get('host_items')).toBe(hostSamples);
    const page = await reads();
    // Events 3, 16, 29, … of the 55,000 (one a second, all within the day) belong to t3.
    expect(page.total).toBe(4231);
    await log.close();
    await store.close();
    database.close();
  });

  it('makes bulk batches wait for a running checkpoint, but not a few rows written alongside a prune', async () => {
    // A prune's deletes keep a checkpoint running nearly all the time; a writer of single events
    // that waited for each one measured a worst wait of 117–153 ms against 49–64 ms without.
    const store = createSqliteStore({ filename: join(dir, 'checkpoint-wait.db') });
    const log = createEventLog({ store, closeStore: false });
    await log.ready();
    let observed = 0;
    for (let round = 0; round < 50 && observed < 3; round++) {
      await log.recordMany(Array.from({ length: 1000 }, (_, i) => ({ type: 'app.tick', message: `${round}/${i} ${'x'.repeat(300)}` })));
      const bulk = store.writeReady?.(1000);
      if (!bulk) continue; // that checkpoint already ended: write more
      observed++;
      expect(store.writeReady?.(1)).toBeUndefined();
      expect(store.writeReady?.(20)).toBeUndefined();
      await bulk;
    }
    expect(observed).toBe(3);
    await log.close();
    await store.close();
  });

  it('keeps the WAL short while a retention job deletes alongside a writer', async () => {
    // Without waiting for the checkpoints before its batches, a prune never let the WAL start over
    // (each checkpoint ended with the writer's newest pages left in it), so the WAL grew until the
    // store's own connection checkpointed it inside a delete's commit, holding the event loop for the
    // copy of 20,000 pages (docs/benchmarks.md, "The prune writer at 1 M (session 9)"). A 1 KB page
    // makes each batch write more pages, so a small table shows it. The WAL file never shrinks: its
    // size is the longest the WAL ever was.
    const filename = join(dir, 'prune-wal.db');
    const database = new Database(filename);
    database.pragma('page_size = 1024');
    const store = createSqliteStore({ database });
    const log = createEventLog({ store, closeStore: false, clock: () => NOW });
    await log.ready();
    for (let chunk = 0; chunk < 40; chunk++) {
      await log.recordMany(
        Array.from({ length: 1000 }, (_, i) => ({
          type: 'app.tick',
          time: NOW - 86_400_000 + chunk * 1000 + i,
          message: `chunk ${chunk} row ${i} ${'x'.repeat(100)}`,
          tenantId: `t${i % 13}`,
          actor: { id: `u${(chunk * 1000 + i) % 977}` },
        })),
      );
    }
    const pageSize = database.pragma('page_size', { simple: true }) as number;
    expect(pageSize).toBe(1024);
    const walPages = () => statSync(`${filename}-wal`).size / (pageSize + 24);
    expect(walPages()).toBeLessThan(5000);
    // A writer that records one event as each delete batch ends, the way a steady writer's events
    // land between a job's batches.
    const deleteRows = store.delete.bind(store);
    const written: Promise<unknown>[] = [];
    store.delete = async (query) => {
      const deleted = await deleteRows(query);
      written.push(log.record({ type: 'app.live', message: `live ${written.length}` }));
      return deleted;
    };
    const job = await log.jobs.prune({ before: NOW - 86_400_000 + 36_000, batchSize: 500 });
    await Promise.all(written);
    expect(job.status).toBe('succeeded');
    expect(job.processed).toBe(36_000);
    expect(written).toHaveLength(73);
    // 72 batches; the store's own connection checkpoints at 20,000 pages.
    expect(walPages()).toBeLessThan(12_000);
    await log.close();
    await store.close();
    database.close();
  });

  it('reads columns that a later migration added through the same store', async () => {
    const database = new Database(':memory:');
    const store = createSqliteStore({ database });
    const before = createEventLog({ store, closeStore: false });
    await before.record({ type: 'a' });
    expect((await before.query({})).items).toHaveLength(1); // the read statement is now cached
    const after = createEventLog({ store, closeStore: false, dimensions: [{ name: 'region' }] });
    await after.record({ type: 'b', dimensions: { region: 'eu' } });
    const { items } = await after.query({}); // the same SQL text as before the migration
    expect(items.map((e) => [e.type, e.dimensions.region])).toEqual([
      ['b', 'eu'],
      ['a', null],
    ]);
    await store.close();
    database.close();
  });

  it('returns rows as plain objects with every column', async () => {
    const store = createSqliteStore();
    const log = createEventLog({ store, presets: [conformancePreset] });
    await log.record({ type: 'auth.login', tenantId: 't', dimensions: { channel: 3 } });
    const [row] = await store.find({ where: [], orderBy: { column: 'time', direction: 'desc' }, limit: 1 });
    expect(Object.getPrototypeOf(row)).toBe(Object.prototype);
    expect(row).toMatchObject({ type: 'auth.login', tenant_id: 't', channel: 3, model_name: null });
    expect(Object.keys(row ?? {})).toEqual(store.columns.includes('id') ? store.columns : ['id', ...store.columns]);
    await log.close();
  });

  it('answers tenant pages, keyset pages and dimension filters from composite indexes', async () => {
    const database = new Database(':memory:');
    const log = createEventLog({ store: createSqliteStore({ database }), presets: [conformancePreset], clock: () => NOW });
    await log.ready();
    const plan = (sql: string) =>
      database
        .prepare(`explain query plan ${sql}`)
        .all()
        .map((r) => (r as { detail: string }).detail)
        .join(' | ');
    expect(plan("select * from eventlog_events where tenant_id = 't' and time >= 0 order by time desc, id desc limit 20")).toContain(
      'USING INDEX eventlog_ix_tenant_time',
    );
    expect(plan('select * from eventlog_events where time <= 5 and (time < 5 or id < 3) order by time desc, id desc limit 20')).toMatch(
      /USING INDEX eventlog_ix_time/,
    );
    expect(plan("select * from eventlog_events where model_name = 'gpt-4' order by time desc, id desc limit 20")).toContain(
      'USING INDEX eventlog_ix_dim_model_name',
    );
    await log.close();
    database.close();
  });

  it('keeps logs with different table prefixes apart in one database', async () => {
    const database = new Database(':memory:');
    const a = createEventLog({ store: createSqliteStore({ database, tablePrefix: 'app_a_' }) });
    const b = createEventLog({ store: createSqliteStore({ database, tablePrefix: 'app_b_' }) });
    await a.record({ type: 'x' });
    await b.recordMany([{ type: 'y' }, { type: 'z' }]);
    expect(await a.count()).toBe(1);
    expect(await b.count()).toBe(2);
    await Promise.all([a.close(), b.close()]);
    database.close();
    expect(() => createSqliteStore({ tablePrefix: 'bad-prefix' })).toThrow(/tablePrefix/);
  });

  it('excludes a second process from the retention lock until the lease expires', async () => {
    const filename = join(dir, 'lock.db');
    const one = createSqliteStore({ filename });
    const two = createSqliteStore({ filename });
    const log = createEventLog({ store: one, closeStore: false });
    await log.ready();
    await createEventLog({ store: two, closeStore: false }).ready();
    const release = await one.tryLock('retention', 60_000);
    expect(release).not.toBeNull();
    expect(await two.tryLock('retention', 60_000)).toBeNull();
    // The holder died long ago: its lease has run out.
    const database = new Database(filename);
    database.prepare('update eventlog_locks set expires_at = 0').run();
    database.close();
    const taken = await two.tryLock('retention', 60_000);
    expect(taken).not.toBeNull();
    await release?.(); // releasing a lease that was taken over must not free the new holder's lock
    expect(await one.tryLock('retention', 60_000)).toBeNull();
    await taken?.();
    await Promise.all([one.close(), two.close()]);
  });
});

describe('sqlite migrations across processes', () => {
  it('four processes opening a fresh file at once all migrate it and store their first event', async () => {
    const child = fileURLToPath(new URL('./sqlite-store.child.ts', import.meta.url));
    const processes = Array.from({ length: 4 }, () =>
      spawn(process.execPath, ['--import', 'tsx', child], {
        cwd: dirname(child),
        stdio: ['pipe', 'pipe', 'inherit'],
        // The workspace tsconfig maps @eventlog/* to source, so the child needs no build.
        env: { ...process.env, TSX_TSCONFIG_PATH: fileURLToPath(new URL('../../../../tsconfig.json', import.meta.url)) },
      }),
    );
    const replies = processes.map((p) => createInterface({ input: p.stdout })[Symbol.asyncIterator]());
    try {
      // Every child has loaded its modules before the first round, so each round starts together.
      expect(await Promise.all(replies.map(async (r) => String((await r.next()).value)))).toEqual(processes.map(() => 'ready'));
      for (let round = 0; round < 12; round++) {
        const file = join(dir, `race-${round}.db`);
        for (const p of processes) p.stdin.write(`go ${file}\n`);
        const answers = await Promise.all(replies.map(async (r) => String((await r.next()).value)));
        expect(
          answers.filter((a) => !a.startsWith('ok ')),
          `round ${round}`,
        ).toEqual([]);
        const database = new Database(file, { readonly: true });
        expect(database.prepare('select count(*) as n from eventlog_events').get(), file).toEqual({ n: 4 });
        // Each versioned migration (1: events, sessions, locks; 2: rollup state; 3: chain checkpoints; 4: jobs) is recorded once.
        expect(database.prepare('select version from eventlog_migrations order by version').all()).toEqual([
          { version: 1 },
          { version: 2 },
          { version: 3 },
          { version: 4 },
        ]);
        database.close();
      }
    } finally {
      for (const p of processes) p.stdin.end();
      await Promise.all(processes.map((p) => (p.exitCode === null ? once(p, 'exit') : undefined)));
    }
  }, 120_000);
});

describe('sqlite chained appends with the checkpoint worker', () => {
  // A checkpoint running when a chained batch began made the store's insert await it inside the
  // chain's BEGIN IMMEDIATE transaction, and the append refused to commit (a permanent STORE_FAILED
  // in the middle of an ingest); the append now waits for the checkpoint before BEGIN.
  it('ingests batches of 1,000 chained events while checkpoints run, and the chains verify', async () => {
    const { generateKeyPairSync } = await import('node:crypto');
    const log = createEventLog({
      store: createSqliteStore({ filename: join(dir, 'chained-checkpoints.db') }),
      presets: [conformancePreset],
      clock: () => NOW,
      integrity: { chain: true, key: generateKeyPairSync('ed25519').privateKey, segment: { maxEvents: 1000, maxAgeMs: 3_600_000 } },
    });
    const errors: unknown[] = [];
    log.on('error', (error) => errors.push(error));
    try {
      for (let b = 0; b < 20; b++) {
        await log.recordMany(
          Array.from({ length: 1000 }, (_, i) => ({
            type: 'auth.login' as const,
            tenantId: `t${i % 4}`,
            message: `b${b} e${i}`,
            data: { reason: 'x'.repeat(200) },
          })),
        );
      }
      expect(errors).toEqual([]);
      await log.integrity.seal({ force: true });
      for (const tenantId of ['t0', 't1', 't2', 't3']) {
        const report = await log.verify({ tenantId });
        expect(report.ok).toBe(true);
        expect(report.rowsChecked).toBe(5000);
      }
    } finally {
      await log.close();
    }
  }, 120_000);
});
