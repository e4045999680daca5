import { formatPath, type ValidationIssue } from '../errors.js';
import { showValue } from './messages.js';

/**
 * Default deepest nesting of objects and arrays in `data`. MariaDB and MySQL reject JSON nested 32
 * levels deep, and an open session stores its event with `data` one level further down, so
 * anything above 30 cannot be stored on every engine; 20 leaves room for wrappers.
 */
export const DEFAULT_MAX_DATA_DEPTH = 20;
/** Highest `maxDataDepth` accepted: the deepest `data` that MariaDB and MySQL store inside a session. */
export const MAX_DATA_DEPTH_LIMIT = 30;
/** Default largest `data`, in bytes of UTF-8 JSON (64 KiB, as much as the longest message). */
export const DEFAULT_MAX_DATA_BYTES = 65_536;

/** Limits on an event's `data` payload. @internal */
export interface PayloadLimits {
  maxDepth: number;
  maxBytes: number;
}

/** A payload that can be stored: its JSON text (null when there is none) and the value it encodes. @internal */
export interface Payload {
  json: string | null;
  value: unknown;
}

type Path = readonly (string | number)[];

/** A frame of the walk: the value, where it is, and whether its children were pushed (exit marker). */
interface Frame {
  value: unknown;
  key: string | number;
  parent: Frame | null;
  depth: number;
  exit: boolean;
}

function pathOf(frame: Frame | null, prefix: Path): (string | number)[] {
  const parts: (string | number)[] = [];
  for (let f = frame; f?.parent; f = f.parent) parts.push(f.key);
  return [...prefix, ...parts.reverse()];
}

/** What JSON.stringify serialises in place of `value` (its toJSON result, the primitive of a boxed value). */
function jsonForm(value: unknown, key: string | number): unknown {
  if ((typeof value === 'object' && value !== null) || typeof value === 'bigint') {
    const toJSON = (value as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') value = toJSON.call(value, String(key));
  }
  if (value instanceof Number || value instanceof String || value instanceof Boolean) return value.valueOf();
  return value;
}

// A lone surrogate is a high surrogate not followed by a low one, or a low one not preceded by a high one.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const nativeWellFormed = (String.prototype as { isWellFormed?: () => boolean }).isWellFormed;

/** Whether a string has no lone UTF-16 surrogate. @internal */
export function isWellFormed(text: string): boolean {
  if (nativeWellFormed) return nativeWellFormed.call(text);
  LONE_SURROGATE.lastIndex = 0;
  return !LONE_SURROGATE.test(text);
}

/**
 * Replaces every lone UTF-16 surrogate with U+FFFD, so every engine stores the same text: they
 * otherwise disagree (PostgreSQL and MySQL refuse such JSON, SQLite stores three U+FFFD bytes).
 * @internal
 */
export function toWellFormed(text: string): string {
  return isWellFormed(text) ? text : text.replace(LONE_SURROGATE, '\uFFFD');
}

/**
 * Checks a payload without recursion (so hostile nesting cannot overflow the stack): at most
 * `maxDepth` levels, no circular reference, no BigInt. Returns the first issue, or whether a lone
 * surrogate needs repair.
 */
function inspect(root: unknown, maxDepth: number, prefix: Path): { issue?: ValidationIssue; repair: boolean } {
  const stack: Frame[] = [{ value: root, key: '', parent: null, depth: 0, exit: false }];
  // The objects on the path from the root to the current value: JSON.stringify throws on a value
  // that contains itself, not on one reached twice along different paths.
  const ancestors = new Map<object, Frame>();
  let repair = false;
  while (stack.length > 0) {
    const frame = stack.pop()!;
    if (frame.exit) {
      ancestors.delete(frame.value as object);
      continue;
    }
    const value = jsonForm(frame.value, frame.key);
    if (typeof value === 'string') {
      if (!repair && !isWellFormed(value)) repair = true;
      continue;
    }
    if (typeof value === 'bigint') {
      return {
        issue: {
          path: pathOf(frame, prefix),
          message: `expected a JSON value, received ${showValue(value)} (convert it to a number or a string)`,
        },
        repair,
      };
    }
    if (typeof value !== 'object' || value === null) continue;
    const ancestor = ancestors.get(value);
    if (ancestor) {
      const where = pathOf(ancestor, prefix);
      return {
        issue: { path: pathOf(frame, prefix), message: `expected a JSON value, received a circular reference to ${formatPath(where)}` },
        repair,
      };
    }
    const depth = frame.depth + 1;
    if (depth > maxDepth) {
      return {
        issue: { path: pathOf(frame, prefix), message: `expected at most ${maxDepth} levels of nested objects and arrays, received more` },
        repair,
      };
    }
    const self: Frame = { value, key: frame.key, parent: frame.parent, depth, exit: false };
    ancestors.set(value, self);
    stack.push({ value, key: frame.key, parent: frame.parent, depth, exit: true });
    if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push({ value: value[i], key: i, parent: self, depth, exit: false });
    } else {
      const keys = Object.keys(value);
      for (let i = keys.length - 1; i >= 0; i--) {
        const key = keys[i]!;
        if (!repair && !isWellFormed(key)) repair = true;
        stack.push({ value: (value as Record<string, unknown>)[key], key, parent: self, depth, exit: false });
      }
    }
  }
  return { repair };
}

/**
 * A copy of a checked payload in its JSON form with every lone surrogate replaced. Recursion is
 * safe here: `inspect` has bounded the depth. Keys are defined, never assigned, so a `__proto__`
 * key stays a key instead of setting the copy's prototype.
 */
function repaired(value: unknown, key: string | number): unknown {
  const v = jsonForm(value, key);
  if (typeof v === 'string') return toWellFormed(v);
  if (typeof v !== 'object' || v === null) return v;
  if (Array.isArray(v)) return v.map((item, i) => repaired(item, i));
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v)) {
    const item = repaired((v as Record<string, unknown>)[k], k);
    // JSON.stringify drops these in objects; leave them out of the copy too.
    if (item === undefined || typeof item === 'function' || typeof item === 'symbol') continue;
    Object.defineProperty(out, toWellFormed(k), { value: item, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** UTF-8 length of a string, without allocating. */
function utf8Length(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) bytes += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 2; // the pair is 4 bytes for 2 units
        i++;
      } else bytes += 2;
    } else bytes += 2;
  }
  return bytes;
}

/** The UTF-8 size of `json` when it exceeds `max`, else undefined. */
function sizeOver(json: string, max: number): number | undefined {
  if (json.length * 3 <= max) return undefined; // at most 3 bytes per UTF-16 unit: cannot exceed
  const bytes = utf8Length(json);
  return bytes > max ? bytes : undefined;
}

// What JSON.stringify writes for a lone surrogate (well-formed JSON.stringify, ES2019). Text
// that merely contains a backslash followed by "ud8" matches too; that only sends the payload
// down the careful path, which decides correctly.
const ESCAPED_LONE_SURROGATE = /\\ud[89a-f]/i;

/**
 * Whether JSON text nests objects and arrays at most `maxDepth` deep. A scan of the text that
 * `JSON.stringify` produced measures exactly the structure it serialised (toJSON results, boxed
 * primitives, dropped functions), without a second walk over the value.
 */
function depthWithin(json: string, maxDepth: number): boolean {
  // Each level takes an opening and a closing bracket: shorter text cannot be too deep.
  if (json.length < 2 * (maxDepth + 1)) return true;
  let depth = 0;
  for (let i = 0; i < json.length; i++) {
    const c = json.charCodeAt(i);
    if (c === 34) {
      // Skip the string: find its closing quote, one not escaped by an odd run of backslashes.
      for (;;) {
        i = json.indexOf('"', i + 1);
        let backslashes = 0;
        while (json.charCodeAt(i - 1 - backslashes) === 92) backslashes++;
        if (backslashes % 2 === 0) break;
      }
    } else if (c === 123 || c === 91) {
      if (++depth > maxDepth) return false;
    } else if (c === 125 || c === 93) depth--;
  }
  return true;
}

/** The size issue of `json`, if it is over the limit. */
function sizeIssue(json: string, limits: PayloadLimits, prefix: Path): ValidationIssue | undefined {
  const bytes = sizeOver(json, limits.maxBytes);
  return bytes === undefined
    ? undefined
    : { path: [...prefix], message: `expected at most ${limits.maxBytes} bytes of JSON, received ${bytes}` };
}

/**
 * Validates and serialises an event's `data`: nesting at most `maxDepth`, at most `maxBytes` of
 * UTF-8 JSON, no BigInt, no circular reference, lone surrogates replaced with U+FFFD. Returns the
 * payload, or the issue that rejects it (its path starts with `prefix`).
 *
 * One pass in the common case: `JSON.stringify` walks the value (it throws on BigInt, cycles and
 * nesting too deep for the stack) and the depth and lone-surrogate checks read the text it made.
 * Anything unusual (a throw, too deep, a surrogate escape) is decided by the careful path, which
 * walks the value without recursion and words the issue with its path.
 * @internal
 */
export function toPayload(value: unknown, limits: PayloadLimits, prefix: Path): Payload | ValidationIssue {
  if (value === undefined) return { json: null, value };
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch {
    return carefulPayload(value, limits, prefix);
  }
  if (json === undefined) return { json: null, value: undefined };
  if (!depthWithin(json, limits.maxDepth) || ESCAPED_LONE_SURROGATE.test(json)) return carefulPayload(value, limits, prefix);
  return sizeIssue(json, limits, prefix) ?? { json, value };
}

/** {@link toPayload} for values the quick path cannot vouch for: walks, repairs, then serialises. */
function carefulPayload(value: unknown, limits: PayloadLimits, prefix: Path): Payload | ValidationIssue {
  let json: string | undefined;
  let out: unknown = value;
  try {
    if (typeof value === 'object' || typeof value === 'bigint') {
      const { issue, repair } = inspect(value, limits.maxDepth, prefix);
      if (issue) return issue;
      if (repair) out = repaired(value, '');
    } else if (typeof value === 'string' && !isWellFormed(value)) {
      out = toWellFormed(value);
    }
    json = JSON.stringify(out);
  } catch (error) {
    // A getter or toJSON that throws, or one whose result changed between two calls.
    const reason = error instanceof Error ? error.message : String(error);
    return { path: [...prefix], message: `expected a JSON value, received a value that cannot be serialised (${reason})` };
  }
  if (json === undefined) return { json: null, value: undefined };
  return sizeIssue(json, limits, prefix) ?? { json, value: out };
}

/**
 * Whether a value certainly has a JSON form at most `levels` deep with no BigInt (and so no cycle,
 * which would be infinitely deep). Allocation-free and bounded by `levels`, so hostile nesting
 * cannot overflow the stack. `false` means "not sure": values with toJSON and everything odd
 * are left to {@link inspect}.
 */
function shapeFits(value: unknown, levels: number): boolean {
  if (typeof value !== 'object' || value === null) return typeof value !== 'bigint';
  if (levels === 0 || typeof (value as { toJSON?: unknown }).toJSON === 'function') return false;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (!shapeFits(value[i], levels - 1)) return false;
    return true;
  }
  // for…in rather than Object.keys: no array per object. Own keys only, as JSON.stringify reads
  // them: an inherited getter is never called.
  for (const key in value) {
    if (Object.hasOwn(value, key) && !shapeFits((value as Record<string, unknown>)[key], levels - 1)) return false;
  }
  return true;
}

/**
 * Checks only the shape of a payload (depth, cycles, BigInt), before a type's schema walks it: a
 * recursive schema would otherwise overflow the stack on hostile nesting.
 * @internal
 */
export function checkShape(value: unknown, maxDepth: number, prefix: Path): ValidationIssue | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  try {
    if (shapeFits(value, maxDepth)) return undefined;
    return inspect(value, maxDepth, prefix).issue;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { path: [...prefix], message: `expected a JSON value, received a value that cannot be serialised (${reason})` };
  }
}

/** Whether a result of {@link toPayload} is an issue. @internal */
export function isIssue(result: Payload | ValidationIssue): result is ValidationIssue {
  return 'message' in result && 'path' in result;
}
