import { describe, expect, it } from 'vitest';
import { intlParts, zonedParts, zonedToEpoch } from './zoned-time.js';

const zones = ['UTC', 'Europe/Berlin', 'America/New_York', 'America/St_Johns', 'Australia/Lord_Howe', 'Pacific/Chatham', 'Asia/Kolkata'];
const MINUTE = 60_000;

describe('zonedParts', () => {
  it('gives the fields Intl gives, every 31 minutes across a year (every DST change of these zones) and at the edges', () => {
    const instants: number[] = [];
    const start = Date.UTC(2025, 0, 1);
    for (let t = start; t < start + 366 * 86_400_000; t += 31 * MINUTE + 1009) instants.push(t);
    // Local mean time (an offset with seconds), the years Intl prints differently, and far ahead.
    instants.push(Date.UTC(1850, 5, 1), Date.UTC(999, 11, 31, 23), Date.UTC(1000, 0, 1), -62_198_755_200_000, Date.UTC(9999, 11, 31, 12));
    for (const zone of zones) {
      for (const t of instants) expect([zone, t, zonedParts(t, zone)]).toEqual([zone, t, intlParts(t, zone)]);
    }
  });

  it('resolves local wall-clock times through the DST gap and the repeated hour as before', () => {
    // Berlin 2025-03-30 02:30 does not exist (the moment after the jump); 2025-10-26 02:30 happens twice (the first).
    expect(new Date(zonedToEpoch({ year: 2025, month: 3, day: 30, hour: 2, minute: 30 }, 'Europe/Berlin')).toISOString()).toBe(
      '2025-03-30T01:30:00.000Z',
    );
    expect(new Date(zonedToEpoch({ year: 2025, month: 10, day: 26, hour: 2, minute: 30 }, 'Europe/Berlin')).toISOString()).toBe(
      '2025-10-26T00:30:00.000Z',
    );
  });
});
