import { TZDate } from '@date-fns/tz';
import { format } from 'date-fns';
import { describe, expect, it } from 'vitest';
import { createIsoFormatter } from './iso.js';

// The formatter must print exactly what date-fns prints through TZDate, which it replaces on hot paths.
const zones = [
  'UTC',
  'Europe/Berlin',
  'America/New_York',
  'Asia/Kolkata',
  'Asia/Kathmandu',
  'Australia/Lord_Howe',
  'Pacific/Chatham',
  'America/St_Johns',
  'Pacific/Kiritimati',
  'Pacific/Pago_Pago',
];
const MINUTE = 60_000;

/** Instants every 31 minutes across a year (both sides of every DST change of every zone above), plus a few extremes. */
function instants(): number[] {
  const out: number[] = [];
  const start = Date.UTC(2025, 0, 1);
  for (let t = start; t < start + 366 * 86_400_000; t += 31 * MINUTE + 13) out.push(t);
  out.push(0, 1, Date.UTC(1999, 11, 31, 23, 59, 59, 999), Date.UTC(2000, 1, 29, 12), Date.UTC(9999, 0, 1));
  return out;
}

describe('createIsoFormatter', () => {
  it.each(zones)('prints what date-fns prints in %s, with and without milliseconds', (zone) => {
    const withMillis = createIsoFormatter(zone, { millis: true });
    const withoutMillis = createIsoFormatter(zone, { millis: false });
    const mismatches: string[] = [];
    for (const t of instants()) {
      const date = new TZDate(t, zone);
      const a = format(date, "yyyy-MM-dd'T'HH:mm:ss.SSSXXX");
      const b = format(date, "yyyy-MM-dd'T'HH:mm:ssXXX");
      if (withMillis(t) !== a) mismatches.push(`${t}: ${withMillis(t)} vs ${a}`);
      if (withoutMillis(t) !== b) mismatches.push(`${t}: ${withoutMillis(t)} vs ${b}`);
    }
    expect(mismatches.slice(0, 5)).toEqual([]);
  });

  it('shows the offset change at the exact minute of a DST transition, in either direction of travel', () => {
    const berlin = createIsoFormatter('Europe/Berlin', { millis: false });
    const change = Date.UTC(2025, 2, 30, 1); // 03:00 CEST = 02:00 CET
    expect(berlin(change - 1000)).toBe('2025-03-30T01:59:59+01:00');
    expect(berlin(change)).toBe('2025-03-30T03:00:00+02:00');
    expect(berlin(change - 1000)).toBe('2025-03-30T01:59:59+01:00'); // going back reads the offset again
    const fallBack = Date.UTC(2025, 9, 26, 1); // 03:00 CEST becomes 02:00 CET: 02:xx happens twice
    expect(berlin(fallBack - 1000)).toBe('2025-10-26T02:59:59+02:00');
    expect(berlin(fallBack)).toBe('2025-10-26T02:00:00+01:00');
  });
});
