import { describe, expect, it } from 'vitest';
import type { EventRow } from '../storage/contract.js';
import { complementEdges, coverRange, ROLLUP_GRAINS, rollupBatchDeltas, rollupDeltas } from './model.js';

const [MINUTE, HOUR, DAY] = ROLLUP_GRAINS;

/** The pieces of a cover as time intervals, sorted. */
function pieces(cover: ReturnType<typeof coverRange>, lo: number, hi: number): [number, number, number][] {
  const out: [number, number, number][] = [];
  for (const s of cover.spans) out.push([s.gte ?? lo, s.lt ?? hi, s.grain]);
  for (const e of cover.edges) out.push([e.gte, e.lt, 0]);
  return out.sort((a, b) => a[0] - b[0]);
}

describe('coverRange', () => {
  it('splits random ranges into aligned buckets and sub-minute edges that tile the range exactly once', () => {
    let seed = 7;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let i = 0; i < 5000; i++) {
      const base = 1_700_000_000_000 + Math.floor(rand() * 40 * DAY);
      const align = [1, MINUTE, HOUR, DAY][Math.floor(rand() * 4)] as number;
      const gte = Math.floor(base / align) * align;
      const lt = gte + Math.floor(rand() * [2 * MINUTE, 3 * HOUR, 9 * DAY][i % 3]!);
      const cover = coverRange(gte, lt, DAY);
      const parts = pieces(cover, gte, lt);
      let at = gte;
      for (const [from, to, grain] of parts) {
        expect(from, `${gte}..${lt}`).toBe(at);
        expect(to).toBeGreaterThan(from);
        if (grain) {
          expect(from % grain).toBe(0);
          expect(to % grain).toBe(0);
        } else {
          // An edge is under a minute, or the whole range when that holds no whole minute.
          expect(to - from).toBeLessThan(parts.length === 1 ? 2 * MINUTE : MINUTE);
        }
        at = to;
      }
      expect(at === lt || (parts.length === 0 && gte === lt), `${gte}..${lt}`).toBe(true);
      expect(cover.edges.length).toBeLessThanOrEqual(2);
    }
  });

  it('uses day buckets for open ends and only grains up to maxGrain', () => {
    expect(coverRange(undefined, undefined, DAY)).toEqual({ spans: [{ grain: DAY }], edges: [] });
    const open = coverRange(undefined, 2 * DAY + HOUR + MINUTE + 5, DAY);
    expect(open.spans).toEqual([
      { grain: DAY, lt: 2 * DAY },
      { grain: HOUR, gte: 2 * DAY, lt: 2 * DAY + HOUR },
      { grain: MINUTE, gte: 2 * DAY + HOUR, lt: 2 * DAY + HOUR + MINUTE },
    ]);
    expect(open.edges).toEqual([{ gte: 2 * DAY + HOUR + MINUTE, lt: 2 * DAY + HOUR + MINUTE + 5 }]);
    expect(coverRange(0, 2 * DAY, HOUR).spans).toEqual([{ grain: HOUR, gte: 0, lt: 2 * DAY }]);
    expect(coverRange(10, 20, DAY)).toEqual({ spans: [], edges: [{ gte: 10, lt: 20 }] });
  });
});

describe('complementEdges', () => {
  const KEPT = [HOUR, DAY] as number[];
  /** How many times `at` is counted: once per span or edge holding it, minus once per `minus` range. */
  const weight = (c: ReturnType<typeof complementEdges>, at: number) =>
    c.spans.filter((s) => (s.gte ?? -Infinity) <= at && at < (s.lt ?? Infinity)).length +
    c.edges.filter((e) => e.gte <= at && at < e.lt).length -
    c.minus.filter((e) => e.gte <= at && at < e.lt).length;

  it('still counts every instant of random ranges exactly once, and nothing outside them', () => {
    let seed = 11;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    let traded = 0;
    for (let i = 0; i < 3000; i++) {
      const gte = 1_700_000_000_000 + Math.floor(rand() * 40 * DAY);
      const lt = gte + 1 + Math.floor(rand() * [30 * MINUTE, 3 * HOUR, 9 * DAY][i % 3]!);
      const now = gte + Math.floor((rand() * 1.4 - 0.2) * (lt - gte));
      const c = complementEdges(coverRange(gte, lt, DAY, KEPT), HOUR, now);
      if (c.minus.length) traded++;
      const points = new Set([gte, lt]);
      for (const p of [...c.spans, ...c.edges, ...c.minus]) for (const x of [p.gte, p.lt]) if (x !== undefined) points.add(x);
      for (const x of points)
        for (const at of [x - 1, x]) expect(weight(c, at), `${gte}..${lt} now ${now} at ${at}`).toBe(at >= gte && at < lt ? 1 : 0);
      for (const m of c.minus) expect(Math.floor(m.gte / HOUR)).toBe(Math.floor((m.lt - 1) / HOUR));
    }
    expect(traded).toBeGreaterThan(500);
  });

  it('reads the current hour from its rollup row less the hour still to come, and a short past edge raw', () => {
    const now = 10 * DAY + 5 * HOUR + 40 * MINUTE;
    // The last 24 hours up to now: the leading edge (20 minutes, past) stays raw, the trailing
    // 40 minutes become the hour's bucket less the 20 minutes after now.
    const c = complementEdges(coverRange(now - DAY, now + 1, DAY, KEPT), HOUR, now);
    expect(c.edges).toEqual([{ gte: now - DAY, lt: now - DAY + 20 * MINUTE }]);
    expect(c.minus).toEqual([{ gte: now + 1, lt: 10 * DAY + 6 * HOUR }]);
    // The current hour joins the hours before it: one span.
    expect(c.spans).toEqual([{ grain: HOUR, gte: now - DAY + 20 * MINUTE, lt: 10 * DAY + 6 * HOUR }]);
    // A range that ended long ago: each edge is weighed by its length against the rest of its hour.
    const old = complementEdges(coverRange(HOUR + 10 * MINUTE, 5 * HOUR + 50 * MINUTE, DAY, KEPT), HOUR, now);
    expect(old.edges).toEqual([]);
    expect(old.minus).toEqual([
      { gte: HOUR, lt: HOUR + 10 * MINUTE },
      { gte: 5 * HOUR + 50 * MINUTE, lt: 6 * HOUR },
    ]);
    const short = complementEdges(coverRange(HOUR + 50 * MINUTE, 5 * HOUR + 10 * MINUTE, DAY, KEPT), HOUR, now);
    expect(short.minus).toEqual([]);
    expect(short.edges).toEqual([
      { gte: HOUR + 50 * MINUTE, lt: 2 * HOUR },
      { gte: 5 * HOUR, lt: 5 * HOUR + 10 * MINUTE },
    ]);
    // Hours wholly in the future are never traded: their raw read costs nothing.
    expect(complementEdges(coverRange(now + DAY, now + DAY + MINUTE, DAY, KEPT), HOUR, now).minus).toEqual([]);
  });
});

describe('rollupDeltas', () => {
  it('groups rows per grain, bucket and key, with signed counts and sums (nulls add nothing)', () => {
    const spec = { dimensions: ['model'], metrics: ['quota'] };
    const rows = [
      { time: DAY + 5, type: 'a', tenant_id: 't', model: 'x', quota: 3 },
      { time: DAY + 7, type: 'a', tenant_id: 't', model: 'x', quota: null },
      { time: DAY + HOUR, type: 'a', tenant_id: null, model: 'x', quota: 4 },
    ];
    const base = rollupDeltas(rows, spec, null, 1);
    expect(base.filter((d) => d.grain === DAY)).toEqual([
      expect.objectContaining({ bucket: DAY, count: 2, sums: { quota: 3 } }),
      expect.objectContaining({ bucket: DAY, count: 1, sums: { quota: 4 } }),
    ]);
    expect(base.filter((d) => d.grain === HOUR).map((d) => [d.bucket, d.count])).toEqual([
      [DAY, 2],
      [DAY + HOUR, 1],
    ]);
    // Every table, the base table too, keeps hours and days only: no minute rows.
    expect(base.filter((d) => d.grain === MINUTE)).toEqual([]);
    expect(base.map((d) => d.grain).filter((g) => g !== HOUR && g !== DAY)).toEqual([]);
    const removed = rollupDeltas(rows.slice(0, 1), spec, 'model', -1);
    expect(removed.map((d) => [d.grain, d.count, d.sums.quota, d.values.model])).toEqual([
      [HOUR, -1, -3, 'x'],
      [DAY, -1, -3, 'x'],
    ]);
  });

  it('leaves rows without a dimension out of its table, and gives per table what the one-pass batch gives', () => {
    const spec = { dimensions: ['model', 'channel'], metrics: ['quota', 'bytes'] };
    const rows: EventRow[] = [
      { time: DAY + 5, type: 'a', tenant_id: 't', model: 'x', quota: 3 },
      { time: DAY + 9, type: 'a', tenant_id: 't', channel: 0, bytes: 10 },
      { time: 2 * DAY + MINUTE, type: 'b', tenant_id: null, model: 'x', channel: 7, quota: 4, bytes: null },
      { time: 2 * DAY + HOUR, type: 'b', category: 'c', outcome: 'success', model: '"]', quota: 1 },
    ];
    expect(
      rollupDeltas(rows, spec, 'model', 1)
        .filter((d) => d.grain === DAY)
        .map((d) => [d.bucket, d.values.model, d.count]),
    ).toEqual([
      [DAY, 'x', 1],
      [2 * DAY, '"]', 1],
      [2 * DAY, 'x', 1],
    ]);
    // The value 0 is a value, not a missing one.
    expect(rollupDeltas(rows, spec, 'channel', -1).map((d) => [d.grain, d.values.channel, d.count, d.sums.bytes])).toEqual([
      [HOUR, 0, -1, -10],
      [HOUR, 7, -1, 0],
      [DAY, 0, -1, -10],
      [DAY, 7, -1, 0],
    ]);
    const batch = rollupBatchDeltas(rows, spec, -1);
    expect(batch.map((t) => t.dimension)).toEqual([null, 'model', 'channel']);
    for (const { dimension, deltas } of batch) {
      expect(deltas).toEqual(rollupDeltas(rows, spec, dimension, -1));
      // The key text is the JSON of the key tuple, as before the one-pass computation (stores hash it into `_key`).
      for (const d of deltas) {
        const columns = ['tenant_id', 'type', 'category', 'outcome', ...(dimension ? [dimension] : [])];
        expect(d.key).toBe(JSON.stringify(columns.map((c) => d.values[c] ?? null)));
      }
    }
  });
});
