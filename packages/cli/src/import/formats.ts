import type { EventInput } from '@eventlog/core';
import { httpRequestEvent } from '../http-events.js';

/** The formats `eventlog import` reads. */
export const IMPORT_FORMATS = ['jsonl', 'csv', 'combined', 'squid'] as const;
/** One of {@link IMPORT_FORMATS}. */
export type ImportFormat = (typeof IMPORT_FORMATS)[number];

/** What parsing one line gave: an event, nothing yet (a CSV record continues), nothing at all (a header), or why it was rejected. */
export type ParseResult = { event: EventInput } | { pending: true } | { skip: true } | { error: string };

/** Turns lines of one input into events; stateful for CSV (its header, records spanning lines). */
export interface LineParser {
  readonly format: ImportFormat;
  parse(line: string): ParseResult;
  /** Called at the end of the input: an unfinished record is an error. */
  finish(): { error: string } | null;
}

/** Options that shape the events of access-log formats. */
export interface ParserOptions {
  /** Tenant stored on every imported HTTP request. */
  tenantId?: string;
  /** Host name prefixed to request paths of web-server (combined) logs, e.g. `www.example.com`. */
  vhost?: string;
  /** Names of declared dimensions and metrics, so CSV columns map onto them. */
  dimensions: ReadonlyMap<string, 'string' | 'integer'>;
  metrics: ReadonlySet<string>;
}

const COMBINED =
  /^(\S+) (\S+) (\S+) \[([^\]]+)\] "((?:[^"\\]|\\.)*)" (\d{3}|-) (\d+|-)(?: "((?:[^"\\]|\\.)*)" "((?:[^"\\]|\\.)*)")?(?:\s.*)?$/;
const SQUID =
  /^(\d{9,}(?:\.\d+)?)\s+(-?\d+)\s+(\S+)\s+([A-Z_]+|NONE|-)\/(\d{3}|-?\d+)\s+(\d+)\s+(\S+)\s+(\S+)(?:\s+(\S+))?(?:\s+(\S+))?(?:\s+(\S+))?\s*$/;
const MONTHS: Record<string, number> = { Jan: 0, Feb: 1, Mar: 2, Apr: 3, May: 4, Jun: 5, Jul: 6, Aug: 7, Sep: 8, Oct: 9, Nov: 10, Dec: 11 };
const CLF_TIME = /^(\d{2})\/([A-Z][a-z]{2})\/(\d{4}):(\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})$/;

/**
 * Guesses the format from the first non-empty line of an input; null when nothing fits.
 *
 * @example
 * ```ts
 * import { detectFormat } from '@eventlog/cli';
 * detectFormat('1286536309.450 1 192.168.0.68 TCP_MISS/200 507 GET http://example.com/ - DIRECT/93.184.216.34 text/html'); // 'squid'
 * ```
 */
export function detectFormat(firstLine: string): ImportFormat | null {
  const line = firstLine.replace(/^\uFEFF/, '').trim();
  if (line.startsWith('{')) return 'jsonl';
  if (SQUID.test(line)) return 'squid';
  if (COMBINED.test(line)) return 'combined';
  const header = line.split(',').map((c) => c.replace(/^"|"$/g, '').trim());
  if (header.includes('type') && (header.includes('time') || header.includes('id'))) return 'csv';
  return null;
}

/** Epoch ms of a common-log-format time `10/Oct/2000:13:55:36 -0700`, or NaN. */
export function parseClfTime(text: string): number {
  // Consecutive lines of a busy log mostly share their second: one parse serves them all.
  if (text === lastClf.text) return lastClf.ms;
  const ms = parseClfTimeUncached(text);
  lastClf.text = text;
  lastClf.ms = ms;
  return ms;
}

const lastClf = { text: '', ms: Number.NaN };

function parseClfTimeUncached(text: string): number {
  const m = CLF_TIME.exec(text);
  if (!m) return Number.NaN;
  const month = MONTHS[m[2]!];
  if (month === undefined) return Number.NaN;
  const utc = Date.UTC(Number(m[3]), month, Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6]));
  const offset = (Number(m[8]) * 60 + Number(m[9])) * 60_000;
  return m[7] === '+' ? utc - offset : utc + offset;
}

const unquote = (text: string) => (text.includes('\\') ? text.replace(/\\(["\\])/g, '$1') : text);
const dash = (text: string | undefined) => (text === undefined || text === '-' || text === '' ? null : text);

/** A combined (or common) log line → an HTTP-request event. */
function combinedEvent(line: string, options: ParserOptions): ParseResult {
  const m = COMBINED.exec(line);
  if (!m) return { error: 'not a combined/common log line' };
  const time = parseClfTime(m[4]!);
  if (Number.isNaN(time)) return { error: `bad time "${m[4]}"` };
  const request = unquote(m[5]!);
  const parts = /^([A-Za-z]+) (\S+)(?: (HTTP\/[\d.]+))?$/.exec(request);
  if (!parts) return { error: `request "${request.slice(0, 80)}" is not METHOD TARGET PROTOCOL` };
  const target = parts[2]!;
  const absolute = /^[a-z][a-z0-9+.-]*:\/\//i.test(target);
  const destination = absolute || !options.vhost || !target.startsWith('/') ? target : `${options.vhost}${target}`;
  const status = m[6] === '-' ? 0 : Number(m[6]);
  const event = httpRequestEvent({
    time,
    clientIp: m[1]!,
    method: parts[1]!,
    destination,
    path: absolute ? null : target,
    status,
    bytes: m[7] === '-' ? 0 : Number(m[7]),
    userAgent: dash(m[9] === undefined ? undefined : unquote(m[9])),
    tenantId: options.tenantId ?? null,
  }) as EventInput;
  const user = dash(m[3]);
  if (user) event.actor = { id: user.slice(0, 128), type: 'user' };
  const referer = dash(m[8] === undefined ? undefined : unquote(m[8]));
  if (referer) event.data = { ...(event.data as object | undefined), referer: referer.slice(0, 2048) };
  return { event };
}

/** A Squid native access.log line → an HTTP-request event. */
function squidEvent(line: string, options: ParserOptions): ParseResult {
  const m = SQUID.exec(line.trim());
  if (!m) return { error: 'not a Squid native access.log line' };
  const time = Math.round(Number(m[1]) * 1000);
  const resultCode = m[4]!;
  const event = httpRequestEvent({
    time,
    durationMs: Math.max(0, Number(m[2])),
    clientIp: m[3]!,
    status: `${resultCode}/${m[5]}`,
    bytes: Number(m[6]),
    method: m[7]!,
    destination: m[8]!,
    ...(resultCode.includes('DENIED') ? { outcome: 'DENIED' } : {}),
    tenantId: options.tenantId ?? null,
  }) as EventInput;
  const user = dash(m[9]);
  if (user) event.actor = { id: user.slice(0, 128), type: 'user' };
  const hierarchy = dash(m[10]);
  const contentType = dash(m[11]);
  if (hierarchy || contentType) {
    event.data = {
      ...(event.data as object | undefined),
      ...(hierarchy ? { hierarchy: hierarchy.slice(0, 512) } : {}),
      ...(contentType ? { contentType: contentType.slice(0, 255) } : {}),
    };
  }
  return { event };
}

const EVENT_KEYS = new Set([
  'type',
  'time',
  'category',
  'action',
  'outcome',
  'severity',
  'message',
  'actor',
  'target',
  'tenantId',
  'ip',
  'userAgent',
  'sessionId',
  'durationMs',
  'dimensions',
  'metrics',
  'data',
]);

const withoutNulls = (record: unknown): Record<string, string | number> | undefined => {
  if (record === null || typeof record !== 'object') return undefined;
  const entries = Object.entries(record as Record<string, unknown>).filter(([, v]) => v !== null && v !== undefined);
  return entries.length > 0 ? (Object.fromEntries(entries) as Record<string, string | number>) : undefined;
};

/** A JSONL line (an event as `record()` takes it, or as `export --format jsonl` writes it) → an event. */
function jsonEvent(line: string): ParseResult {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    return { error: `invalid JSON: ${error instanceof Error ? error.message : String(error)}` };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { error: 'not a JSON object' };
  const input = value as Record<string, unknown>;
  if (typeof input.type !== 'string') return { error: 'has no "type"' };
  const event: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(input)) {
    // `id` is the source store's; the target store assigns its own.
    if (key === 'id') continue;
    if (!EVENT_KEYS.has(key)) return { error: `unknown field "${key}"` };
    if (v === null) continue;
    event[key] = v;
  }
  if (typeof event.time === 'string') {
    const time = Date.parse(event.time);
    if (Number.isNaN(time)) return { error: `bad time "${event.time}"` };
    event.time = time;
  }
  for (const key of ['dimensions', 'metrics'] as const) {
    if (key in event) {
      const cleaned = withoutNulls(event[key]);
      if (cleaned) event[key] = cleaned;
      else delete event[key];
    }
  }
  for (const key of ['actor', 'target'] as const) {
    if (key in event) {
      const cleaned = withoutNulls(event[key]);
      if (cleaned) event[key] = cleaned;
      else delete event[key];
    }
  }
  return { event: event as unknown as EventInput };
}

/** Splits one CSV record (RFC 4180); null when a quoted cell is still open at the end. */
export function splitCsv(text: string): string[] | null {
  const cells: string[] = [];
  let i = 0;
  for (;;) {
    if (text[i] === '"') {
      let cell = '';
      i++;
      for (;;) {
        const q = text.indexOf('"', i);
        if (q < 0) return null;
        cell += text.slice(i, q);
        if (text[q + 1] === '"') {
          cell += '"';
          i = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
      cells.push(cell);
    } else {
      const comma = text.indexOf(',', i);
      cells.push(text.slice(i, comma < 0 ? text.length : comma));
      i = comma < 0 ? text.length : comma;
    }
    if (i >= text.length) return cells;
    if (text[i] !== ',') return null;
    i++;
    if (i === text.length) {
      cells.push('');
      return cells;
    }
  }
}

// Exports prefix cells that a spreadsheet would run as formulas with `'`; importing undoes it.
const FORMULA_GUARD = /^'[=+\-@\t\r]/;
const uncell = (cell: string) => (FORMULA_GUARD.test(cell) ? cell.slice(1) : cell);

const ACTOR_TARGET: Record<string, ['actor' | 'target', 'id' | 'type' | 'name']> = {
  actorId: ['actor', 'id'],
  actorType: ['actor', 'type'],
  actorName: ['actor', 'name'],
  targetType: ['target', 'type'],
  targetId: ['target', 'id'],
  targetName: ['target', 'name'],
};
const TEXT_FIELDS = new Set(['type', 'category', 'action', 'outcome', 'severity', 'message', 'tenantId', 'ip', 'userAgent', 'sessionId']);

/** Parses the CSV that `eventlog export` writes (a header row naming fields, dimensions and metrics). */
function createCsvParser(options: ParserOptions): LineParser {
  let header: string[] | null = null;
  let pending: string | null = null;
  const toEvent = (cells: string[]): ParseResult => {
    const cols = header!;
    if (cells.length !== cols.length) return { error: `has ${cells.length} cells, the header has ${cols.length}` };
    const event: Record<string, unknown> = {};
    const dimensions: Record<string, string | number> = {};
    const metrics: Record<string, number> = {};
    for (let i = 0; i < cols.length; i++) {
      const name = cols[i]!;
      const raw = cells[i]!;
      if (raw === '' || name === 'id') continue;
      const value = uncell(raw);
      if (name === 'time') {
        const time = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
        if (Number.isNaN(time)) return { error: `bad time "${value}"` };
        event.time = time;
      } else if (name === 'durationMs') {
        const n = Number(value);
        if (!Number.isFinite(n)) return { error: `durationMs "${value}" is not a number` };
        event.durationMs = n;
      } else if (name === 'data') {
        try {
          event.data = JSON.parse(value);
        } catch {
          return { error: 'data is not JSON' };
        }
      } else if (ACTOR_TARGET[name]) {
        const [obj, key] = ACTOR_TARGET[name]!;
        const holder = (event[obj] ?? {}) as Record<string, string>;
        holder[key] = value;
        event[obj] = holder;
      } else if (TEXT_FIELDS.has(name)) {
        event[name] = value;
      } else if (options.dimensions.has(name)) {
        if (options.dimensions.get(name) === 'integer') {
          const n = Number(value);
          if (!Number.isInteger(n)) return { error: `dimension ${name} "${value}" is not a whole number` };
          dimensions[name] = n;
        } else dimensions[name] = value;
      } else if (options.metrics.has(name)) {
        const n = Number(value);
        if (!Number.isFinite(n)) return { error: `metric ${name} "${value}" is not a number` };
        metrics[name] = n;
      }
    }
    if (typeof event.type !== 'string') return { error: 'has no type' };
    if (Object.keys(dimensions).length > 0) event.dimensions = dimensions;
    if (Object.keys(metrics).length > 0) event.metrics = metrics;
    return { event: event as unknown as EventInput };
  };
  return {
    format: 'csv',
    parse(line) {
      const text = pending === null ? line : `${pending}\n${line}`;
      const cells = splitCsv(text);
      if (cells === null) {
        // An open quote: the record continues on the next line (a message with a newline).
        if (text.length > 1_048_576) {
          pending = null;
          return { error: 'quoted cell longer than 1 MB (unbalanced quotes?)' };
        }
        pending = text;
        return { pending: true };
      }
      pending = null;
      if (header === null) {
        header = cells.map((c, i) => (i === 0 ? c.replace(/^\uFEFF/, '') : c).trim());
        const unknown = header.filter(
          (h) =>
            !['id', 'time', 'durationMs', 'data'].includes(h) &&
            !ACTOR_TARGET[h] &&
            !TEXT_FIELDS.has(h) &&
            !options.dimensions.has(h) &&
            !options.metrics.has(h),
        );
        if (!header.includes('type')) return { error: 'the header row has no "type" column' };
        if (unknown.length > 0) return { error: `unknown columns ${unknown.join(', ')} (declare them in eventlog.config.ts)` };
        return { skip: true };
      }
      return toEvent(cells);
    },
    finish() {
      if (pending !== null) {
        pending = null;
        return { error: 'the last record ends inside a quoted cell (truncated file?)' };
      }
      return null;
    },
  };
}

/**
 * Creates the parser of one input in `format`.
 *
 * @example
 * ```ts
 * import { createLineParser } from '@eventlog/cli';
 * const parser = createLineParser('combined', { dimensions: new Map(), metrics: new Set() });
 * parser.parse('203.0.113.9 - - [10/Oct/2026:13:55:36 +0000] "GET /a.png HTTP/1.1" 200 2326 "-" "curl/8.5.0"');
 * ```
 */
export function createLineParser(format: ImportFormat, options: ParserOptions): LineParser {
  switch (format) {
    case 'csv':
      return createCsvParser(options);
    case 'jsonl':
      return { format, parse: jsonEvent, finish: () => null };
    case 'combined':
      return { format, parse: (line) => combinedEvent(line, options), finish: () => null };
    case 'squid':
      return { format, parse: (line) => squidEvent(line, options), finish: () => null };
  }
}
