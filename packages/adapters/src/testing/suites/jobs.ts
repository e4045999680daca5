import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import type { EventLog, JobInfo, StoredEvent } from '@eventlog/core';
import { describe, expect } from 'vitest';
import type { ConformanceHooks } from '../conformance.js';
import type { SuiteContext } from '../context.js';
import { DAY, MINUTE, NOW } from '../fixtures.js';

/** Reads a (possibly multi-member) gzip JSONL archive as events. */
export function readJsonlArchive(file: string, gzipped = true): StoredEvent[] {
  const raw = readFileSync(file);
  const text = (gzipped ? gunzipSync(raw) : raw).toString('utf8');
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as StoredEvent);
}

/** SHA-256 of a file, hex. */
export function sha256Of(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/** Retention policies and jobs through the core API: selection, job state, dry runs, cancel, locks, archives. */
export function jobsSuite(ctx: SuiteContext, hooks: Pick<ConformanceHooks, 'childStore'>): void {
  const { test, setup, usage } = ctx;
  const old = (i: number, overrides = {}) => usage(i, { time: NOW - 2 * DAY - i * MINUTE, ...overrides });
  const fresh = (i: number, overrides = {}) => usage(i, { time: NOW - i * MINUTE, ...overrides });
  const ids = async (log: EventLog) => (await log.query({ pageSize: 1000 })).items.map((e) => e.id).sort((a, b) => a - b);

  describe('retention jobs', () => {
    test('policies: the first matching policy owns an event, and the default leaves named policies alone', async () => {
      const { log } = await setup({
        retention: {
          policies: [
            { name: 'streams', match: { category: 'stream' }, maxAgeDays: 30 },
            { name: 'tenant-1', match: { tenantId: 'tenant-1' }, maxAgeDays: 1 },
          ],
          maxAgeDays: 1,
          pauseMs: 0,
        },
      });
      const stream = (i: number, time: number) => ({
        type: 'stream.state',
        time,
        tenantId: 'tenant-1',
        data: { bitrate: `${i}k`, resolution: '720p' },
      });
      await log.recordMany([
        ...Array.from({ length: 9 }, (_, i) => old(i)),
        stream(1, NOW - 2 * DAY),
        stream(2, NOW - 40 * DAY),
        ...Array.from({ length: 3 }, (_, i) => fresh(i)),
      ]);
      // tenant-1's own policy runs first: its old consumption events go, its recent stream event stays (streams matched first).
      const t1 = await log.jobs.runPolicy('tenant-1');
      expect(t1).toMatchObject({ name: 'tenant-1', status: 'succeeded', total: 3, processed: 3, remaining: 0 });
      expect(await log.count({ type: 'stream.state' })).toBe(2);
      const byDefault = await log.jobs.runPolicy('default');
      expect(byDefault).toMatchObject({ name: 'default', status: 'succeeded', processed: 6 });
      expect(await log.count({ type: 'stream.state' })).toBe(2);
      const streams = await log.jobs.runPolicy('streams');
      expect(streams).toMatchObject({ processed: 1 });
      expect((await log.query({ filter: { type: 'stream.state' } })).items.map((e) => e.data)).toEqual([
        { bitrate: '1k', resolution: '720p' },
      ]);
      expect(await log.count({ type: 'llm.consumption' })).toBe(3);
    });

    test('a predicate policy selects by tenant, type and category, NULL tenants included', async () => {
      const { log } = await setup({
        retention: {
          policies: [{ name: 'no-tenant-logins', match: (s) => s.tenantId === null && s.category === 'login', maxAgeDays: 1 }],
          pauseMs: 0,
        },
      });
      await log.recordMany([
        { type: 'auth.login', time: NOW - 2 * DAY },
        { type: 'auth.login', time: NOW - 3 * DAY },
        { type: 'auth.login', time: NOW - 2 * DAY, tenantId: 't' },
        { type: 'auth.login', time: NOW - 1000 },
        old(1, { tenantId: undefined }),
      ]);
      const job = await log.jobs.runPolicy('no-tenant-logins');
      expect(job).toMatchObject({ status: 'succeeded', total: 2, processed: 2 });
      expect(await log.count()).toBe(3);
      expect(await log.count({ type: 'auth.login' })).toBe(2);
    });

    test('a dry run counts exactly what the real run deletes, and deletes nothing', async () => {
      const { log } = await setup({
        retention: { policies: [{ name: 'logins', match: { type: 'auth.login' }, maxAgeDays: 400 }], maxAgeDays: 1, pauseMs: 0 },
      });
      await log.recordMany([
        ...Array.from({ length: 23 }, (_, i) => old(i)),
        { type: 'auth.login', time: NOW - 5 * DAY },
        ...Array.from({ length: 4 }, (_, i) => fresh(i)),
      ]);
      const before = await ids(log);
      const dry = await log.jobs.runPolicy('default', { dryRun: true });
      expect(dry).toMatchObject({ status: 'succeeded', dryRun: true, dryRunCount: 23, processed: 0 });
      expect(await ids(log)).toEqual(before);
      const real = await log.jobs.runPolicy('default');
      expect(real?.processed).toBe(dry?.dryRunCount);
      const adHoc = await log.jobs.prune({ before: NOW + 1, filter: { type: 'auth.login' }, dryRun: true });
      expect(adHoc).toMatchObject({ name: 'prune', dryRunCount: 1, processed: 0 });
      expect(await log.count()).toBe(5);
    });

    test('a job records total, processed, remaining, start and finish; the history lists it, newest first', async () => {
      const { log, clock } = await setup({ retention: { maxAgeDays: 1, batchSize: 4, pauseMs: 0 } });
      await log.recordMany([...Array.from({ length: 10 }, (_, i) => old(i)), fresh(1)]);
      const seen: number[] = [];
      log.on('pruned', (info) => seen.push(info.deleted));
      const first = (await log.jobs.runPolicy('default')) as JobInfo;
      expect(first).toMatchObject({
        kind: 'delete',
        status: 'succeeded',
        total: 10,
        processed: 10,
        remaining: 0,
        error: null,
        dryRun: false,
      });
      expect(first.before).toBe(NOW - DAY);
      expect(first.startedAt).toBe(NOW);
      expect(first.finishedAt).toBe(NOW);
      expect(seen).toEqual([10]);
      clock.now = NOW + 1000;
      const second = await log.prune({ before: NOW + 1, batchSize: 1, pauseMs: 0 });
      expect(second).toBe(1);
      const history = await log.jobs.list();
      expect(history.map((j) => [j.name, j.processed])).toEqual([
        ['prune', 1],
        ['default', 10],
      ]);
      expect(await log.jobs.get(first.id)).toEqual(first);
      expect(await log.jobs.list({ name: 'default', status: 'succeeded' })).toHaveLength(1);
      expect(await log.jobs.list({ status: ['failed', 'running'] })).toEqual([]);
      expect(await log.jobs.list({ limit: 1, offset: 1 })).toEqual([first]);
      expect(await log.jobs.get('no-such-job')).toBeNull();
      await expect(log.jobs.runPolicy('nope')).rejects.toMatchObject({ code: 'NOT_FOUND' });
      await expect(log.jobs.list({ limit: 0 })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    });

    test('an expireData policy drops data after its age and keeps counts, metrics and dimensions', async () => {
      const { log, store } = await setup({
        retention: {
          policies: [{ name: 'payloads', match: { type: 'llm.consumption' }, maxAgeDays: 1, action: 'expireData' }],
          pauseMs: 0,
        },
      });
      if (!store.redactData) {
        await expect(log.jobs.runPolicy('payloads')).rejects.toMatchObject({ code: 'UNSUPPORTED' });
        return;
      }
      await log.recordMany([
        old(1, { data: { other: { secret: 1 } } }),
        old(2, { data: { other: { secret: 2 } } }),
        fresh(3, { data: { other: { keep: 1 } } }),
      ]);
      const statsBefore = await log.stats();
      const job = await log.jobs.runPolicy('payloads');
      expect(job).toMatchObject({ kind: 'expireData', status: 'succeeded', processed: 2 });
      const events = (await log.query({ sort: { field: 'time', direction: 'asc' } })).items;
      expect(events.map((e) => e.data)).toEqual([undefined, undefined, { other: { keep: 1 } }]);
      expect(await log.stats()).toEqual(statsBefore);
      expect(events[0]?.dimensions.model_name).toBe('model-2');
    });

    test('cancel stops a running job after its current batch and keeps the rest', async () => {
      const { log, store } = await setup({ retention: { maxAgeDays: 1, batchSize: 3, pauseMs: 0 } });
      await log.recordMany(Array.from({ length: 30 }, (_, i) => old(i)));
      const original = store.delete.bind(store);
      let calls = 0;
      let deleted = 0;
      let cancelled: Promise<JobInfo | null> | undefined;
      store.delete = async (query) => {
        if (++calls === 2) {
          const [running] = await log.jobs.list({ status: 'running' });
          cancelled = log.jobs.cancel(running?.id ?? 'missing');
          await cancelled;
        }
        const n = await original(query);
        deleted += n;
        return n;
      };
      const job = await log.jobs.runPolicy('default');
      store.delete = original;
      expect((await cancelled)?.cancelRequested).toBe(true);
      // Two batches ran: the one in flight when the cancel came, and none after it. (A store MAY
      // delete more than the limit per call, so the count is the store's own.)
      expect(calls).toBe(2);
      expect(job).toMatchObject({ status: 'cancelled', total: 30, processed: deleted, remaining: 30 - deleted, cancelRequested: true });
      expect(await log.count()).toBe(30 - deleted);
      expect((await log.jobs.get(job?.id ?? ''))?.status).toBe('cancelled');
      // A finished job is not cancelled again; the policy's next run starts a new job.
      expect((await log.jobs.cancel(job?.id ?? ''))?.status).toBe('cancelled');
      expect(await log.jobs.runPolicy('default')).toMatchObject({ status: 'succeeded', processed: 30 - deleted });
      expect(await log.count()).toBe(0);
    });

    test('one process runs a policy at a time: a held lease makes another run wait its turn', async () => {
      const { log, store } = await setup({ retention: { maxAgeDays: 1, pauseMs: 0 } });
      await log.recordMany([old(1), old(2)]);
      const held = await store.tryLock('policy:default', 60_000);
      expect(held).not.toBeNull();
      expect(await log.jobs.runPolicy('default')).toBeNull();
      expect(await log.count()).toBe(2);
      await held?.();
      expect(await log.jobs.runPolicy('default')).toMatchObject({ processed: 2 });
    });

    for (const format of ['jsonl', 'csv'] as const) {
      test(`export before delete (${format}, gzip): the archive holds every deleted row once, with its count and SHA-256`, async () => {
        const directory = mkdtempSync(join(tmpdir(), 'eventlog-archive-'));
        const { log } = await setup({
          retention: { default: { maxAgeDays: 1, archive: { directory, format } }, batchSize: 4, pauseMs: 0 },
        });
        await log.recordMany([...Array.from({ length: 11 }, (_, i) => old(i)), fresh(1)]);
        const expected = (await log.query({ filter: { until: NOW - DAY }, sort: { field: 'time', direction: 'asc' }, pageSize: 100 }))
          .items;
        const job = (await log.jobs.runPolicy('default')) as JobInfo;
        expect(job).toMatchObject({ status: 'succeeded', processed: 11 });
        expect(job.archive).toMatchObject({ format, gzip: true, rows: 11 });
        const file = job.archive?.file as string;
        expect(file.startsWith(directory)).toBe(true);
        expect(job.archive?.sha256).toBe(sha256Of(file));
        expect(job.archive?.bytes).toBe(readFileSync(file).length);
        if (format === 'jsonl') {
          expect(readJsonlArchive(file)).toEqual(expected);
        } else {
          const lines = gunzipSync(readFileSync(file)).toString('utf8').split('\r\n').filter(Boolean);
          expect(lines[0]?.startsWith('id,time,')).toBe(true);
          expect(lines.slice(1).map((l) => Number(l.split(',')[0]))).toEqual(expected.map((e) => e.id));
        }
        expect(await log.count()).toBe(1);
      });
    }

    test('a failure between archive and delete: the next run deletes the archived rows without writing them again', async () => {
      const directory = mkdtempSync(join(tmpdir(), 'eventlog-archive-'));
      const { log, store } = await setup({ retention: { default: { maxAgeDays: 1, archive: { directory } }, batchSize: 5, pauseMs: 0 } });
      await log.recordMany(Array.from({ length: 17 }, (_, i) => old(i)));
      const expected = (await log.query({ sort: { field: 'time', direction: 'asc' }, pageSize: 100 })).items.map((e) => e.id);
      const original = store.delete.bind(store);
      let calls = 0;
      store.delete = async (query) => {
        if (++calls === 2) throw new Error('connection lost');
        return original(query);
      };
      await expect(log.jobs.runPolicy('default')).rejects.toThrow(/connection lost/);
      store.delete = original;
      const [failed] = await log.jobs.list();
      expect(failed).toMatchObject({ status: 'failed', processed: 5, archive: { rows: 10 } });
      expect(failed?.error).toMatch(/connection lost/);
      expect(await log.count()).toBe(12);
      const done = await log.jobs.runPolicy('default');
      expect(done).toMatchObject({ id: failed?.id, status: 'succeeded', processed: 17, error: null, archive: { rows: 17 } });
      expect(readJsonlArchive(done?.archive?.file as string).map((e) => e.id)).toEqual(expected);
      expect(done?.archive?.sha256).toBe(sha256Of(done?.archive?.file as string));
    });

    const { childStore } = hooks;
    if (childStore) {
      test('a job killed (SIGKILL) between archive and delete is resumed by another process: nothing lost, nothing archived twice', async () => {
        const directory = mkdtempSync(join(tmpdir(), 'eventlog-archive-'));
        const leaseMs = 1500;
        const { log, store } = await setup({ retention: { maxAgeDays: 1, leaseMs, pauseMs: 0 } });
        await log.recordMany([...Array.from({ length: 40 }, (_, i) => old(i)), fresh(1), fresh(2)]);
        const expected = (await log.query({ filter: { until: NOW - DAY }, sort: { field: 'time', direction: 'asc' }, pageSize: 100 }))
          .items;
        const script = fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? '../jobs-child.ts' : '../jobs-child.js', import.meta.url));
        const spec = { ...childStore(store), now: NOW, directory, leaseMs, batchSize: 7, stopAt: 3 };
        const child = spawn(process.execPath, [...(script.endsWith('.ts') ? ['--import', 'tsx'] : []), script, JSON.stringify(spec)], {
          cwd: dirname(script),
          stdio: ['ignore', 'pipe', 'inherit'],
          // In this repository the workspace tsconfig maps @eventlog/* to source, so the child needs no build.
          env: { ...process.env, TSX_TSCONFIG_PATH: fileURLToPath(new URL('../../../../../tsconfig.json', import.meta.url)) },
        });
        const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
        let line = '';
        for await (const text of createInterface({ input: child.stdout })) {
          line = text;
          break;
        }
        expect(line).toMatch(/^archived [0-9a-f]{12}-[0-9a-f]{4}-[0-9a-f-]{36}$/);
        child.kill('SIGKILL');
        expect(await exited).toBe('SIGKILL');
        const id = line.split(' ')[1] as string;
        const left = await log.jobs.get(id);
        // Two batches deleted, the third archived and recorded but not deleted.
        expect(left).toMatchObject({ status: 'running', processed: 14, total: 40, archive: { rows: 21 } });
        expect(await log.count()).toBe(42 - 14);

        let resumed: JobInfo[] = [];
        // The dead child's lease runs out after leaseMs (a server-held lock goes with its connection at once).
        for (let i = 0; i < 50 && resumed.length === 0; i++) {
          resumed = await log.jobs.resume();
          if (resumed.length === 0) await new Promise((resolve) => setTimeout(resolve, 200));
        }
        expect(resumed.map((j) => [j.id, j.status, j.processed])).toEqual([[id, 'succeeded', 40]]);
        const file = resumed[0]?.archive?.file as string;
        expect(readJsonlArchive(file)).toEqual(expected);
        expect(resumed[0]?.archive).toMatchObject({ rows: 40, sha256: sha256Of(file) });
        expect(await log.count()).toBe(2);
      }, 30_000);
    }

    test('an archive can go to a stream the host provides', async () => {
      const chunks: Buffer[] = [];
      const { log } = await setup({ retention: { maxAgeDays: 1, pauseMs: 0, batchSize: 3 } });
      await log.recordMany(Array.from({ length: 7 }, (_, i) => old(i)));
      const job = await log.jobs.prune({
        before: NOW - DAY,
        archive: {
          gzip: false,
          stream: () => ({
            write: (chunk, done) => {
              chunks.push(Buffer.from(chunk));
              done();
              return true;
            },
          }),
        },
      });
      const bytes = Buffer.concat(chunks);
      expect(job.archive).toMatchObject({
        rows: 7,
        bytes: bytes.length,
        file: null,
        sha256: createHash('sha256').update(bytes).digest('hex'),
      });
      expect(bytes.toString('utf8').trim().split('\n')).toHaveLength(7);
      expect(await log.count()).toBe(0);
    });
  });
}
