import { z } from 'zod';

/** Query values as the handler passes them to a route's `query` schema. */
export type RawQuery = Record<string, string | string[]>;

/** Options of {@link queryInt} and {@link queryNumber}. */
export interface QueryIntOptions {
  /** Value used when the parameter is absent or empty. @default undefined */
  default?: number;
  /** Smallest accepted value. @default 0 */
  min?: number;
  /** Largest accepted value. @default Number.MAX_SAFE_INTEGER */
  max?: number;
  /** Text of the parameter for the OpenAPI document. */
  description?: string;
}

const INTEGER = /^\s*[+-]?\d+\s*$/;
const NUMBER = /^\s*[+-]?(\d+\.?\d*|\.\d+)\s*$/;

function blankToUndefined(value: unknown): unknown {
  return typeof value === 'string' && value.trim() === '' ? undefined : value;
}

/**
 * A whole-number query parameter: an empty value counts as absent, anything but digits is refused
 * with "must be a whole number", and bounds give "must be at least / at most" messages.
 *
 * @example
 * ```ts
 * import { z } from 'zod';
 * import { queryInt } from '@eventlog/http';
 * const schema = z.object({ limit: queryInt({ min: 1, max: 1000, default: 100 }) });
 * schema.parse({ limit: '50' }); // { limit: 50 }
 * ```
 */
export function queryInt(options: QueryIntOptions & { default: number }): z.ZodType<number, unknown>;
export function queryInt(options?: QueryIntOptions): z.ZodType<number | undefined, unknown>;
export function queryInt(options: QueryIntOptions = {}): z.ZodType<number | undefined, unknown> {
  const min = options.min ?? 0;
  const max = options.max ?? Number.MAX_SAFE_INTEGER;
  const inner = z
    .number({ error: 'must be a whole number' })
    .int('must be a whole number')
    .min(min, `must be at least ${min}`)
    .max(max, `must be at most ${max}`);
  return z.preprocess(
    (value) => {
      const v = blankToUndefined(value);
      return typeof v === 'string' && INTEGER.test(v) ? Number(v) : v;
    },
    finish(inner, options.default, options.description),
  );
}

function finish<T extends z.ZodType>(inner: T, fallback: z.output<T> | undefined, description: string | undefined) {
  const described = description ? inner.meta({ description }) : inner;
  return fallback === undefined ? described.optional() : described.default(fallback as never);
}

/**
 * A decimal query parameter with the same empty-means-absent rule as {@link queryInt}.
 *
 * @example
 * ```ts
 * import { queryNumber } from '@eventlog/http';
 * queryNumber({ min: 0 }).parse('2.5'); // 2.5
 * ```
 */
export function queryNumber(options: QueryIntOptions & { default: number }): z.ZodType<number, unknown>;
export function queryNumber(options?: QueryIntOptions): z.ZodType<number | undefined, unknown>;
export function queryNumber(options: QueryIntOptions = {}): z.ZodType<number | undefined, unknown> {
  const min = options.min ?? 0;
  const max = options.max ?? Number.MAX_SAFE_INTEGER;
  const inner = z.number({ error: 'must be a number' }).min(min, `must be at least ${min}`).max(max, `must be at most ${max}`);
  return z.preprocess(
    (value) => {
      const v = blankToUndefined(value);
      return typeof v === 'string' && NUMBER.test(v) ? Number(v) : v;
    },
    finish(inner, options.default, options.description),
  );
}

/** Options of {@link queryString}. */
export interface QueryStringOptions {
  /** Longest accepted value. @default 255 */
  max?: number;
  /** Text of the parameter for the OpenAPI document. */
  description?: string;
}

/**
 * A text query parameter; empty counts as absent and the length is bounded.
 *
 * @example
 * ```ts
 * import { queryString } from '@eventlog/http';
 * queryString().parse(''); // undefined
 * ```
 */
export function queryString(options: QueryStringOptions = {}) {
  const max = options.max ?? 255;
  const inner = z.string({ error: 'must be given once, as text' }).max(max, `must be at most ${max} characters`);
  return z.preprocess(blankToUndefined, finish(inner, undefined, options.description));
}

/**
 * A query parameter limited to a list of words; empty counts as absent.
 *
 * @example
 * ```ts
 * import { queryEnum } from '@eventlog/http';
 * queryEnum(['asc', 'desc']).parse('asc'); // 'asc'
 * ```
 */
export function queryEnum<const T extends readonly [string, ...string[]]>(values: T, description?: string) {
  const inner = z.enum(values, { error: `must be one of ${values.join(', ')}` });
  return z.preprocess(blankToUndefined, finish(inner, undefined, description));
}

/**
 * A repeatable query parameter (`?type=a&type=b` or `?type=a,b`) read as a list of strings.
 *
 * @example
 * ```ts
 * import { queryList } from '@eventlog/http';
 * queryList().parse('a,b'); // ['a', 'b']
 * ```
 */
export function queryList(options: QueryStringOptions & { maxItems?: number } = {}) {
  const max = options.max ?? 255;
  const maxItems = options.maxItems ?? 100;
  const inner = z.array(z.string().max(max, `must be at most ${max} characters`)).max(maxItems, `may list at most ${maxItems} values`);
  return z.preprocess(
    (value) => {
      if (value === undefined) return undefined;
      if (!Array.isArray(value) && typeof value !== 'string') return value;
      const list = (Array.isArray(value) ? value : [value])
        .flatMap((v: unknown) => (typeof v === 'string' ? v.split(',') : [v]))
        .map((v: unknown) => (typeof v === 'string' ? v.trim() : v))
        .filter((v: unknown) => v !== '');
      return list.length ? list : undefined;
    },
    finish(inner, undefined, options.description),
  );
}

/**
 * Reads a query string into the shape route schemas receive: one string per key, or an array when
 * a key repeats.
 *
 * @example
 * ```ts
 * import { parseQuery } from '@eventlog/http';
 * parseQuery(new URLSearchParams('a=1&b=2&b=3')); // { a: '1', b: ['2', '3'] }
 * ```
 */
export function parseQuery(search: URLSearchParams): RawQuery {
  const out: RawQuery = Object.create(null);
  for (const [key, value] of search) {
    const existing = out[key];
    if (existing === undefined) out[key] = value;
    else if (Array.isArray(existing)) existing.push(value);
    else out[key] = [existing, value];
  }
  return out;
}

/** A schema's safeParse, as {@link queryParser} returns it. @internal */
export type QueryParse = (value: RawQuery) => z.ZodSafeParseResult<unknown>;

/**
 * The parse of a route's query schema that runs only the schemas of the parameters a request
 * carries, plus those that give something for an absent parameter (a default) or refuse it. Query
 * schemas declare every filter a route takes (the native ones about twenty) and a request names a
 * few, so running all of them was most of a page request's validation. Absent optional parameters
 * are left out of the output as the full schema leaves them out, and the issues are the same.
 * Only a plain object schema is narrowed; any other (one with object-level checks) runs whole.
 * @internal
 */
export function queryParser(schema: z.ZodType): QueryParse {
  const whole: QueryParse = (value) => schema.safeParse(value);
  if (!(schema instanceof z.ZodObject) || (schema._zod.def.checks?.length ?? 0) > 0) return whole;
  const object = schema as z.ZodObject;
  const keys = Object.keys(object.shape);
  const always = new Set(
    keys.filter((key) => {
      const absent = (object.shape[key] as z.ZodType).safeParse(undefined);
      return !absent.success || absent.data !== undefined;
    }),
  );
  const optional = new Set(keys.filter((key) => !always.has(key)));
  // One narrowed schema per set of parameters named (in the order named); a bounded number, as
  // clients use few sets. The request names a few parameters, the schema declares many: the set is
  // read from the request's keys.
  const narrowed = new Map<string, QueryParse>();
  return (value) => {
    let id = '';
    for (const key in value) if (optional.has(key)) id += `${key}&`;
    let parse = narrowed.get(id);
    if (!parse) {
      const mask: Record<string, true> = {};
      for (const key of keys) if (always.has(key) || Object.hasOwn(value, key)) mask[key] = true;
      const picked = object.pick(mask);
      parse = (v) => picked.safeParse(v);
      if (narrowed.size < 256) narrowed.set(id, parse);
    }
    return parse(value);
  };
}
