import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { DEFAULT_CSV_FIELDS, type FilterInput, type StoredEvent } from '@eventlog/core';
import type { CliContext } from '../context.js';
import { UsageError } from '../errors.js';
import { bar, eventLine, isoInZone, printable, table } from '../format.js';
import { createProgress, type ProgressMode } from '../progress.js';

/** Writes to a stream, waiting when it is full (back-pressure keeps memory constant). */
async function write(out: Writable, chunk: string): Promise<void> {
  if (!out.write(chunk)) await once(out, 'drain');
}

/** Options of {@link exportEvents}. */
export interface ExportOptions {
  filter: FilterInput;
  format: 'csv' | 'jsonl';
  /** A file path; stdout when absent or `-`. */
  output?: string;
  timeZone: string;
  columns?: string[];
  order: 'asc' | 'desc';
  progress: ProgressMode;
  signal: AbortSignal;
}

/** Streams the matching events to CSV or JSON lines; returns how many were written. */
export async function exportEvents(ctx: CliContext, options: ExportOptions): Promise<{ rows: number; interrupted: boolean }> {
  const { log } = ctx;
  const total = await log.count(options.filter);
  const toFile = options.output !== undefined && options.output !== '-';
  const out: Writable = toFile ? createWriteStream(options.output!) : process.stdout;
  const progress = createProgress({ label: 'export', unit: 'count', total, mode: options.progress });
  let rows = 0;
  try {
    if (options.format === 'csv') {
      const columns = options.columns ?? [
        ...DEFAULT_CSV_FIELDS,
        ...ctx.dimensions.map((d) => d.name),
        ...ctx.metrics.map((m) => m.name),
        'data',
      ];
      let header = true;
      for await (const piece of log.exportCsv({ filter: options.filter, columns, timeZone: options.timeZone, order: options.order })) {
        if (options.signal.aborted) break;
        await write(out, piece);
        // Rows end in CRLF; a quoted cell can hold one too, so this count is for the progress display only.
        let n = 0;
        for (let i = piece.indexOf('\r\n'); i >= 0; i = piece.indexOf('\r\n', i + 2)) n++;
        if (header && n > 0) {
          header = false;
          n--;
        }
        rows += n;
        progress.update(Math.min(rows, total));
      }
      rows = Math.min(rows, total);
    } else {
      let cursor: string | null = null;
      do {
        if (options.signal.aborted) break;
        const page: { items: StoredEvent[]; nextCursor: string | null } = await log.query({
          filter: options.filter,
          sort: { field: 'time', direction: options.order },
          limit: 500,
          cursor,
        });
        let chunk = '';
        for (const event of page.items) chunk += `${JSON.stringify({ ...event, time: isoInZone(event.time, options.timeZone) })}\n`;
        await write(out, chunk);
        rows += page.items.length;
        progress.update(rows);
        cursor = page.nextCursor;
      } while (cursor);
    }
  } finally {
    progress.stop();
    if (toFile) {
      out.end();
      await once(out, 'finish');
    }
  }
  return { rows, interrupted: options.signal.aborted };
}

/** Prints count, RPM, TPM and metric sums. */
export async function printStats(ctx: CliContext, filter: FilterInput, json: boolean): Promise<string> {
  const stats = await ctx.log.stats(filter);
  if (json) return JSON.stringify(stats);
  const rows: [string, number][] = [
    ['events', stats.count],
    ['rpm (last 60 s)', stats.rpm],
    ['tpm (last 60 s)', stats.tpm],
  ];
  for (const [name, sum] of Object.entries(stats.sums)) if (sum !== 0) rows.push([`sum ${name}`, sum]);
  return table(['stat', 'value'], rows);
}

/** Prints the top values of a field or dimension. */
export async function printTop(
  ctx: CliContext,
  input: { by: string; filter: FilterInput; limit: number; orderBy?: string },
  json: boolean,
): Promise<string> {
  const rows = await ctx.log.top({
    by: input.by,
    filter: input.filter,
    limit: input.limit,
    ...(input.orderBy ? { orderBy: input.orderBy } : {}),
  });
  if (json) return JSON.stringify(rows);
  if (rows.length === 0) return 'No events match.';
  const metric = input.orderBy && input.orderBy !== 'count' ? input.orderBy : null;
  const max = Math.max(...rows.map((r) => (metric ? (r.sums[metric] ?? 0) : r.count)));
  const width = 30;
  return table(
    [input.by, 'count', ...(metric ? [metric] : []), ''],
    rows.map((r) => [
      printable(String(r.value ?? '(none)')),
      r.count,
      ...(metric ? [r.sums[metric] ?? 0] : []),
      bar(metric ? (r.sums[metric] ?? 0) : r.count, max, width),
    ]),
  );
}

/** Prints a timeline as a bar chart of block characters, one bucket a line. */
export async function printTimeline(
  ctx: CliContext,
  input: { filter: FilterInput; bucket: 'minute' | 'hour' | 'day'; timeZone: string; metric?: string; width: number },
  json: boolean,
): Promise<string> {
  const timeline = await ctx.log.timeline({
    filter: input.filter,
    bucket: input.bucket,
    timeZone: input.timeZone,
    metrics: input.metric ? [input.metric] : [],
  });
  if (json) return JSON.stringify(timeline);
  if (timeline.points.length === 0) return 'No buckets in that range.';
  const value = (p: (typeof timeline.points)[number]) => (input.metric ? (p.sums[input.metric] ?? 0) : p.count);
  const max = Math.max(...timeline.points.map(value));
  const label = (l: string) => (input.bucket === 'day' ? l.slice(0, 10) : l.slice(0, 16).replace('T', ' '));
  const numbers = timeline.points.map((p) => value(p).toLocaleString('en-US'));
  const numberWidth = Math.max(...numbers.map((n) => n.length));
  const lines = timeline.points.map(
    (p, i) => `${label(p.label)}  ${numbers[i]!.padStart(numberWidth)}  ${bar(value(p), max, input.width)}`,
  );
  const total = timeline.points.reduce((s, p) => s + value(p), 0);
  lines.push(
    `${input.metric ?? 'events'} per ${input.bucket} (${timeline.timeZone}); total ${total.toLocaleString('en-US')}, peak ${max.toLocaleString('en-US')}`,
  );
  return lines.join('\n');
}

/** Options of {@link tailEvents}. */
export interface TailOptions {
  filter: FilterInput;
  intervalMs: number;
  /** Show this many recent events first. @default 0 */
  last: number;
  /** Stop after this many events. */
  max?: number;
  json: boolean;
  timeZone: string;
  signal: AbortSignal;
  print: (line: string) => void;
}

const ID_WINDOW = 500;

/**
 * Follows new events by polling: it remembers the highest id seen and asks for the next ids in
 * windows of 500 ids, so it works across processes (another app writing) without the
 * in-process subscription, and each poll is an indexed primary-key lookup.
 */
export async function tailEvents(ctx: CliContext, options: TailOptions): Promise<number> {
  const { log } = ctx;
  const newestId = async () => {
    const page = await log.query({ sort: { field: 'id', direction: 'desc' }, limit: 1 });
    return page.items[0]?.id ?? 0;
  };
  let shown = 0;
  const show = (event: StoredEvent) => {
    options.print(options.json ? JSON.stringify(event) : eventLine(event, options.timeZone));
    shown++;
  };
  let cursor = await newestId();
  if (options.last > 0) {
    const recent = await log.query({
      filter: options.filter,
      sort: { field: 'id', direction: 'desc' },
      limit: Math.min(options.last, 1000),
    });
    for (const event of recent.items.reverse()) show(event);
  }
  while (!options.signal.aborted && (options.max === undefined || shown < options.max)) {
    const newest = await newestId();
    while (cursor < newest && !options.signal.aborted) {
      const high = Math.min(cursor + ID_WINDOW, newest);
      const ids = Array.from({ length: high - cursor }, (_, i) => cursor + 1 + i);
      const page = await log.query({ filter: { ...options.filter, id: ids }, sort: { field: 'id', direction: 'asc' }, limit: ID_WINDOW });
      for (const event of page.items) {
        show(event);
        if (options.max !== undefined && shown >= options.max) return shown;
      }
      cursor = high;
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, options.intervalMs);
      options.signal.addEventListener(
        'abort',
        () => {
          clearTimeout(timer);
          resolve();
        },
        { once: true },
      );
    });
  }
  return shown;
}

/** Checks a `--bucket` value. */
export function parseBucket(value: string): 'minute' | 'hour' | 'day' {
  if (value !== 'minute' && value !== 'hour' && value !== 'day') throw new UsageError(`--bucket: "${value}" must be minute, hour or day.`);
  return value;
}
