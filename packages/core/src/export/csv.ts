import { TZDate } from '@date-fns/tz';
import { format } from 'date-fns';
import { maskIp } from '../privacy/mask-ip.js';
import { STRING_FIELDS } from '../schema/fields.js';
import type { Registry } from '../schema/registry.js';
import type { StoredRow } from '../storage/contract.js';
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

/** A CSV column read straight from a stored row: exports never build events. @internal */
export interface RowCsvColumn {
  header: string;
  value: (row: StoredRow) => unknown;
}

/** What resolving export columns needs. @internal */
export interface CsvContext {
  registry: Registry;
  timeZone: string;
  timeFormat: string;
  maskIp: boolean;
}

const text = (value: unknown): string | null => (value === null || value === undefined ? null : String(value));
const numeric = (value: unknown): number | null => (value === null || value === undefined ? null : Number(value));

/**
 * Resolves a column name (canonical field, dimension, metric, or `data`) to a CSV column that reads
 * the stored row, converting values as `query()` would; null when the name is unknown.
 * @internal
 */
export function csvRowColumn(name: string, context: CsvContext): RowCsvColumn | null {
  switch (name) {
    case 'id':
      return { header: name, value: (r) => numeric(r.id) };
    case 'time': {
      if (context.timeFormat === DEFAULT_TIME_FORMAT) {
        const iso = createIsoFormatter(context.timeZone, { millis: true });
        return { header: name, value: (r) => iso(Number(r.time)) };
      }
      const { timeZone, timeFormat } = context;
      return { header: name, value: (r) => format(new TZDate(Number(r.time), timeZone), timeFormat) };
    }
    case 'durationMs':
      return { header: name, value: (r) => numeric(r.duration_ms) };
    case 'message':
      return { header: name, value: (r) => text(r.message) };
    case 'ip':
      return context.maskIp ? { header: name, value: (r) => maskIp(text(r.ip)) } : { header: name, value: (r) => text(r.ip) };
    case 'data':
      // Stored JSON text is written as it is; drivers that parse JSON columns get it serialised again.
      return {
        header: name,
        value: (r) => (r.data === null || r.data === undefined ? null : typeof r.data === 'string' ? r.data : JSON.stringify(r.data)),
      };
  }
  const field = STRING_FIELDS.find((f) => f.field === name);
  if (field) {
    const column = field.column;
    return { header: name, value: (r) => text(r[column]) };
  }
  const dimension = context.registry.dimensions.get(name);
  if (dimension) {
    return dimension.type === 'integer' ? { header: name, value: (r) => numeric(r[name]) } : { header: name, value: (r) => text(r[name]) };
  }
  if (context.registry.metrics.has(name)) return { header: name, value: (r) => numeric(r[name]) };
  return null;
}

/** Writes a stored row as one CSV record of the given columns. @internal */
export function csvRowLine(columns: readonly RowCsvColumn[], row: StoredRow): string {
  let line = '';
  for (let i = 0; i < columns.length; i++) {
    if (i > 0) line += ',';
    line += csvCell((columns[i] as RowCsvColumn).value(row));
  }
  return `${line}\r\n`;
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
