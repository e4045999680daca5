import { describe, expect, it } from 'vitest';
import { alignedStep, bucketBoundaries, foldIntoBuckets, isValidTimeZone } from './timeline.js';

const HOUR = 3_600_000;

describe('timeline buckets', () => {
  it('hour boundaries repeat the local 01:00 hour when New York falls back', () => {
    // 2026-11-01: 01:00-02:00 EDT then 01:00-02:00 EST.
    const since = Date.UTC(2026, 10, 1, 4); // 00:00 EDT
    const boundaries = bucketBoundaries(since, since + 4 * HOUR, 'hour', 'America/New_York', 100);
    expect(boundaries.map((b) => (b - since) / HOUR)).toEqual([0, 1, 2, 3, 4]);
    const points = foldIntoBuckets(boundaries, [], [], 'America/New_York');
    expect(points.map((p) => p.label)).toEqual([
      '2026-11-01T00:00:00-04:00',
      '2026-11-01T01:00:00-04:00',
      '2026-11-01T01:00:00-05:00',
      '2026-11-01T02:00:00-05:00',
    ]);
  });

  it('day buckets last 25 hours on the fall-back day', () => {
    const since = Date.UTC(2026, 10, 1, 4);
    const boundaries = bucketBoundaries(since, since + 2 * 24 * HOUR, 'day', 'America/New_York', 100);
    expect((boundaries[1]! - boundaries[0]!) / HOUR).toBe(25);
  });

  it('chooses a store step that never straddles two local buckets', () => {
    const utc = bucketBoundaries(0, 3 * 86_400_000, 'day', 'UTC', 100);
    expect(alignedStep(utc, 'day')).toBe(86_400_000);
    const berlin = bucketBoundaries(Date.UTC(2026, 2, 27), Date.UTC(2026, 2, 31), 'day', 'Europe/Berlin', 100);
    expect(alignedStep(berlin, 'day')).toBe(HOUR);
    const kathmandu = bucketBoundaries(Date.UTC(2026, 0, 1), Date.UTC(2026, 0, 2), 'hour', 'Asia/Kathmandu', 100);
    expect(alignedStep(kathmandu, 'hour')).toBe(HOUR / 4);
  });

  it('folds step rows into the bucket that holds them', () => {
    const boundaries = [0, HOUR, 2 * HOUR];
    const points = foldIntoBuckets(
      boundaries,
      [
        { key: 0, count: 2, sums: { q: 1 } },
        { key: HOUR / 2, count: 3, sums: { q: 2 } },
        { key: HOUR, count: 4, sums: { q: 3 } },
        { key: 5 * HOUR, count: 9, sums: { q: 9 } },
      ],
      ['q'],
      'UTC',
    );
    expect(points.map((p) => [p.count, p.sums.q])).toEqual([
      [5, 3],
      [4, 3],
    ]);
  });

  it('refuses ranges with too many buckets', () => {
    expect(() => bucketBoundaries(0, 10 * 86_400_000, 'minute', 'UTC', 1000)).toThrow(/more than 1000 minute buckets/);
  });

  it('knows IANA zones', () => {
    expect(isValidTimeZone('Europe/Berlin')).toBe(true);
    expect(isValidTimeZone('Mars/Olympus')).toBe(false);
  });
});
