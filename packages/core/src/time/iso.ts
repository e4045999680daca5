import { zoneOffsetMinutes } from './zone.js';

const MINUTE = 60_000;

/**
 * Formats epoch milliseconds as ISO 8601 local time with the zone's offset, e.g.
 * `2025-03-30T03:00:00+02:00` (`Z` when the offset is zero), the same text as date-fns
 * `format(new TZDate(t, zone), "yyyy-MM-dd'T'HH:mm:ssXXX")` (with `.SSS` when `millis`).
 *
 * Going through `TZDate` and `format` per call dominated exports and small timelines; this reads the zone's offset once per UTC minute (every offset change in the tz
 * database falls on a whole minute) and lets `toISOString` do the rest.
 *
 * @example
 * ```ts
 * import { createIsoFormatter } from '@eventlog/core';
 * const berlin = createIsoFormatter('Europe/Berlin', { millis: true });
 * console.log(berlin(Date.UTC(2025, 2, 30, 1))); // '2025-03-30T03:00:00.000+02:00'
 * ```
 */
export function createIsoFormatter(timeZone: string, options: { millis: boolean }): (time: number) => string {
  const end = options.millis ? 23 : 19;
  const utc = timeZone === 'UTC' || timeZone === 'Etc/UTC';
  let cachedMinute = Number.NaN;
  let offset = 0;
  let suffix = 'Z';
  return (time) => {
    if (utc) return `${new Date(time).toISOString().slice(0, end)}Z`;
    const minute = Math.floor(time / MINUTE);
    if (minute !== cachedMinute) {
      cachedMinute = minute;
      offset = Math.round(zoneOffsetMinutes(timeZone, time));
      suffix = offsetSuffix(offset);
    }
    return new Date(time + offset * MINUTE).toISOString().slice(0, end) + suffix;
  };
}

function offsetSuffix(minutes: number): string {
  if (minutes === 0) return 'Z';
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  const hh = String(Math.floor(abs / 60)).padStart(2, '0');
  const mm = String(abs % 60).padStart(2, '0');
  return `${sign}${hh}:${mm}`;
}
