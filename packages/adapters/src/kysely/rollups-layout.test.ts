/**
 * The rollup layout on SQLite: `countBy` answered from rollups equals the raw answer, and rows of
 * grains no table keeps any more (the base table's minute rows of earlier versions) are removed by
 * the next migration instead of lingering unread and uncorrected.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEventLog, type EventInput, type EventLog, type FilterInput } from '@eventlog/core';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { createSqliteStore } from '../sqlite/sqlite-store.js';
import { conformancePreset, DAY, HOUR, MINUTE, NOW, seeded } from '../testing/fixtures.js';
import { countRollupAnswers } from '../testing/store-probes.js';

type Rng = () => number;
const pick = <T>(rng: Rng, values: readonly T[]): T => values[Math.floor(rng() * values.length)] as T;
const START = NOW - 3 * DAY;

function randomEvent(rng: Rng): EventInput {
  const outcome = pick(rng, ['success', 'failure', null]);
  const model = pick(rng, ['gpt', 'claude', null]);
  const type = pick(rng, ['llm.consumption', 'auth.login'] as const);
  return {
    type,
    time: START + Math.floor(rng() * 3 * DAY),
    tenantId: pick(rng, ['t-a', 't-b', 't-c']),
    ...(outcome === null ? {} : { outcome }),
    dimensions: { ...(model === null ? {} : { model_name: model }), channel: Math.floor(rng() * 3) },
    metrics: { quota: Math.floor(rng() * 100) },
  } as EventInput;
}

function randomFilter(rng: Rng): FilterInput {
  const filter: FilterInput = {};
  if (rng() < 0.4) filter.tenantId = pick(rng, ['t-a', 't-b', 't-c']);
  if (rng() < 0.3) filter.type = pick(rng, ['llm.consumption', 'auth.login']);
  if (rng() < 0.3) filter.outcome = pick(rng, ['success', 'failure']);
  if (rng() < 0.3) filter.dimensions = { model_name: pick(rng, ['gpt', 'claude']) };
  const align = pick(rng, [1, MINUTE, HOUR, DAY]);
  const at = () => Math.floor((START - HOUR + Math.floor(rng() * (3 * DAY + 2 * HOUR))) / align) * align;
  if (rng() < 0.8) filter.since = at();
  if (rng() < 0.6) filter.until = at();
  return filter;
}

const sorted = (entries: { value: unknown; count: number }[]) =>
  entries.map((e) => [e.value, e.count] as const).sort((a, b) => String(a[0]).localeCompare(String(b[0])) || a[1] - b[1]);

describe('sqlite rollup layout', () => {
  const dir = mkdtempSync(join(tmpdir(), 'eventlog-rollup-layout-'));
  const logs: EventLog[] = [];
  afterAll(async () => {
    for (const log of logs) await log.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const open = (file: string, rollups: boolean, closeStore = true) => {
    const store = createSqliteStore({ filename: file, tablePrefix: 'rl_' });
    const log: EventLog = createEventLog({ store, presets: [conformancePreset], clock: () => NOW, rollups, closeStore });
    logs.push(log);
    return { log, store };
  };

  it('answers countBy from rollups exactly as from raw rows', async () => {
    const file = join(dir, 'count-by.db');
    const { log, store } = open(file, true);
    const counter = countRollupAnswers(store);
    const raw: EventLog = createEventLog({ store, presets: [conformancePreset], clock: () => NOW, rollups: false, closeStore: false });
    logs.push(raw);
    const rng = seeded(14);
    for (let i = 0; i < 6; i++) await log.recordMany(Array.from({ length: 300 }, () => randomEvent(rng)));
    await log.prune({ before: START + 6 * HOUR + 17 });
    for (let i = 0; i < 300; i++) {
      const filter = randomFilter(rng);
      const by = pick(rng, ['outcome', 'type', 'tenantId', 'category']);
      const where = `question ${i}: countBy ${by} ${JSON.stringify(filter)}`;
      const [a, b] = await Promise.all([log.countBy({ by, filter }), raw.countBy({ by, filter })]);
      expect(sorted(a), where).toEqual(sorted(b));
      // Largest first, on both sides.
      expect(
        a.map((e) => e.count),
        where,
      ).toEqual([...a.map((e) => e.count)].sort((x, y) => y - x));
    }
    expect(counter.answered, 'countBy answers taken from rollups').toBeGreaterThan(200);
  }, 120_000);

  it('removes the rows of grains no table keeps at the next migration, and stays exact', async () => {
    const file = join(dir, 'legacy.db');
    const first = open(file, true);
    const rng = seeded(15);
    await first.log.recordMany(Array.from({ length: 400 }, () => randomEvent(rng)));
    await first.log.close();
    // A minute row as an earlier version kept them in the base table (its count is wrong on purpose:
    // were it read, the answers below would be off).
    const db = new Database(file);
    const columns = db.prepare(`select * from rl_rollups limit 1`).get() as Record<string, unknown>;
    const row = { ...columns, _grain: MINUTE, _bucket: NOW - 2 * DAY, _key: 'legacy-minute-row', _n: 1000 };
    const names = Object.keys(row);
    db.prepare(`insert into rl_rollups (${names.map((n) => `"${n}"`).join(', ')}) values (${names.map(() => '?').join(', ')})`).run(
      ...names.map((n) => row[n as keyof typeof row]),
    );
    expect((db.prepare(`select count(*) as n from rl_rollups where _grain < ${HOUR}`).get() as { n: number }).n).toBe(1);
    db.close();

    const again = open(file, true);
    const raw: EventLog = createEventLog({
      store: again.store,
      presets: [conformancePreset],
      clock: () => NOW,
      rollups: false,
      closeStore: false,
    });
    logs.push(raw);
    expect(await again.log.count({ since: START - DAY })).toBe(await raw.count({ since: START - DAY }));
    const check = new Database(file, { readonly: true });
    expect((check.prepare(`select count(*) as n from rl_rollups where _grain < ${HOUR}`).get() as { n: number }).n).toBe(0);
    check.close();
    expect(await again.log.count({ since: START - DAY })).toBe(400);
  }, 60_000);
});
