import { z } from 'zod';
import { type LogCore, parseInput, type Scope } from '../core.js';
import { ValidationError } from '../errors.js';
import { csvLine, csvPieces, csvRowColumn, DEFAULT_CSV_FIELDS, DEFAULT_TIME_FORMAT, type RowCsvColumn } from '../export/csv.js';
import { type FilterInput, isEmptySelection } from '../filter/filter.js';
import { rowToEvent, type StoredEvent } from '../schema/event.js';
import { isValidTimeZone } from '../stats/timeline.js';
import type { StoredRow } from '../storage/contract.js';
import type { ExportColumn, ExportInput } from '../types.js';

const BATCH_MESSAGE = 'must be a whole number from 1 to 50000';

const columnSchema = z.union(
  [
    z.string(),
    z.object({
      header: z.string('must be a string'),
      value: z.custom<ExportColumn['value']>((v) => typeof v === 'function', 'must be a function'),
    }),
  ],
  'must be a column name or { header, value }',
);

const schema = z.object({
  filter: z.unknown().optional(),
  columns: z.array(columnSchema, 'must be a list of columns').optional(),
  timeZone: z
    .string('is not an IANA time zone')
    .refine(isValidTimeZone, 'is not an IANA time zone')
    .nullish()
    .transform((v) => v ?? 'UTC'),
  timeFormat: z
    .string('must be a date-fns pattern')
    .nullish()
    .transform((v) => v ?? DEFAULT_TIME_FORMAT),
  header: z
    .boolean('must be true or false')
    .nullish()
    .transform((v) => v ?? true),
  order: z
    .enum(['asc', 'desc'], 'must be asc or desc')
    .nullish()
    .transform((v) => v ?? 'desc'),
  batchSize: z
    .number(BATCH_MESSAGE)
    .int(BATCH_MESSAGE)
    .min(1, BATCH_MESSAGE)
    .max(50_000, BATCH_MESSAGE)
    .nullish()
    .transform((v) => v ?? 500),
  maxRows: z
    .number('must be a number')
    .nullish()
    .transform((v) => v ?? Number.POSITIVE_INFINITY),
});

/**
 * How a view changes stored rows before any column reads them (IP masking). It may change the row
 * in place: each row is read once and then dropped. @internal
 */
export type RowTransform = (row: StoredRow) => void;

/**
 * Streamed CSV export over a scope: keyset pages of stored rows, each page turned into CSV pieces
 * before the consumer sees any, so memory stays constant. Input is validated when called; the
 * store is read, and a closed log rejects, when iterated. @internal
 */
export function createExport(core: LogCore) {
  const { registry } = core;
  return function exportCsv(scope: Scope, input: ExportInput = {}, transform?: RowTransform): AsyncIterable<string> {
    const q = parseInput(schema, input);
    const context = { registry, timeZone: q.timeZone, timeFormat: q.timeFormat };
    const names = q.columns ?? [...DEFAULT_CSV_FIELDS, ...registry.dimensions.keys(), ...registry.metrics.keys()];
    let mapped = false;
    const eventOf = lastEventOf(registry);
    const columns: RowCsvColumn[] = names.map((name) => {
      if (typeof name !== 'string') {
        mapped = true;
        return { header: name.header, column: '*', value: (row: StoredRow) => name.value(eventOf(row)) };
      }
      const column = csvRowColumn(name, context);
      if (column) return column;
      throw new ValidationError([{ path: ['columns'], message: `"${name}" is not an exportable column` }]);
    });
    // A mapping reads the whole event, so every column is fetched.
    const stored = mapped ? undefined : [...new Set(columns.map((c) => c.column))];
    const where = core.conditions(scope, q.filter as FilterInput | undefined);
    const { order: direction, batchSize, maxRows } = q;
    return {
      async *[Symbol.asyncIterator]() {
        core.assertOpen();
        if (q.header) yield csvLine(columns.map((c) => c.header));
        await core.ready();
        if (isEmptySelection(where)) return;
        let after: { value: number; id: number } | undefined;
        let written = 0;
        // Rows stay inside nextPage: only their CSV pieces live across the consumer's awaits.
        const nextPage = async (limit: number) => {
          const rows = await core.guard('find', () =>
            core.store.find({
              where,
              orderBy: { column: 'time', direction },
              limit,
              ...(stored ? { columns: stored } : {}),
              ...(after ? { after } : {}),
            }),
          );
          const last = rows[rows.length - 1];
          if (last) after = { value: Number(last.time), id: Number(last.id) };
          if (transform) for (const row of rows) transform(row);
          return { count: rows.length, pieces: csvPieces(columns, rows) };
        };
        while (written < maxRows) {
          const limit = Math.min(batchSize, maxRows - written);
          const page = await nextPage(limit);
          written += page.count;
          for (const piece of page.pieces) yield piece;
          if (page.count < limit) return;
        }
      },
    };
  };
}

/** Builds the event of a row once, however many mapping columns read it (rows are read in order). */
function lastEventOf(registry: LogCore['registry']): (row: StoredRow) => StoredEvent {
  let lastRow: StoredRow | undefined;
  let lastEvent: StoredEvent | undefined;
  return (row) => {
    if (row !== lastRow || !lastEvent) {
      lastRow = row;
      lastEvent = rowToEvent(row, registry);
    }
    return lastEvent;
  };
}
