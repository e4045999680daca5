import { TZDate } from '@date-fns/tz';
import { format } from 'date-fns';
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
  /** The stored column it reads. */
  column: string;
  value: (row: StoredRow) => unknown;
}

/** What resolving export columns needs. @internal */
export interface CsvContext {
  registry: Registry;
  timeZone: string;
  timeFormat: string;
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
      return { header: name, column: 'id', value: (r) => numeric(r.id) };
    case 'time': {
      if (context.timeFormat === DEFAULT_TIME_FORMAT) {
        const iso = createIsoFormatter(context.timeZone, { millis: true });
        return { header: name, column: 'time', value: (r) => iso(Number(r.time)) };
      }
      const { timeZone, timeFormat } = context;
      return { header: name, column: 'time', value: (r) => format(new TZDate(Number(r.time), timeZone), timeFormat) };
    }
    case 'durationMs':
      return { header: name, column: 'duration_ms', value: (r) => numeric(r.duration_ms) };
    case 'message':
      return { header: name, column: 'message', value: (r) => text(r.message) };
    case 'ip':
      return { header: name, column: 'ip', value: (r) => text(r.ip) };
    case 'data':
      // Stored JSON text is written as it is; drivers that parse JSON columns get it serialised again.
      return {
        header: name,
        column: 'data',
        value: (r) => (r.data === null || r.data === undefined ? null : typeof r.data === 'string' ? r.data : JSON.stringify(r.data)),
      };
  }
  const field = STRING_FIELDS.find((f) => f.field === name);
  if (field) {
    const column = field.column;
    return { header: name, column, value: (r) => text(r[column]) };
  }
  const dimension = context.registry.dimensions.get(name);
  if (dimension) {
    return { header: name, column: name, value: dimension.type === 'integer' ? (r) => numeric(r[name]) : (r) => text(r[name]) };
  }
  if (context.registry.metrics.has(name)) return { header: name, column: name, value: (r) => numeric(r[name]) };
  return null;
}

/**
 * Writes a stored row as one CSV record of the given columns. Cells are joined from an array rather
 * than appended one by one: that allocates one flat string instead of a rope of two nodes per cell.
 * @internal
 */
export function csvRowLine(columns: readonly RowCsvColumn[], row: StoredRow): string {
  if (columns.length === 0) return '\r\n';
  const cells = new Array<string>(columns.length);
  for (let i = 0; i < columns.length; i++) cells[i] = csvCell((columns[i] as RowCsvColumn).value(row));
  cells[columns.length - 1] += '\r\n';
  return cells.join(',');
}

/** Size of the pieces an export yields, in characters (a stream's default high-water mark). */
const PIECE_CHARS = 16 * 1024;

/**
 * Turns a page of stored rows into CSV pieces of about 16 KB, all at once, so that the rows are
 * garbage before the first piece is handed out. Rows kept alive across the consumer's awaits
 * survive young-generation collections and make V8 grow its heap, and one string per page peaks
 * higher than small pieces (docs/benchmarks.md, export, has the measurements).
 * @internal
 */
export function csvPieces(columns: readonly RowCsvColumn[], rows: readonly StoredRow[]): string[] {
  const pieces: string[] = [];
  let lines: string[] = [];
  let size = 0;
  for (const row of rows) {
    const line = csvRowLine(columns, row);
    lines.push(line);
    size += line.length;
    if (size >= PIECE_CHARS) {
      pieces.push(lines.join(''));
      lines = [];
      size = 0;
    }
  }
  if (lines.length > 0) pieces.push(lines.join(''));
  return pieces;
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
