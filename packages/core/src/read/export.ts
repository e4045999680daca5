import { z } from 'zod';
import { type LogCore, parseInput, type Scope } from '../core.js';
import { ValidationError } from '../errors.js';
import { csvLine, csvPieces, csvRowColumn, DEFAULT_CSV_FIELDS, DEFAULT_TIME_FORMAT, type RowCsvColumn } from '../export/csv.js';
import { type FilterInput, isEmptySelection } from '../filter/filter.js';
import { rowToEvent, type StoredEvent } from '../schema/event.js';
import { isValidTimeZone } from '../stats/timeline.js';
import type { EventStore, StoredRow } from '../storage/contract.js';
import type { ExportColumn, ExportInput, ReadOptions } from '../types.js';
import { guardRead, signalOf, throwIfAborted } from './abort.js';

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
 * Streamed CSV export over a scope: the rows of one streamed store query (`store.stream`), or else
 * keyset pages of stored rows, each batch turned into CSV pieces before the consumer sees any, so
 * memory stays constant. Input is validated when called; the store is read, and a closed log
 * rejects, when iterated. @internal
 */
export function createExport(core: LogCore) {
  const { registry } = core;
  return function exportCsv(scope: Scope, input: ExportInput = {}, transform?: RowTransform, options?: ReadOptions): AsyncIterable<string> {
    const q = parseInput(schema, input);
    const signal = signalOf(options);
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
    const find = { where, orderBy: { column: 'time', direction }, ...(stored ? { columns: stored } : {}), signal } as const;
    // Rows stay inside the batch step: only their CSV pieces live across the consumer's awaits.
    const piecesOf = (rows: StoredRow[]) => {
      if (transform) for (const row of rows) transform(row);
      return csvPieces(columns, rows);
    };

    /** Keyset pages of `batchSize` rows through `find`, for stores without `stream`. */
    async function* paged(): AsyncGenerator<string[]> {
      let after: { value: number; id: number } | undefined;
      let written = 0;
      while (written < maxRows) {
        const limit = Math.min(batchSize, maxRows - written);
        const rows = await guardRead(core, 'find', signal, () => core.store.find({ ...find, limit, ...(after ? { after } : {}) }));
        const last = rows[rows.length - 1];
        if (last) after = { value: Number(last.time), id: Number(last.id) };
        written += rows.length;
        yield piecesOf(rows);
        if (rows.length < limit) return;
      }
    }

    /** One query the store streams, pulled a batch at a time. */
    async function* streamed(stream: NonNullable<EventStore['stream']>): AsyncGenerator<string[]> {
      const limit = Number.isFinite(maxRows) ? { limit: Math.max(0, Math.floor(maxRows)) } : {};
      if (limit.limit === 0) return;
      const iterator = stream.call(core.store, { ...find, ...limit, batchSize })[Symbol.asyncIterator]();
      let finished = false;
      try {
        for (;;) {
          const next = await guardRead(core, 'stream', signal, () => iterator.next(), false);
          if (next.done) {
            finished = true;
            return;
          }
          yield piecesOf(next.value);
        }
      } finally {
        // Stopped early (consumer gone, aborted, failed): release the query. After an abort the
        // store may still be busy with the batch it was reading, so that is not waited for.
        if (!finished) {
          const released = iterator.return?.();
          if (signal?.aborted) released?.catch(() => undefined);
          else await released?.catch(() => undefined);
        }
      }
    }

    return {
      async *[Symbol.asyncIterator]() {
        core.assertOpen();
        throwIfAborted(signal, 'export');
        if (q.header) yield csvLine(columns.map((c) => c.header));
        await core.ready();
        if (isEmptySelection(where)) return;
        const stream = core.store.stream;
        for await (const pieces of stream ? streamed(stream) : paged()) {
          // Between chunks on every engine, whether or not the store cancels its query.
          throwIfAborted(signal, 'export');
          for (const piece of pieces) yield piece;
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
