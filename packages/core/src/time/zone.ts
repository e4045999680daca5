import { tzOffset } from '@date-fns/tz';

const MINUTE = 60_000;
/** Offsets remembered, all zones together (a few MB at most); past this the memo starts over. */
const MAX_REMEMBERED = 100_000;
/** Zone names whose validity is remembered; past this that memo starts over. */
const MAX_ZONES = 1000;

const minutesByZone = new Map<string, Map<number, number>>();
let remembered = 0;
const validity = new Map<string, boolean>();

/**
 * The UTC offset of `timeZone` at `time` (epoch ms), in minutes east of UTC (120 for UTC+2), as
 * `tzOffset` from `@date-fns/tz` gives it. Offset changes in the tz database fall on whole UTC
 * minutes (since the local mean times of the 19th century), so the answer is remembered per zone
 * and minute (at most 100,000 together): an hourly timeline needs a few hundred offsets, the same
 * ones on every refresh of a dashboard, and each `Intl` call costs microseconds.
 *
 * @example
 * ```ts
 * import { zoneOffsetMinutes } from '@eventlog/core';
 * console.log(zoneOffsetMinutes('Europe/Berlin', Date.UTC(2025, 6, 1))); // 120
 * ```
 */
export function zoneOffsetMinutes(timeZone: string, time: number): number {
  const minute = Math.floor(time / MINUTE);
  let minutes = minutesByZone.get(timeZone);
  let offset = minutes?.get(minute);
  if (offset !== undefined) return offset;
  offset = tzOffset(timeZone, new Date(minute * MINUTE));
  if (remembered >= MAX_REMEMBERED) {
    minutesByZone.clear();
    remembered = 0;
    minutes = undefined;
  }
  if (!minutes) {
    minutes = new Map();
    minutesByZone.set(timeZone, minutes);
  }
  minutes.set(minute, offset);
  remembered++;
  return offset;
}

/** Whether `zone` is an IANA time zone this runtime knows (the answer is remembered per name). */
export function isValidTimeZone(zone: string): boolean {
  let valid = validity.get(zone);
  if (valid === undefined) {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: zone });
      valid = true;
    } catch {
      valid = false;
    }
    if (validity.size >= MAX_ZONES) validity.clear();
    validity.set(zone, valid);
  }
  return valid;
}
