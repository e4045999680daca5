import { DIMENSION_MAX_LENGTH } from './fields.js';
import type { Registry } from './registry.js';

// A hand-written check of the event envelope (every field but `data`), run before zod on every
// recorded event. It accepts only inputs that the zod envelope schema in event.ts certainly
// accepts, and converts them the same way; anything else (including every invalid event) returns
// `undefined` and goes through zod, which then decides and words the issues. Checking by hand is
// several times cheaper than zod's object + union machinery on the ingest path (see
// docs/benchmarks.md); envelope.test.ts runs both on the same inputs and compares the results.

/** Marks a field value the fast check does not vouch for. */
const UNSURE: unique symbol = Symbol('unsure');
type Check = (value: unknown) => unknown;

/** The event envelope after conversion (numbers given for text fields become strings, Dates epoch ms). */
export type Envelope = Record<string, unknown> & {
  type: string;
  time?: number;
  actor?: Record<string, string | null | undefined> | null;
  target?: Record<string, string | null | undefined> | null;
  dimensions?: Record<string, unknown>;
  metrics?: Record<string, unknown>;
  data?: unknown;
};

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Optional text: a string of at most `max` UTF-16 units, or a finite number (stored as its string). */
function text(max: number, numbers = true): Check {
  return (v) => {
    if (v === undefined || v === null) return v;
    if (typeof v === 'string') return v.length <= max ? v : UNSURE;
    if (numbers && typeof v === 'number' && Number.isFinite(v)) return String(v);
    return UNSURE;
  };
}

/** A strict object of checked fields (actor, target, dimensions, metrics). */
function object(shape: Record<string, Check>, nullable: boolean): Check {
  const fields = new Map(Object.entries(shape)); // a Map: keys like "toString" must not find Object.prototype
  return (v) => {
    if (v === undefined) return v;
    if (v === null) return nullable ? v : UNSURE;
    if (!isPlainObject(v)) return UNSURE;
    const out: Record<string, unknown> = {};
    for (const key in v) {
      const check = fields.get(key);
      if (check === undefined) return UNSURE;
      const value = check(v[key]);
      if (value === UNSURE) return UNSURE;
      // Only names found in `fields` get here, never `__proto__`, so assigning cannot set a prototype.
      out[key] = value;
    }
    return out;
  };
}

/**
 * Builds the fast envelope check for a registry.
 * @internal
 */
export function createFastEnvelope(options: {
  registry: Registry;
  stringFields: readonly { field: string; maxLength: number }[];
  typePattern: RegExp;
  maxTime: number;
  maxMessage: number;
}): (input: unknown) => Envelope | undefined {
  const { registry, maxTime } = options;
  const limits = new Map(options.stringFields.map((f) => [f.field, f.maxLength]));
  const limit = (field: string) => limits.get(field) ?? 0;
  const finite = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : UNSURE);
  const nullish =
    (check: Check): Check =>
    (v) =>
      v === undefined || v === null ? v : check(v);

  const dimensions: Record<string, Check> = {};
  for (const d of registry.dimensions.values()) {
    dimensions[d.name] =
      d.type === 'string' ? text(DIMENSION_MAX_LENGTH) : nullish((v) => (typeof v === 'number' && Number.isSafeInteger(v) ? v : UNSURE));
  }
  const metrics: Record<string, Check> = {};
  for (const m of registry.metrics.values()) {
    metrics[m.name] = nullish(m.type === 'integer' ? (v) => (typeof v === 'number' && Number.isSafeInteger(v) ? v : UNSURE) : finite);
  }

  const fields: Record<string, Check> = {};
  for (const f of options.stringFields) if (f.field !== 'type') fields[f.field] = text(f.maxLength);
  Object.assign(fields, {
    type: (v: unknown) => (typeof v === 'string' && options.typePattern.test(v) ? v : UNSURE),
    time: (v: unknown) => {
      if (v === undefined) return v;
      const t = typeof v === 'number' ? v : v instanceof Date ? v.getTime() : Number.NaN;
      return Number.isFinite(t) && t >= 0 && t <= maxTime ? t : UNSURE;
    },
    message: text(options.maxMessage, false),
    actor: object({ id: text(limit('actorId')), type: text(limit('actorType')), name: text(limit('actorName')) }, true),
    target: object({ type: text(limit('targetType')), id: text(limit('targetId')), name: text(limit('targetName')) }, true),
    durationMs: nullish((v) => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : UNSURE)),
    dimensions: object(dimensions, false),
    metrics: object(metrics, false),
    data: (v: unknown) => v,
  } satisfies Record<string, Check>);

  const envelope = object(fields, false);
  return (input) => {
    const out = envelope(input);
    return out !== UNSURE && isPlainObject(out) && typeof out.type === 'string' ? (out as Envelope) : undefined;
  };
}
