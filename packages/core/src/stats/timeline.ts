import { TZDate } from '@date-fns/tz';
import { addDays, startOfDay } from 'date-fns';
import { ValidationError } from '../errors.js';
import type { AggregateRow } from '../storage/contract.js';
import { createIsoFormatter } from '../time/iso.js';
import { zoneOffsetMinutes } from '../time/zone.js';

export { isValidTimeZone } from '../time/zone.js';

/** Timeline bucket sizes. */
export const BUCKETS = ['minute', 'hour', 'day'] as const;
/** One of {@link BUCKETS}. */
export type Bucket = (typeof BUCKETS)[number];

/** One bucket of a timeline. */
export interface TimelinePoint {
  /** Start of the bucket, epoch ms (inclusive). */
  start: number;
  /** End of the bucket, epoch ms (exclusive). */
  end: number;
  /** Local start time with its UTC offset, e.g. `2026-03-29T02:00:00+02:00`. */
  label: string;
  count: number;
  sums: Record<string, number>;
}

const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

/** The span a timeline covers when the filter gives no lower bound. @internal */
export const DEFAULT_SPAN: Record<Bucket, number> = { minute: HOUR, hour: DAY, day: 30 * DAY };

/** Bucket start times covering [since, until) in `timeZone`, plus the closing boundary. @internal */
export function bucketBoundaries(since: number, until: number, bucket: Bucket, timeZone: string, maxBuckets: number): number[] {
  const first = startOf(since, bucket, timeZone);
  const boundaries = [first];
  let current = first;
  while (current < until) {
    current = nextBoundary(current, bucket, timeZone);
    boundaries.push(current);
    if (boundaries.length > maxBuckets + 1) {
      throw new ValidationError([
        { path: ['bucket'], message: `the range holds more than ${maxBuckets} ${bucket} buckets; narrow it or use a larger bucket` },
      ]);
    }
  }
  return boundaries;
}

function startOf(time: number, bucket: Bucket, timeZone: string): number {
  if (bucket === 'minute') return Math.floor(time / MINUTE) * MINUTE;
  if (bucket === 'hour') return startOfLocalHour(time, timeZone);
  return startOfDay(new TZDate(time, timeZone)).getTime();
}

function nextBoundary(current: number, bucket: Bucket, timeZone: string): number {
  const next =
    bucket === 'minute'
      ? current + MINUTE
      : bucket === 'hour'
        ? startOfLocalHour(current + HOUR, timeZone)
        : startOfDay(addDays(new TZDate(current, timeZone), 1)).getTime();
  // Zones whose clocks jump at midnight or by half an hour must still move forward.
  return next > current ? next : current + (bucket === 'day' ? DAY : HOUR);
}

/**
 * Start of the local hour holding `time`, from the zone's UTC offset at that instant. Local-time
 * setters cannot do this: in a repeated hour (DST fall-back) they pick the earlier instant.
 */
function startOfLocalHour(time: number, timeZone: string): number {
  const offset = zoneOffsetMinutes(timeZone, time) * MINUTE;
  return time - mod(time + offset, HOUR);
}

function mod(a: number, b: number): number {
  return ((a % b) + b) % b;
}

/**
 * The largest UTC-aligned step that divides every boundary, so that each step falls inside one
 * bucket. Stores group by this step; the core folds steps into local buckets. @internal
 */
export function alignedStep(boundaries: readonly number[], bucket: Bucket): number {
  const candidates =
    bucket === 'minute' ? [MINUTE] : bucket === 'hour' ? [HOUR, HOUR / 2, HOUR / 4, MINUTE] : [DAY, HOUR, HOUR / 2, HOUR / 4, MINUTE];
  for (const step of candidates) {
    if (boundaries.every((b) => b % step === 0)) return step;
  }
  return 1000;
}

/** Folds aggregate rows keyed by step start into timeline points. @internal */
export function foldIntoBuckets(
  boundaries: readonly number[],
  rows: readonly AggregateRow[],
  metrics: readonly string[],
  timeZone: string,
): TimelinePoint[] {
  const points: TimelinePoint[] = [];
  const label = createIsoFormatter(timeZone, { millis: false });
  for (let i = 0; i < boundaries.length - 1; i++) {
    const start = boundaries[i]!;
    const sums: Record<string, number> = {};
    for (const m of metrics) sums[m] = 0;
    points.push({ start, end: boundaries[i + 1]!, label: label(start), count: 0, sums });
  }
  for (const row of rows) {
    const key = Number(row.key);
    const index = findBucket(boundaries, key);
    const point = index === -1 ? undefined : points[index];
    if (!point) continue;
    point.count += row.count;
    for (const m of metrics) point.sums[m] = (point.sums[m] ?? 0) + (row.sums[m] ?? 0);
  }
  return points;
}

function findBucket(boundaries: readonly number[], time: number): number {
  let lo = 0;
  let hi = boundaries.length - 2;
  if (hi < 0 || time < boundaries[0]! || time >= boundaries[hi + 1]!) return -1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (boundaries[mid]! <= time) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}
