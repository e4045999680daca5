import type { EventRow } from '../storage/contract.js';
import { DIMENSION_MAX_LENGTH } from './fields.js';
import { isWellFormed } from './payload.js';
import type { Registry } from './registry.js';

// A hand-written check of the event envelope (every field but `data`), run before zod on every
// recorded event. It accepts only inputs that the zod envelope schema in event.ts certainly
// accepts, and converts them the same way; anything else (including every invalid event, and text
// with a lone surrogate that needs repair) returns `undefined` and goes through zod, which then
// decides and words the issues. It writes the checked values straight into the event's row, in one
// pass over the input's keys and without a copy of the envelope, so the ingest path makes no
// garbage here (see docs/benchmarks.md). envelope.test.ts runs both paths on the same inputs and
// compares the results.

/** Marks a field value the fast check does not vouch for. */
const UNSURE: unique symbol = Symbol('unsure');

/** The event envelope after conversion by zod (numbers given for text fields become strings, Dates epoch ms). */
export type Envelope = Record<string, unknown> & {
  type: string;
  time?: number;
  actor?: Record<string, string | null | undefined> | null;
  target?: Record<string, string | null | undefined> | null;
  dimensions?: Record<string, unknown>;
  metrics?: Record<string, unknown>;
  data?: unknown;
};

/**
 * The fast check: fills `row` (whose columns are preset to `null`) from a valid input and returns
 * it, or returns `undefined` when zod must decide. On success `row.type` is the type, `row.time`
 * the given time in epoch ms (left as preset when none is given), `row.data` the input's `data`
 * value itself (not yet JSON), and columns without a given value keep their preset. Defaults
 * (category, severity, time) are not applied.
 */
export type FastEnvelope = (input: unknown, row?: EventRow) => EventRow | undefined;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * Optional text as stored: `null` for null or undefined, a well-formed string of at most `max`
 * UTF-16 units as is, a finite number as its string (when `numbers`); anything else is UNSURE.
 */
function text(v: unknown, max: number, numbers: boolean): string | null | typeof UNSURE {
  if (v === undefined || v === null) return null;
  if (typeof v === 'string') return v.length <= max && isWellFormed(v) ? v : UNSURE;
  if (numbers && typeof v === 'number' && Number.isFinite(v)) return String(v);
  return UNSURE;
}

/** Where a text field goes in the row, and its longest value. */
interface TextColumn {
  column: string;
  max: number;
}

/**
 * Builds the fast envelope check for a registry.
 * @internal
 */
export function createFastEnvelope(options: {
  registry: Registry;
  stringFields: readonly { field: string; column: string; maxLength: number }[];
  typePattern: RegExp;
  maxTime: number;
  maxMessage: number;
}): FastEnvelope {
  const { registry, maxTime, maxMessage, typePattern } = options;
  // Maps, not objects: keys like "toString" must not find Object.prototype.
  const flat = new Map<string, TextColumn>();
  for (const f of options.stringFields) if (f.field !== 'type') flat.set(f.field, { column: f.column, max: f.maxLength });
  const part = (field: string): TextColumn => flat.get(field) ?? { column: field, max: 0 };
  const actor = new Map([
    ['id', part('actorId')],
    ['type', part('actorType')],
    ['name', part('actorName')],
  ]);
  const target = new Map([
    ['type', part('targetType')],
    ['id', part('targetId')],
    ['name', part('targetName')],
  ]);
  /** Dimension name → whether it holds strings (else safe integers). */
  const dimensions = new Map([...registry.dimensions.values()].map((d) => [d.name, d.type === 'string']));
  /** Metric name → whether it holds integers (else finite numbers). */
  const metrics = new Map([...registry.metrics.values()].map((m) => [m.name, m.type === 'integer']));

  /** actor or target: nested values beat the flat fields (`actorId` …), unless they are null. */
  function nested(v: unknown, parts: Map<string, TextColumn>, row: EventRow): boolean {
    if (v === undefined || v === null) return true;
    if (!isPlainObject(v)) return false;
    for (const key in v) {
      const to = parts.get(key);
      if (to === undefined) return false;
      const value = text(v[key], to.max, true);
      if (value === UNSURE) return false;
      if (value !== null) row[to.column] = value;
    }
    return true;
  }

  function dimensionValues(v: unknown, row: EventRow): boolean {
    if (v === undefined) return true;
    if (!isPlainObject(v)) return false;
    for (const name in v) {
      const isString = dimensions.get(name);
      if (isString === undefined) return false;
      const d = v[name];
      if (isString) {
        const value = text(d, DIMENSION_MAX_LENGTH, true);
        if (value === UNSURE) return false;
        row[name] = value;
      } else if (d === undefined || d === null) row[name] = null;
      else if (typeof d === 'number' && Number.isSafeInteger(d)) row[name] = d;
      else return false;
    }
    return true;
  }

  function metricValues(v: unknown, row: EventRow): boolean {
    if (v === undefined) return true;
    if (!isPlainObject(v)) return false;
    for (const name in v) {
      const integer = metrics.get(name);
      if (integer === undefined) return false;
      const m = v[name];
      if (m === undefined || m === null) row[name] = null;
      else if (typeof m === 'number' && (integer ? Number.isSafeInteger(m) : Number.isFinite(m))) row[name] = m;
      else return false;
    }
    return true;
  }

  return (input, row = {}) => {
    if (!isPlainObject(input)) return undefined;
    let type: string | undefined;
    for (const key in input) {
      const v = input[key];
      switch (key) {
        case 'type':
          if (typeof v !== 'string' || !typePattern.test(v)) return undefined;
          type = v;
          break;
        case 'time': {
          if (v === undefined) break;
          const t = typeof v === 'number' ? v : v instanceof Date ? v.getTime() : Number.NaN;
          if (!(Number.isFinite(t) && t >= 0 && t <= maxTime)) return undefined;
          row.time = t;
          break;
        }
        case 'message': {
          const value = text(v, maxMessage, false);
          if (value === UNSURE) return undefined;
          row.message = value;
          break;
        }
        case 'durationMs':
          if (v === undefined || v === null) row.duration_ms = null;
          else if (typeof v === 'number' && Number.isFinite(v) && v >= 0) row.duration_ms = v;
          else return undefined;
          break;
        case 'actor':
          if (!nested(v, actor, row)) return undefined;
          break;
        case 'target':
          if (!nested(v, target, row)) return undefined;
          break;
        case 'dimensions':
          if (!dimensionValues(v, row)) return undefined;
          break;
        case 'metrics':
          if (!metricValues(v, row)) return undefined;
          break;
        case 'data':
          // Checked by the type's schema and the payload checks; JSON text replaces it later.
          row.data = v as EventRow[string];
          break;
        default: {
          const to = flat.get(key);
          if (to === undefined) return undefined;
          const value = text(v, to.max, true);
          if (value === UNSURE) return undefined;
          // A nested actor or target value, seen before or after, wins over the flat field.
          if (value !== null && (row[to.column] === null || row[to.column] === undefined)) row[to.column] = value;
        }
      }
    }
    if (type === undefined) return undefined;
    row.type = type;
    return row;
  };
}
