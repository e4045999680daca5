import type { EventRow, RollupSpan, RollupSpec } from '../storage/contract.js';

/**
 * Bucket widths a rollup cover can be made of, in ms, smallest first: minute, hour, UTC day. The
 * tables keep only the grains {@link rollupGrains} lists (hours and days).
 */
export const ROLLUP_GRAINS = [60_000, 3_600_000, 86_400_000] as const;

const KEPT_GRAINS: readonly number[] = ROLLUP_GRAINS.slice(1);

/**
 * The grains a rollup table keeps: hour and day, for the base table as for a dimension's. Minute
 * rows are not kept: at the event rates rollups are for they held about one event each, so they
 * were a quarter of every insert's rollup writes, for reads that raw rows answer bounded to at most
 * an hour at each edge of the range (docs/rollups.md). `dimension` is kept for callers that ask
 * per table.
 */
export function rollupGrains(_dimension: string | null): readonly number[] {
  return KEPT_GRAINS;
}

/** The event columns every rollup row is keyed by, besides its time bucket (and its dimension). */
export const ROLLUP_KEY_COLUMNS = ['tenant_id', 'type', 'category', 'outcome'] as const;

/** One rollup row's change: add `count` and `sums` to the row of (`grain`, `bucket`, `values`). */
export interface RollupDelta {
  /** Bucket width in ms, one of {@link ROLLUP_GRAINS}. */
  readonly grain: number;
  /** Bucket start, epoch ms (a multiple of `grain`). */
  readonly bucket: number;
  /** The key columns' values (and the dimension's), by column name; null where the events hold none. */
  readonly values: Readonly<Record<string, string | number | null>>;
  /** A text identifying `values` exactly (JSON of the tuple), for stores to hash into a unique key. */
  readonly key: string;
  count: number;
  readonly sums: Record<string, number>;
}

/** The key columns of a rollup table: the base table's (`dimension` null) or a marked dimension's. */
export function rollupColumns(dimension: string | null): readonly string[] {
  return dimension === null ? ROLLUP_KEY_COLUMNS : [...ROLLUP_KEY_COLUMNS, dimension];
}

/** Every rollup table of a spec: `null` (the base table) first, then each marked dimension. */
export function rollupTables(spec: RollupSpec): (string | null)[] {
  return [null, ...spec.dimensions];
}

/**
 * The changes `rows` make to one rollup table, `sign` 1 when they are stored and -1 when they are
 * deleted; ordered by grain, bucket and key so concurrent writers lock rows in one order.
 */
export function rollupDeltas(rows: readonly EventRow[], spec: RollupSpec, dimension: string | null, sign: 1 | -1): RollupDelta[] {
  return deltasOf(rows, spec, [dimension], sign)[0] as RollupDelta[];
}

/**
 * The changes `rows` make to every rollup table of `spec` (in {@link rollupTables} order), in one
 * pass over the rows: each row's key text, buckets and metric values are worked out once for all
 * tables rather than once per table.
 */
export function rollupBatchDeltas(
  rows: readonly EventRow[],
  spec: RollupSpec,
  sign: 1 | -1,
): { dimension: string | null; deltas: RollupDelta[] }[] {
  const tables = rollupTables(spec);
  return deltasOf(rows, spec, tables, sign).map((deltas, i) => ({ dimension: tables[i] as string | null, deltas }));
}

function deltasOf(rows: readonly EventRow[], spec: RollupSpec, tables: readonly (string | null)[], sign: 1 | -1): RollupDelta[][] {
  const metrics = spec.metrics;
  const grainsOf = tables.map((d) => rollupGrains(d));
  // Per table and grain, the deltas by bucket and then by key text: the row's key string is reused
  // for every grain, so it is hashed once, and no combined id string is built per lookup.
  const groups = grainsOf.map((grains) => grains.map(() => new Map<number, Map<string, RollupDelta>>()));
  const out: RollupDelta[][] = tables.map(() => []);
  const amounts: (number | null)[] = new Array(metrics.length);
  const base: (string | number | null)[] = new Array(ROLLUP_KEY_COLUMNS.length);
  for (const row of rows) {
    const time = Number(row.time);
    for (let c = 0; c < ROLLUP_KEY_COLUMNS.length; c++) base[c] = row[ROLLUP_KEY_COLUMNS[c] as string] ?? null;
    // The text of the key tuple; a dimension's key is the same array with its value appended.
    const baseKey = JSON.stringify(base);
    for (let m = 0; m < metrics.length; m++) {
      const v = row[metrics[m] as string];
      amounts[m] = v === null || v === undefined ? null : sign * Number(v);
    }
    for (let t = 0; t < tables.length; t++) {
      const dimension = tables[t] as string | null;
      let key = baseKey;
      let value: string | number | null = null;
      if (dimension !== null) {
        value = row[dimension] ?? null;
        // Rows without the dimension are left out of its table: every read of that table asks for
        // a value of it (the planner requires it), so such rows would never be read.
        if (value === null) continue;
        key = `${baseKey.slice(0, -1)},${JSON.stringify(value)}]`;
      }
      const grains = grainsOf[t] as readonly number[];
      for (let g = 0; g < grains.length; g++) {
        const grain = grains[g] as number;
        const bucket = Math.floor(time / grain) * grain;
        const byBucket = (groups[t] as Map<number, Map<string, RollupDelta>>[])[g] as Map<number, Map<string, RollupDelta>>;
        let byKey = byBucket.get(bucket);
        if (!byKey) {
          byKey = new Map();
          byBucket.set(bucket, byKey);
        }
        let delta = byKey.get(key);
        if (!delta) {
          const values: Record<string, string | number | null> = {};
          ROLLUP_KEY_COLUMNS.forEach((c, i) => {
            values[c] = base[i] as string | number | null;
          });
          if (dimension !== null) values[dimension] = value;
          const sums: Record<string, number> = {};
          for (const m of metrics) sums[m] = 0;
          delta = { grain, bucket, values, key, count: 0, sums };
          byKey.set(key, delta);
          (out[t] as RollupDelta[]).push(delta);
        }
        delta.count += sign;
        for (let m = 0; m < metrics.length; m++) {
          const amount = amounts[m] as number | null;
          if (amount !== null) delta.sums[metrics[m] as string] = (delta.sums[metrics[m] as string] ?? 0) + amount;
        }
      }
    }
  }
  for (const deltas of out) deltas.sort((a, b) => a.grain - b.grain || a.bucket - b.bucket || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return out;
}

/**
 * Splits `[gte, lt)` (either bound open) into whole buckets of the `available` grains up to
 * `maxGrain`, largest in the middle, and the raw edges no bucket covers (each under the smallest
 * grain, or the whole range when it holds no whole bucket). Every instant of the range falls in exactly one span or edge.
 */
export function coverRange(
  gte: number | undefined,
  lt: number | undefined,
  maxGrain: number,
  available: readonly number[] = ROLLUP_GRAINS,
): { spans: RollupSpan[]; edges: { gte: number; lt: number }[] } {
  const grains = available.filter((g) => g <= maxGrain);
  const smallest = grains[0];
  if (smallest === undefined) return { spans: [], edges: gte !== undefined && lt !== undefined && gte < lt ? [{ gte, lt }] : [] };
  const inner = { gte: gte === undefined ? undefined : ceilTo(gte, smallest), lt: lt === undefined ? undefined : floorTo(lt, smallest) };
  if (inner.gte !== undefined && inner.lt !== undefined && inner.gte >= inner.lt) {
    return { spans: [], edges: gte !== undefined && lt !== undefined && gte < lt ? [{ gte, lt }] : [] };
  }
  const edges: { gte: number; lt: number }[] = [];
  if (gte !== undefined && inner.gte !== undefined && gte < inner.gte) edges.push({ gte, lt: inner.gte });
  if (lt !== undefined && inner.lt !== undefined && inner.lt < lt) edges.push({ gte: inner.lt, lt });
  const spans: RollupSpan[] = [];
  coverAligned(inner.gte, inner.lt, [...grains].reverse(), spans);
  return { spans, edges };
}

/** A time range `[gte, lt)`. */
type Interval = { gte: number; lt: number };

/**
 * Trades a raw edge for its whole bucket minus the rest of that bucket where the rest holds fewer
 * events: an edge `[a, b)` inside the `grain` bucket `[B, B + grain)` equals the bucket's rollup
 * rows less the raw rows of `[B, a)` and `[b, B + grain)`. Events are taken to lie at or before
 * `now`, so the part of a piece up to `now` stands for what reading it costs: a range that ends now
 * has the current hour as its edge, read raw event by event, while the rest of that hour is still
 * to come and nearly always empty. Exact either way; only which rows are read changes. An edge
 * spanning two buckets (a range holding no whole bucket) is weighed per bucket.
 */
export function complementEdges(
  cover: { spans: readonly RollupSpan[]; edges: readonly Interval[] },
  grain: number,
  now: number,
): { spans: RollupSpan[]; edges: Interval[]; minus: Interval[] } {
  const spans = [...cover.spans];
  const edges: Interval[] = [];
  const minus: Interval[] = [];
  const past = (gte: number, lt: number) => Math.max(0, Math.min(lt, now + 1) - gte);
  for (const edge of cover.edges) {
    for (let at = edge.gte; at < edge.lt; ) {
      const bucket = floorTo(at, grain);
      const end = Math.min(edge.lt, bucket + grain);
      const rest = [
        { gte: bucket, lt: at },
        { gte: end, lt: bucket + grain },
      ].filter((r) => r.gte < r.lt);
      if (rest.reduce((n, r) => n + past(r.gte, r.lt), 0) < past(at, end)) {
        // Extends the span of the same grain it touches (one range in the statement), else adds one.
        const i = spans.findIndex((s) => s.grain === grain && (s.lt === bucket || s.gte === bucket + grain));
        const next = spans[i];
        if (next) spans[i] = next.lt === bucket ? { ...next, lt: bucket + grain } : { ...next, gte: bucket };
        else spans.push({ grain, gte: bucket, lt: bucket + grain });
        minus.push(...rest);
      } else {
        const last = edges[edges.length - 1];
        if (last && last.lt === at) last.lt = end;
        else edges.push({ gte: at, lt: end });
      }
      at = end;
    }
  }
  return { spans, edges, minus };
}

/** Covers a range whose bounds are multiples of the smallest of `grains` (largest first). */
function coverAligned(gte: number | undefined, lt: number | undefined, grains: readonly number[], spans: RollupSpan[]): void {
  if (gte !== undefined && lt !== undefined && gte >= lt) return;
  const [grain, ...smaller] = grains;
  if (grain === undefined) return;
  if (smaller.length === 0) {
    spans.push(span(grain, gte, lt));
    return;
  }
  const inner = { gte: gte === undefined ? undefined : ceilTo(gte, grain), lt: lt === undefined ? undefined : floorTo(lt, grain) };
  if (inner.gte !== undefined && inner.lt !== undefined && inner.gte >= inner.lt) {
    coverAligned(gte, lt, smaller, spans);
    return;
  }
  spans.push(span(grain, inner.gte, inner.lt));
  if (gte !== undefined && inner.gte !== undefined) coverAligned(gte, inner.gte, smaller, spans);
  if (lt !== undefined && inner.lt !== undefined) coverAligned(inner.lt, lt, smaller, spans);
}

function span(grain: number, gte: number | undefined, lt: number | undefined): RollupSpan {
  const out: { grain: number; gte?: number; lt?: number } = { grain };
  if (gte !== undefined) out.gte = gte;
  if (lt !== undefined) out.lt = lt;
  return out;
}

function ceilTo(value: number, step: number): number {
  return Math.ceil(value / step) * step;
}

function floorTo(value: number, step: number): number {
  return Math.floor(value / step) * step;
}
