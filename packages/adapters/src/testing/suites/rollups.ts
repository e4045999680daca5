import {
  createEventLog,
  definePreset,
  type EventInput,
  type EventLog,
  type EventRow,
  type FilterInput,
  type StorageAdapter,
} from '@eventlog/core';
import { describe, expect } from 'vitest';
import type { ConformanceHooks } from '../conformance.js';
import type { SuiteContext } from '../context.js';
import { recordWhileKilling } from '../faults.js';
import { conformancePreset, DAY, HOUR, MINUTE, NOW, seeded } from '../fixtures.js';
import { countRollupAnswers } from '../store-probes.js';

/** The seed of the randomized comparisons; set `EVENTLOG_ROLLUP_SEED` to replay a failure. */
const SEED = Number(process.env.EVENTLOG_ROLLUP_SEED ?? 20261207);

type Rng = () => number;
const pick = <T>(rng: Rng, values: readonly T[]): T => values[Math.floor(rng() * values.length)] as T;
const SPAN = 3 * DAY;
const START = NOW - SPAN;

const TENANTS = ['t-a', 't-b', 't-c', 'T-A'];
const TYPES = ['llm.consumption', 'auth.login', 'connection.open'] as const;
const OUTCOMES = ['success', 'failure', null];
const MODELS = ['gpt', 'claude', 'gemini', 'llama', 'Gpt', null];
const CHANNELS = [0, 1, 2, 3, null];
// Two spellings of one IPv6 address: the rollup key must keep them apart exactly as the raw rows do.
const IPS = ['10.0.0.1', '10.0.0.2', '10.0.0.77', '10.0.1.7', '2001:db8::1', '2001:DB8::1', null];
const HOSTS = ['example.com', 'api.example.com', 'Example.com', 'cdn.test', null];

/**
 * What the rollup tests add to the conformance preset: a marked `host` dimension and the envelope
 * field `ip` rolled up (as the HTTP-requests preset does), so conditions on and groupings by both
 * are compared too.
 */
const EXTRA = { dimensions: [{ name: 'host', indexed: true, rollup: true }], rollupFields: ['ip'] } as const;

/** A random event somewhere in the three days before NOW (ms precision, so edges cut buckets). */
function randomEvent(rng: Rng, time?: number): EventInput {
  const type = pick(rng, TYPES);
  const model = pick(rng, MODELS);
  const channel = pick(rng, CHANNELS);
  const outcome = pick(rng, OUTCOMES);
  const ip = pick(rng, IPS);
  const host = pick(rng, HOSTS);
  const dimensions: Record<string, string | number> = { token_name: pick(rng, ['k1', 'k2']) };
  if (model !== null) dimensions.model_name = model;
  if (channel !== null) dimensions.channel = channel;
  if (host !== null) dimensions.host = host;
  return {
    type,
    time: time ?? START + Math.floor(rng() * SPAN),
    tenantId: pick(rng, TENANTS),
    ...(outcome === null ? {} : { outcome }),
    ...(ip === null ? {} : { ip }),
    actor: { id: pick(rng, ['u1', 'u2', 'u3']) },
    message: pick(rng, ['ok', 'rate limit error', 'timeout']),
    dimensions,
    metrics: { quota: Math.floor(rng() * 1000), prompt_tokens: Math.floor(rng() * 50), amount: Math.floor(rng() * 400) / 8 },
    ...(type === 'connection.open' ? { data: {} } : {}),
  } as EventInput;
}

/** A random moment in the fill's span, often on a minute, hour or day boundary. */
function randomTime(rng: Rng): number {
  const t = START - HOUR + Math.floor(rng() * (SPAN + 2 * HOUR));
  const align = pick(rng, [1, 1, MINUTE, HOUR, DAY]);
  return Math.floor(t / align) * align;
}

/** A random filter: mostly what rollups answer, sometimes what they cannot (so the fallback is compared too). */
function randomFilter(rng: Rng): FilterInput {
  const filter: FilterInput = {};
  const dimensions: Record<string, string | number | (string | number)[]> = {};
  if (rng() < 0.4) filter.tenantId = rng() < 0.7 ? pick(rng, TENANTS) : [pick(rng, TENANTS), pick(rng, TENANTS)];
  if (rng() < 0.3) filter.type = pick(rng, TYPES);
  if (rng() < 0.2) filter.category = pick(rng, ['consumption', 'login']);
  if (rng() < 0.3) filter.outcome = pick(rng, ['success', 'failure']);
  // At most one marked column, chosen by one draw: model_name, channel, host, ip or none.
  const slot = rng();
  if (slot < 0.25) dimensions.model_name = pick(rng, ['gpt', 'claude', 'Gpt']);
  else if (slot < 0.4) dimensions.channel = rng() < 0.5 ? pick(rng, [0, 1, 2, 3]) : [1, 3];
  else if (slot < 0.55)
    dimensions.host = rng() < 0.6 ? pick(rng, HOSTS.slice(0, 4) as string[]) : ['example.com', 'Example.com', 'cdn.test'];
  else if (slot < 0.7) filter.ip = rng() < 0.6 ? pick(rng, IPS.slice(0, 6) as string[]) : ['10.0.0.1', '2001:db8::1', '10.0.1.7'];
  // Now and then a second marked column, which only raw rows can answer.
  if (rng() < 0.05) filter.ip = '10.0.0.2';
  if (rng() < 0.05) dimensions.token_name = 'k1';
  if (rng() < 0.05) filter.search = 'error';
  if (rng() < 0.05) filter.actorId = 'u2';
  if (Object.keys(dimensions).length) filter.dimensions = dimensions;
  if (rng() < 0.8) filter.since = randomTime(rng);
  if (rng() < 0.6) filter.until = randomTime(rng);
  return filter;
}

/** Compares a log reading rollups with one reading raw rows over `iterations` random questions. */
async function compareAnswers(rolled: EventLog, raw: EventLog, rng: Rng, iterations: number, label: string): Promise<void> {
  for (let i = 0; i < iterations; i++) {
    const filter = randomFilter(rng);
    const kind = pick(rng, ['stats', 'count', 'timeline', 'top', 'top', 'countBy'] as const);
    const where = `${label}, seed ${SEED}, question ${i} (${kind} ${JSON.stringify(filter)})`;
    if (kind === 'stats') {
      const [a, b] = await Promise.all([rolled.stats(filter), raw.stats(filter)]);
      expect(a.count, where).toBe(b.count);
      expect(a.sums.quota, where).toBe(b.sums.quota);
      expect(a.sums.prompt_tokens, where).toBe(b.sums.prompt_tokens);
      expect(a.sums.amount, where).toBeCloseTo(b.sums.amount ?? 0, 6);
    } else if (kind === 'count') {
      expect(await rolled.count(filter), where).toBe(await raw.count(filter));
    } else if (kind === 'timeline') {
      const bucket = pick(rng, ['hour', 'day', 'minute'] as const);
      const timeZone = pick(rng, ['UTC', 'Europe/Berlin', 'Asia/Kolkata']);
      const since = filter.since === undefined ? undefined : Number(filter.since);
      const windowed: FilterInput =
        bucket === 'minute' ? { ...filter, since: since ?? NOW - 2 * HOUR, until: (since ?? NOW - 2 * HOUR) + 3 * HOUR + 7_777 } : filter;
      const input = { filter: windowed, bucket, timeZone, metrics: ['quota', 'amount'] };
      const [a, b] = await Promise.all([rolled.timeline(input), raw.timeline(input)]);
      const shape = (t: typeof a) => t.points.map((p) => [p.start, p.count, p.sums.quota]);
      expect(shape(a), where).toEqual(shape(b));
      a.points.forEach((p, j) => {
        expect(p.sums.amount, where).toBeCloseTo(b.points[j]?.sums.amount ?? 0, 6);
      });
    } else if (kind === 'countBy') {
      const by = pick(rng, ['outcome', 'tenantId', 'type', 'host', 'model_name']);
      const [a, b] = await Promise.all([rolled.countBy({ by, filter }), raw.countBy({ by, filter })]);
      expect(a, `${where} by ${by}`).toEqual(b);
    } else {
      const by = pick(rng, ['model_name', 'channel', 'tenantId', 'type', 'outcome', 'token_name', 'ip', 'ip', 'host']);
      const input = { by, filter, limit: 1 + Math.floor(rng() * 6), orderBy: pick(rng, ['count', 'quota']) };
      // A masked view merges the top addresses after the read (view.ts): it must match too.
      const masked = by === 'ip' && rng() < 0.3;
      const [a, b] = masked
        ? await Promise.all([rolled.view({ maskIp: true }).top(input), raw.view({ maskIp: true }).top(input)])
        : await Promise.all([rolled.top(input), raw.top(input)]);
      const shape = (t: typeof a) => t.map((e) => [e.value, e.count, e.sums.quota, e.sums.prompt_tokens]);
      expect(shape(a), `${where} by ${by}${masked ? ' masked' : ''}`).toEqual(shape(b));
    }
  }
}

/**
 * Rollup exactness: every answer the planner takes from rollups equals the same question over raw
 * rows, after random fills, concurrent writers, failed batches, prunes, deletes and backfills.
 */
export function rollupsSuite(ctx: SuiteContext, hooks: ConformanceHooks): void {
  const { test } = ctx;
  /** The fixture with rollups on (they are opt-in). */
  const setup: typeof ctx.setup = (logOptions = {}) => ctx.setup({ rollups: true, ...EXTRA, ...logOptions });

  /** A second log on the fixture's store that never reads rollups. */
  const rawLog = (store: StorageAdapter, clockNow: () => number) => {
    const log = createEventLog({ store, presets: [conformancePreset], ...EXTRA, clock: clockNow, rollups: false, closeStore: false });
    ctx.track(log);
    return log;
  };

  const fillRandom = async (log: EventLog, rng: Rng, n: number) => {
    for (let done = 0; done < n; ) {
      const size = Math.min(n - done, 1 + Math.floor(rng() * 400));
      await log.recordMany(Array.from({ length: size }, () => randomEvent(rng)));
      done += size;
    }
  };

  describe('rollups', () => {
    test('rollup answers equal raw answers over thousands of random filters and ranges', async () => {
      const { log, store, clock } = await setup();
      const counter = countRollupAnswers(store);
      const rng = seeded(SEED);
      await fillRandom(log, rng, 3000);
      // Without rollups both logs read raw rows: fewer questions then, only the planner's fallback is compared.
      const questions = store.aggregateRollups ? 1500 : 200;
      await compareAnswers(
        log,
        rawLog(store, () => clock.now),
        rng,
        questions,
        'after a random fill',
      );
      if (store.aggregateRollups) expect(counter.answered, 'answers taken from rollups').toBeGreaterThan(500);
    }, 300_000);

    test('top by ip or host, and reads naming ip or host values, are answered from rollups', async () => {
      const { log, store, clock } = await setup();
      const raw = rawLog(store, () => clock.now);
      await fillRandom(log, seeded(SEED + 4), 600);
      const counter = countRollupAnswers(store);
      const week = { since: NOW - 7 * DAY + 12_345, until: NOW };
      const same = async <R>(label: string, read: (l: EventLog) => Promise<R>) => expect(await read(log), label).toEqual(await read(raw));
      await same('top by ip', (l) => l.top({ by: 'ip', filter: week, limit: 5 }));
      await same('top by host', (l) => l.top({ by: 'host', filter: week, limit: 5 }));
      await same('masked top by ip', (l) => l.view({ maskIp: true }).top({ by: 'ip', filter: week, limit: 5 }));
      await same('stats of one ip', (l) => l.stats({ ...week, ip: '10.0.0.1' }));
      await same('count of two hosts', (l) => l.count({ ...week, dimensions: { host: ['cdn.test', 'Example.com'] } }));
      await same('countBy outcome of ips', (l) => l.countBy({ by: 'outcome', filter: { ...week, ip: ['10.0.0.1', '2001:DB8::1'] } }));
      expect(counter.answered, 'reads answered from rollups').toBe(store.aggregateRollups ? 6 : 0);
      // What the tables cannot answer exactly stays raw: ip and host together, and countBy by host
      // (its null group is the events without a host, which the host table does not hold).
      await same('stats of an ip and a host', (l) => l.stats({ ...week, ip: '10.0.0.1', dimensions: { host: 'cdn.test' } }));
      await same('countBy host', (l) => l.countBy({ by: 'host', filter: week }));
      expect(counter.answered, 'reads answered from rollups').toBe(store.aggregateRollups ? 6 : 0);
    }, 120_000);

    test('deep offset pages found through rollup counts are the pages raw paging returns', async () => {
      const { log, store, clock } = await setup();
      const raw: EventLog = rawLog(store, () => clock.now);
      const rng = seeded(SEED + 5);
      await fillRandom(log, rng, 3000);
      const counter = countRollupAnswers(store);
      // Deep means from row 1,000 on (core/src/pagination/seek.ts): filters that keep more rows than that.
      const filters: FilterInput[] = [
        {},
        { outcome: ['success', 'failure'] },
        { since: START + 7 * HOUR + 1234, until: NOW - 5 * HOUR - 77 },
      ];
      for (let i = 0; i < 40 && filters.length < 12; i++) {
        const filter = randomFilter(rng);
        if ((await raw.count(filter)) > 1100) filters.push(filter);
      }
      let pages = 0;
      for (const filter of filters) {
        const total = await raw.count(filter);
        for (let j = 0; j < 6; j++) {
          const direction = pick(rng, ['desc', 'asc'] as const);
          const offset = 1000 + Math.floor(rng() * (total - 990));
          const input = { filter, sort: { field: 'time', direction }, offset, limit: 12 } as const;
          const [a, b] = await Promise.all([log.query(input), raw.query(input)]);
          const where = `seed ${SEED + 5}, ${JSON.stringify(input)}`;
          expect(
            a.items.map((e) => e.id),
            where,
          ).toEqual(b.items.map((e) => e.id));
          pages += 1;
        }
      }
      expect(pages).toBeGreaterThanOrEqual(18);
      // The day and hour counts of each deep page came from rollups (the totals too).
      if (store.aggregateRollups) expect(counter.answered, 'reads answered from rollups').toBeGreaterThan(2 * pages);
    }, 300_000);

    test('rollups stay exact after a failed batch, prune and delete', async () => {
      const { log, store, clock } = await setup();
      const rng = seeded(SEED + 1);
      await fillRandom(log, rng, 800);
      // A batch whose last row breaks a NOT NULL constraint: none of it, rollups included, may stay.
      const good = Array.from({ length: 20 }, () => randomEvent(rng));
      if (store.capabilities.atomicInsert) {
        const rows: EventRow[] = good.map((e, i) => ({
          time: NOW - i,
          type: e.type,
          tenant_id: e.tenantId ?? null,
          model_name: 'gpt',
          channel: 1,
          quota: 5,
        }));
        rows.push({ time: NOW, type: null, model_name: 'gpt', quota: 7 });
        const before = await log.stats({ dimensions: { model_name: 'gpt' } });
        await expect(store.insert(rows)).rejects.toBeDefined();
        expect(await log.stats({ dimensions: { model_name: 'gpt' } })).toEqual(before);
      }
      await log.recordMany(good);
      await log.prune({ before: START + DAY + 1234 });
      await store.delete({ where: [{ op: 'in', column: 'tenant_id', values: ['t-b'] }], limit: 50 });
      await store.delete({ where: [{ op: 'in', column: 'model_name', values: ['gpt'] }], limit: 1_000_000 });
      await store.delete({ where: [{ op: 'in', column: 'ip', values: ['10.0.0.2'] }], limit: 1_000_000 });
      const raw = rawLog(store, () => clock.now);
      expect((await log.stats()).count).toBe((await raw.stats()).count);
      await compareAnswers(log, raw, rng, 400, 'after a failed batch, prune and deletes');
    }, 300_000);

    test('a rebuild and a backfill of a dimension marked after the events were stored give exact rollups', async () => {
      const store = await ctx.freshStore();
      const clock = { now: NOW };
      const rng = seeded(SEED + 2);
      const unmarked = definePreset({
        name: 'conformance',
        types: conformancePreset.types,
        dimensions: conformancePreset.dimensions.map((d) => ({ ...d, rollup: false })),
        metrics: conformancePreset.metrics,
      });
      // The events are stored by a log whose preset marks nothing: no dimension (or `ip`) table exists yet.
      const before = createEventLog({
        store,
        presets: [unmarked],
        dimensions: [{ name: 'host', indexed: true }],
        clock: () => clock.now,
        closeStore: false,
      });
      ctx.track(before);
      await fillRandom(before, rng, 1500);
      const progress: { table: string; done: number; total: number }[] = [];
      const after = createEventLog({
        store,
        presets: [conformancePreset],
        ...EXTRA,
        clock: () => clock.now,
        closeStore: false,
        rollups: true,
      });
      ctx.track(after);
      const log = after;
      after.on('rollups', (p) => progress.push(p));
      const counter = countRollupAnswers(store);
      await after.ready();
      const raw = rawLog(store, () => clock.now);
      // The backfilled `ip` table: every address's count and sums, whole days only, equal to the raw rows'.
      const days = { since: START - (START % DAY) + DAY, until: NOW - (NOW % DAY) };
      for (const filter of [{}, days]) {
        const all = { by: 'ip' as const, filter, limit: IPS.length };
        expect(await after.top(all), `ip table after a backfill ${JSON.stringify(filter)}`).toEqual(await raw.top(all));
      }
      expect(counter.answered, 'top by ip answered from the backfilled table').toBe(store.aggregateRollups ? 2 : 0);
      await compareAnswers(after, raw, rng, 300, 'after a backfill');
      if (store.aggregateRollups) {
        expect(progress.length, 'backfill progress reports').toBeGreaterThan(0);
        expect(progress.at(-1)?.done).toBe(progress.at(-1)?.total);
        expect(new Set(progress.map((p) => p.table))).toEqual(new Set(['base', 'model_name', 'channel', 'host', 'ip']));
        const rebuilt: string[] = [];
        await log.rebuildRollups({ onProgress: (p) => rebuilt.push(p.table) });
        expect(new Set(rebuilt)).toEqual(new Set(['base', 'model_name', 'channel', 'host', 'ip']));
        await compareAnswers(log, raw, rng, 300, 'after a rebuild');
      } else {
        await expect(log.rebuildRollups()).rejects.toMatchObject({ code: 'UNSUPPORTED' });
      }
    }, 300_000);

    if (hooks.openSecondStore) {
      test('rollups stay exact with two stores writing and deleting the same tables at once', async () => {
        const { log, store, clock } = await setup();
        const other = await hooks.openSecondStore!(store);
        ctx.track(other);
        const second: EventLog = createEventLog({
          store: other,
          presets: [conformancePreset],
          ...EXTRA,
          clock: () => clock.now,
          rollups: true,
        });
        ctx.track(second);
        const rng = seeded(SEED + 3);
        // The same buckets from both sides, so their upserts collide on the same rollup rows.
        const batch = () => Array.from({ length: 150 }, () => randomEvent(rng, NOW - Math.floor(rng() * 10 * MINUTE)));
        await Promise.all([
          ...Array.from({ length: 8 }, () => log.recordMany(batch())),
          ...Array.from({ length: 8 }, () => second.recordMany(batch())),
          second.prune({ before: NOW - 5 * MINUTE }),
        ]);
        await compareAnswers(
          log,
          rawLog(store, () => clock.now),
          rng,
          300,
          'after concurrent writers',
        );
      }, 300_000);
    }

    if (hooks.killConnections) {
      test('rollups stay exact when inserts are retried after connections are killed mid-ingest', async () => {
        const { log, store, clock } = await setup({ buffer: { maxBatchSize: 200, retries: 10, retryDelayMs: 10, maxRetryDelayMs: 200 } });
        // Kills every 20 ms: the rollup upserts make each insert longer, and at 60 ms an idle machine
        // sometimes finished the whole ingest between kills, leaving nothing retried to check.
        const report = await recordWhileKilling(log, store, () => hooks.killConnections!(store), 20);
        expect(report.failedInserts).toBeGreaterThan(0);
        const raw = rawLog(store, () => clock.now);
        expect((await log.stats()).count).toBe((await raw.stats()).count);
        expect(await log.top({ by: 'model_name', limit: 10 })).toEqual(await raw.top({ by: 'model_name', limit: 10 }));
        expect(await log.timeline({ bucket: 'hour' })).toEqual(await raw.timeline({ bucket: 'hour' }));
      }, 180_000);
    }
  });
}
