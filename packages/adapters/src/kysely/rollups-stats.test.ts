/**
 * Planner statistics of the rollup tables on PostgreSQL, kept by the store without a manual
 * ANALYZE: after a bulk load, a large delete and a backfill, the planner's estimate of a rollup
 * read (all hour rows of a table) is close to the rows it returns. Without statistics the planner
 * takes a table it has never analyzed at a guessed size and any `_grain = …` condition at a
 * default selectivity of 0.5 %, so its estimate is off by two orders of magnitude.
 */
import { randomBytes } from 'node:crypto';
import { createEventLog, definePreset, type EventInput, type EventLog } from '@eventlog/core';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createPostgresStore } from '../postgres/postgres-store.js';
import { conformancePreset, DAY, HOUR, NOW, seeded } from '../testing/fixtures.js';
import { requireServer } from '../testing/servers.js';

const url = await requireServer('postgres');

/** Events over the 20 days before NOW, a new model every few events (many rollup rows). */
function events(count: number, seed: number): EventInput<'llm.consumption'>[] {
  const rng = seeded(seed);
  return Array.from({ length: count }, () => ({
    type: 'llm.consumption',
    time: NOW - Math.floor(rng() * 20 * DAY),
    tenantId: `t${Math.floor(rng() * 5)}`,
    dimensions: { model_name: `m${Math.floor(rng() * 40)}`, channel: Math.floor(rng() * 4) },
    metrics: { quota: Math.floor(rng() * 100) },
  }));
}

if (url) {
  describe('postgres rollup tables: statistics without a manual ANALYZE', () => {
    const schema = `elr_${randomBytes(4).toString('hex')}`;
    const pool = new pg.Pool({ connectionString: url, max: 4 });
    pool.on('error', () => undefined);
    const logs: EventLog[] = [];
    const table = (bare: string) => `"${schema}"."${bare}"`;

    afterAll(async () => {
      for (const log of logs) await log.close();
      await pool.query(`drop schema if exists "${schema}" cascade`);
      await pool.end();
    });

    /** The planner's estimate and the actual row count of a read of every hour row of `bare`. */
    const estimate = async (bare: string) => {
      const sql = `select * from ${table(bare)} where _grain = ${HOUR}`;
      const plan = (await pool.query(`explain (format json) ${sql}`)).rows[0]['QUERY PLAN'][0].Plan as { 'Plan Rows': number };
      const actual = Number((await pool.query(`select count(*) as n from (${sql}) q`)).rows[0].n);
      return { planned: plan['Plan Rows'], actual };
    };

    /** Waits (the store analyzes in the background, a second after the writes) until the estimate is within 2× of the rows. */
    const expectStatistics = async (bare: string, waitMs: number) => {
      const deadline = Date.now() + waitMs;
      let last = await estimate(bare);
      while (Date.now() < deadline && !(last.planned * 2 >= last.actual && last.planned <= last.actual * 2)) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        last = await estimate(bare);
      }
      expect(last.actual, bare).toBeGreaterThan(200);
      expect(last.planned * 2, `${bare}: planned ${last.planned} rows, actual ${last.actual}`).toBeGreaterThanOrEqual(last.actual);
      expect(last.planned, `${bare}: planned ${last.planned} rows, actual ${last.actual}`).toBeLessThanOrEqual(last.actual * 2);
    };

    const disableAutovacuum = async (bare: string) => {
      // The test server runs without autovacuum; this keeps the test meaningful on one that has it.
      await pool.query(`alter table ${table(bare)} set (autovacuum_enabled = false)`);
    };

    it('after a bulk load and after a large delete', async () => {
      const store = createPostgresStore({ pool, schema });
      const log = createEventLog({ store, presets: [conformancePreset], clock: () => NOW, rollups: true, closeStore: false });
      logs.push(log);
      await log.ready();
      for (const bare of ['eventlog_rollups', 'eventlog_rollups_model_name']) await disableAutovacuum(bare);
      const all = events(12_000, 1);
      for (let i = 0; i < all.length; i += 3000) await log.recordMany(all.slice(i, i + 3000));
      await expectStatistics('eventlog_rollups', 20_000);
      await expectStatistics('eventlog_rollups_model_name', 20_000);
      // Retention removes most of it: the emptied buckets go with the events, and the planner learns it.
      await log.prune({ before: NOW - 5 * DAY });
      await expectStatistics('eventlog_rollups_model_name', 20_000);
    }, 120_000);

    it('after a backfill of a newly marked dimension, before migrate() returns', async () => {
      const prefix = 'bf_';
      const unmarked = definePreset({
        name: 'conformance',
        types: conformancePreset.types,
        dimensions: conformancePreset.dimensions.map((d) => ({ ...d, rollup: false })),
        metrics: conformancePreset.metrics,
      });
      const before = createEventLog({
        store: createPostgresStore({ pool, schema, tablePrefix: prefix }),
        presets: [unmarked],
        clock: () => NOW,
      });
      logs.push(before);
      await before.recordMany(events(6000, 2));
      const after = createEventLog({
        store: createPostgresStore({ pool, schema, tablePrefix: prefix }),
        presets: [conformancePreset],
        clock: () => NOW,
        rollups: true,
      });
      logs.push(after);
      await after.ready();
      // No wait: the backfill analyzed the tables it wrote.
      await expectStatistics(`${prefix}rollups_model_name`, 0);
      await expectStatistics(`${prefix}rollups_channel`, 0);
    }, 120_000);
  });
}
