import { TZDate } from '@date-fns/tz';
import { format } from 'date-fns';
import type { StoredEvent } from '../schema/event.js';
import { createIsoFormatter } from '../time/iso.js';

/** The default `timeFormat` of exports (date-fns tokens): ISO 8601 with milliseconds and offset. */
export const DEFAULT_TIME_FORMAT = "yyyy-MM-dd'T'HH:mm:ss.SSSXXX";

/** Characters that make a spreadsheet treat a cell as a formula (OWASP CSV injection). */
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * Quotes one CSV cell per RFC 4180 and neutralises text that a spreadsheet would run as a formula
 * by prefixing it with `'`. Numbers are written as they are.
 *
 * @example
 * ```ts
 * import { csvCell } from '@eventlog/core';
 * csvCell('=SUM(A1)'); // "'=SUM(A1)"
 * ```
 */
export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  let text = typeof value === 'string' ? value : JSON.stringify(value);
  if (FORMULA_START.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** A column of a CSV export: a header and how to read the value from an event. */
export interface CsvColumn {
  header: string;
  value: (event: StoredEvent) => unknown;
}

/** Canonical export column names. */
export const DEFAULT_CSV_FIELDS = [
  'id',
  'time',
  'type',
  'category',
  'action',
  'outcome',
  'severity',
  'message',
  'actorId',
  'actorType',
  'actorName',
  'targetType',
  'targetId',
  'targetName',
  'tenantId',
  'ip',
  'userAgent',
  'sessionId',
  'durationMs',
] as const;

/** Resolves a column name (canonical field, dimension, metric, or `data`) to a CSV column. @internal */
export function csvColumn(name: string, timeZone: string, timeFormat: string): CsvColumn | null {
  switch (name) {
    case 'time': {
      if (timeFormat === DEFAULT_TIME_FORMAT) {
        const iso = createIsoFormatter(timeZone, { millis: true });
        return { header: 'time', value: (e) => iso(e.time) };
      }
      return { header: 'time', value: (e) => format(new TZDate(e.time, timeZone), timeFormat) };
    }
    case 'actorId':
      return { header: name, value: (e) => e.actor.id };
    case 'actorType':
      return { header: name, value: (e) => e.actor.type };
    case 'actorName':
      return { header: name, value: (e) => e.actor.name };
    case 'targetType':
      return { header: name, value: (e) => e.target.type };
    case 'targetId':
      return { header: name, value: (e) => e.target.id };
    case 'targetName':
      return { header: name, value: (e) => e.target.name };
    case 'data':
      return { header: name, value: (e) => (e.data === undefined ? null : JSON.stringify(e.data)) };
    default:
      if ((DEFAULT_CSV_FIELDS as readonly string[]).includes(name)) {
        return { header: name, value: (e) => (e as unknown as Record<string, unknown>)[name] };
      }
      return null;
  }
}

/**
 * Joins cells into one CRLF-terminated CSV record, each cell through {@link csvCell}.
 *
 * @example
 * ```ts
 * import { csvLine } from '@eventlog/core';
 * csvLine(['a,b', 1, null]); // '"a,b",1,\r\n'
 * ```
 */
export function csvLine(cells: readonly unknown[]): string {
  return `${cells.map(csvCell).join(',')}\r\n`;
}
