import { tzOffset } from '@date-fns/tz';
import { describe, expect, it } from 'vitest';
import { isValidTimeZone, zoneOffsetMinutes } from './zone.js';

const MINUTE = 60_000;
// Whole-hour and half-hour offsets, DST changes at local 02:00 that fall mid-hour in UTC (St John's),
// a 30-minute DST shift (Lord Howe), the southern hemisphere and a zone without DST.
const zones = ['Europe/Berlin', 'America/New_York', 'America/St_Johns', 'Australia/Lord_Howe', 'Pacific/Chatham', 'Asia/Kathmandu'];

/** The first minute (epoch ms) at which the offset of `zone` changes after `from`, found by bisection. */
function nextChange(zone: string, from: number): number {
  const start = tzOffset(zone, new Date(from));
  let lo = from;
  let hi = from + 400 * 86_400_000;
  if (tzOffset(zone, new Date(hi)) === start) {
    // Search month by month: the first and last offsets of a year are often the same.
    for (hi = from + 30 * 86_400_000; tzOffset(zone, new Date(hi)) === start; hi += 30 * 86_400_000);
  }
  while (hi - lo > MINUTE) {
    const mid = lo + Math.floor((hi - lo) / 2 / MINUTE) * MINUTE;
    if (tzOffset(zone, new Date(mid)) === start) lo = mid;
    else hi = mid;
  }
  return hi;
}

describe('zoneOffsetMinutes', () => {
  it('gives the offset tzOffset gives, minute by minute around every change of a year, asked once and again', () => {
    for (const zone of zones) {
      const changes: number[] = [];
      if (zone !== 'Asia/Kathmandu') {
        for (let from = Date.UTC(2025, 0, 1); changes.length < 2; from = (changes.at(-1) as number) + MINUTE)
          changes.push(nextChange(zone, from));
      }
      const times = [
        Date.UTC(2025, 5, 1, 12, 34, 56, 789),
        ...changes.flatMap((c) => Array.from({ length: 181 }, (_, i) => c + (i - 90) * MINUTE + 17)),
      ];
      for (let round = 0; round < 2; round++) {
        for (const time of times) expect([zone, time, zoneOffsetMinutes(zone, time)]).toEqual([zone, time, tzOffset(zone, new Date(time))]);
      }
    }
  });

  it('answers every zone apart when several are asked in turn', () => {
    const time = Date.UTC(2025, 6, 1, 10, 0);
    const offsets = zones.map((zone) => zoneOffsetMinutes(zone, time));
    expect(offsets).toEqual([120, -240, -150, 630, 765, 345]);
  });
});

describe('isValidTimeZone', () => {
  it('accepts IANA zones and refuses other names, asked once and again', () => {
    for (let round = 0; round < 2; round++) {
      expect(isValidTimeZone('Europe/Berlin')).toBe(true);
      expect(isValidTimeZone('UTC')).toBe(true);
      expect(isValidTimeZone('Mars/Olympus_Mons')).toBe(false);
      expect(isValidTimeZone('')).toBe(false);
    }
  });
});
