// Wall-clock formatting in an IANA zone for the product profiles, on the core's remembered zone
// offsets and Intl (no date library in this package). Internal: not exported from the package entry.
import { zoneOffsetMinutes } from '@eventlog/core';

const HOUR = 3_600_000;
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterOf(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      timeZoneName: 'longOffset',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** Local calendar fields of a moment in a zone, and the zone's UTC offset then. @internal */
export interface ZonedParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  /** Minutes east of UTC. */
  offsetMinutes: number;
}

/**
 * The local fields of `ms` in `timeZone`: the UTC fields of `ms` moved by the zone's offset then
 * (remembered by the core per zone and minute); through `Intl` for what that cannot give alike (an
 * offset with seconds, the local mean times before about 1900, and years outside 1000–9999).
 * @internal
 */
export function zonedParts(ms: number, timeZone: string): ZonedParts {
  const offsetMinutes = zoneOffsetMinutes(timeZone, ms);
  if (Number.isInteger(offsetMinutes)) {
    const local = new Date(ms + offsetMinutes * 60_000);
    const year = local.getUTCFullYear();
    if (year >= 1000 && year <= 9999) {
      return {
        year,
        month: local.getUTCMonth() + 1,
        day: local.getUTCDate(),
        hour: local.getUTCHours(),
        minute: local.getUTCMinutes(),
        second: local.getUTCSeconds(),
        offsetMinutes,
      };
    }
  }
  return intlParts(ms, timeZone);
}

/** {@link zonedParts} read from `Intl.DateTimeFormat#formatToParts` alone. @internal */
export function intlParts(ms: number, timeZone: string): ZonedParts {
  const parts: Record<string, string> = {};
  for (const part of formatterOf(timeZone).formatToParts(new Date(ms))) parts[part.type] = part.value;
  const offset = /GMT([+-])(\d{2}):?(\d{2})?/.exec(parts.timeZoneName ?? '');
  const offsetMinutes = offset ? (offset[1] === '-' ? -1 : 1) * (Number(offset[2]) * 60 + Number(offset[3] ?? 0)) : 0;
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour),
    minute: Number(parts.minute),
    second: Number(parts.second),
    offsetMinutes,
  };
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** `YYYY-MM-DD HH:MM:SS` in `timeZone`. @internal */
export function formatSqlTime(ms: number, timeZone: string): string {
  const p = zonedParts(ms, timeZone);
  return `${pad(p.year, 4)}-${pad(p.month)}-${pad(p.day)} ${pad(p.hour)}:${pad(p.minute)}:${pad(p.second)}`;
}

/** `YYYY-MM-DDTHH:MM:SS±HH:MM` in `timeZone`. @internal */
export function formatIsoOffset(ms: number, timeZone: string): string {
  const p = zonedParts(ms, timeZone);
  const sign = p.offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(p.offsetMinutes);
  return `${pad(p.year, 4)}-${pad(p.month)}-${pad(p.day)}T${pad(p.hour)}:${pad(p.minute)}:${pad(p.second)}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/** `YYYYMMDD` in `timeZone`, for file names. @internal */
export function formatCompactDate(ms: number, timeZone: string): string {
  const p = zonedParts(ms, timeZone);
  return `${pad(p.year, 4)}${pad(p.month)}${pad(p.day)}`;
}

/**
 * The epoch ms at which the local wall-clock time is reached in `timeZone`. A time skipped by a DST
 * jump resolves to the moment after the jump; a repeated one to its first occurrence.
 * @internal
 */
export function zonedToEpoch(
  fields: { year: number; month: number; day: number; hour?: number; minute?: number; second?: number },
  timeZone: string,
): number {
  const wall = Date.UTC(fields.year, fields.month - 1, fields.day, fields.hour ?? 0, fields.minute ?? 0, fields.second ?? 0);
  // Two passes settle the offset unless the wall time falls in a DST gap.
  let guess = wall - zonedParts(wall, timeZone).offsetMinutes * 60_000;
  guess = wall - zonedParts(guess, timeZone).offsetMinutes * 60_000;
  const earlier = guess - HOUR;
  if (wall - zonedParts(earlier, timeZone).offsetMinutes * 60_000 === earlier) return earlier;
  return guess;
}

/** Epoch ms of the local midnight that starts the day holding `ms`. @internal */
export function startOfZonedDay(ms: number, timeZone: string): number {
  const p = zonedParts(ms, timeZone);
  return zonedToEpoch({ year: p.year, month: p.month, day: p.day }, timeZone);
}

/** Epoch ms of the start of the local hour holding `ms` (zones with half-hour offsets included). @internal */
export function startOfZonedHour(ms: number, timeZone: string): number {
  const p = zonedParts(ms, timeZone);
  return ms - (((ms % 1000) + 1000) % 1000) - p.minute * 60_000 - p.second * 1000;
}
