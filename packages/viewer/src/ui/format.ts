/** The viewer's time zone (the browser's). */
export const TIME_ZONE = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';

const timeFormat = new Intl.DateTimeFormat(undefined, {
  timeZone: TIME_ZONE,
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
});

/** A time in the viewer's zone, e.g. 2026-12-07 05:45:01 (the locale's order). */
export function formatTime(ms: number): string {
  return timeFormat.format(new Date(ms));
}

/** ISO 8601 with the zone offset, for the detail panel. */
export function formatIso(ms: number): string {
  return new Date(ms).toISOString();
}

const number = new Intl.NumberFormat();
export function formatNumber(value: number): string {
  return number.format(value);
}

/** 1 h 02 min 05 s */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  if (h) return `${h} h ${String(m).padStart(2, '0')} min ${String(s).padStart(2, '0')} s`;
  if (m) return `${m} min ${String(s).padStart(2, '0')} s`;
  return `${s} s`;
}

/** Text of a possibly missing value. */
export function text(value: unknown): string {
  if (value === null || value === undefined) return '';
  return typeof value === 'string' ? value : String(value);
}
