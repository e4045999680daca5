import type { FilterInput } from '@eventlog/core';
import { isValidTimeZone } from '@eventlog/core';
import { UsageError } from './errors.js';

const UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/**
 * Reads a time flag: a duration back from `now` (`30s`, `15m`, `12h`, `7d`, `2w`), `now`, epoch
 * milliseconds, or an ISO 8601 date/time.
 *
 * @example
 * ```ts
 * import { parseTime } from '@eventlog/cli';
 * parseTime('7d', Date.UTC(2026, 0, 8)); // Date.UTC(2026, 0, 1)
 * ```
 */
export function parseTime(value: string, now: number, flag = 'time'): number {
  const text = value.trim();
  if (text === 'now') return now;
  const duration = /^(\d+(?:\.\d+)?)\s*([smhdw])$/i.exec(text);
  if (duration) return now - Number(duration[1]) * (UNITS[duration[2]!.toLowerCase()] ?? 0);
  if (/^\d{11,}$/.test(text)) return Number(text);
  const parsed = Date.parse(text);
  if (Number.isNaN(parsed))
    throw new UsageError(`${flag}: "${value}" is not a duration (7d, 12h, 30m) or a time (2026-01-31, an ISO 8601 time).`);
  return parsed;
}

/** The filter flags every reading command shares. */
export interface FilterFlags {
  since?: string;
  until?: string;
  type?: string[];
  category?: string[];
  tenant?: string[];
  actor?: string[];
  outcome?: string[];
  ip?: string[];
  search?: string;
  dim?: string[];
}

/** Collects a repeatable flag's values, splitting commas. */
export function collect(value: string, previous: string[] = []): string[] {
  return [
    ...previous,
    ...value
      .split(',')
      .map((v) => v.trim())
      .filter(Boolean),
  ];
}

/** Collects repeatable `key=value` flags without splitting. */
export function collectRaw(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/**
 * Turns the shared filter flags into a core filter.
 *
 * @example
 * ```ts
 * import { buildFilter } from '@eventlog/cli';
 * buildFilter({ since: '7d', type: ['proxy.request'], dim: ['status_code=403'] }, Date.now());
 * ```
 */
export function buildFilter(flags: FilterFlags, now: number): FilterInput {
  const filter: FilterInput = {};
  if (flags.since) filter.since = parseTime(flags.since, now, '--since');
  if (flags.until) filter.until = parseTime(flags.until, now, '--until');
  if (filter.since !== undefined && filter.until !== undefined && (filter.since as number) >= (filter.until as number)) {
    throw new UsageError('--since must be before --until.');
  }
  const list = (values: string[] | undefined) => (values && values.length > 0 ? (values.length === 1 ? values[0]! : values) : undefined);
  const set = (key: 'type' | 'category' | 'tenantId' | 'actorId' | 'outcome' | 'ip', values: string[] | undefined) => {
    const value = list(values);
    if (value !== undefined) filter[key] = value;
  };
  set('type', flags.type);
  set('category', flags.category);
  set('tenantId', flags.tenant);
  set('actorId', flags.actor);
  set('outcome', flags.outcome);
  set('ip', flags.ip);
  if (flags.search) filter.search = flags.search;
  if (flags.dim && flags.dim.length > 0) {
    const dimensions: Record<string, string[]> = {};
    for (const pair of flags.dim) {
      const eq = pair.indexOf('=');
      if (eq <= 0) throw new UsageError(`--dim: "${pair}" is not key=value.`);
      const key = pair.slice(0, eq).trim();
      dimensions[key] = [...(dimensions[key] ?? []), pair.slice(eq + 1)];
    }
    filter.dimensions = Object.fromEntries(Object.entries(dimensions).map(([k, v]) => [k, v.length === 1 ? v[0]! : v]));
  }
  return filter;
}

/** Checks a `--tz` value. */
export function parseTimeZone(value: string | undefined): string {
  const zone = value ?? 'UTC';
  if (!isValidTimeZone(zone)) throw new UsageError(`--tz: "${zone}" is not an IANA time zone (e.g. Europe/Berlin, UTC).`);
  return zone;
}

/** Reads a positive whole number flag. */
export function parsePositiveInt(value: string, flag: string, max = Number.MAX_SAFE_INTEGER): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new UsageError(`${flag}: "${value}" must be a whole number from 1 to ${max}.`);
  return n;
}
