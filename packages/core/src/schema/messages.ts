import type { z } from 'zod';
import type { ValidationIssue } from '../errors.js';

// Every validation message names what was expected and what was received, once; the field is named
// by the issue's path, which ValidationError prints in front ("time: expected …, received …").
// Zod's own messages ("Invalid input: expected number, received string") are replaced by the error
// map below, passed to every core parse, so user schemas with their own messages keep them.

const MAX_SHOWN = 40;

/** The kind of a value as a message names it: `number`, `array`, `null`, `Date`, `bigint` … @internal */
export function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'an invalid Date' : 'Date';
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return 'NaN';
    if (!Number.isFinite(value)) return value > 0 ? 'Infinity' : '-Infinity';
  }
  return typeof value;
}

/** A value as a message shows it: strings quoted and cut at 40 characters, numbers as written, others by kind. @internal */
export function showValue(value: unknown): string {
  if (typeof value === 'string') {
    const shown = value.length > MAX_SHOWN ? `${value.slice(0, MAX_SHOWN)}…` : value;
    return JSON.stringify(shown);
  }
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'boolean') return String(value);
  if (typeof value === 'bigint') return `bigint ${value}n`;
  return kindOf(value);
}

const ARTICLE: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'a boolean',
  object: 'an object',
  array: 'an array',
  date: 'a Date',
  bigint: 'a bigint',
  null: 'null',
  undefined: 'nothing',
  symbol: 'a symbol',
  function: 'a function',
  map: 'a Map',
  set: 'a Set',
  record: 'an object',
};

const expectedWord = (expected: string) => ARTICLE[expected] ?? expected;

function orList(items: readonly string[]): string {
  const unique = [...new Set(items)];
  if (unique.length <= 1) return unique[0] ?? '';
  return `${unique.slice(0, -1).join(', ')} or ${unique.at(-1)}`;
}

function listNames(names: readonly string[]): string {
  if (names.length === 0) return 'none';
  const shown = names.slice(0, 12).join(', ');
  return names.length > 12 ? `${shown}, …` : shown;
}

type RawIssue = z.core.$ZodRawIssue;

/** Names of what an object schema accepts, read from the schema that raised the issue. */
function knownKeys(issue: RawIssue): string[] {
  const shape = (issue.inst as { _zod?: { def?: { shape?: Record<string, unknown> } } } | undefined)?._zod?.def?.shape;
  return shape ? Object.keys(shape) : [];
}

function sizeOf(origin: string | undefined, input: unknown): string {
  if (typeof input === 'string') return `${input.length}`;
  if (Array.isArray(input)) return `${input.length}`;
  return origin === 'number' || typeof input === 'number' || typeof input === 'bigint' ? showValue(input) : kindOf(input);
}

function unit(origin: string | undefined, count: number | bigint): string {
  if (origin === 'string') return count === 1 ? ' character' : ' characters';
  if (origin === 'array' || origin === 'set') return count === 1 ? ' item' : ' items';
  return '';
}

interface BranchIssue {
  code: string;
  expected?: string;
  path: PropertyKey[];
  message: string;
  errors?: BranchIssue[][];
}

/** What the branches of a union accept, when each failed on the value's type (nested unions included). */
function typesExpected(branches: readonly BranchIssue[][]): string[] | undefined {
  const expected: string[] = [];
  for (const branch of branches) {
    const first = branch[0];
    if (!first || first.path.length > 0) return undefined;
    if (first.code === 'invalid_type' && first.expected !== undefined) expected.push(expectedWord(first.expected));
    else if (first.code === 'invalid_union' && first.errors) {
      const inner = typesExpected(first.errors);
      if (!inner) return undefined;
      expected.push(...inner);
    } else return undefined;
  }
  return expected.length ? expected : undefined;
}

/** The message of a failed union: what its branches accept, or the one branch that matched the type. */
function unionMessage(issue: RawIssue): string {
  const branches = ((issue as { errors?: BranchIssue[][] }).errors ?? []) as BranchIssue[][];
  const types = typesExpected(branches);
  if (types) return `expected ${orList(types)}, received ${kindOf(issue.input)}`;
  // A branch of the right type that failed a check (too long, too many) explains best.
  const near = branches.filter((b) => b[0] && b[0].code !== 'invalid_type' && b[0].code !== 'invalid_union');
  if (near.length === 1 && near[0]![0]!.path.length === 0) return near[0]![0]!.message;
  return `expected one of the accepted forms, received ${showValue(issue.input)}`;
}

/** Names of what the object at `path` accepts, for an unknown-key message. */
function acceptedNames(issue: RawIssue): string {
  const last = issue.path?.at(-1);
  const names = listNames(knownKeys(issue));
  if (last === 'dimensions') return `declared dimensions (${names})`;
  if (last === 'metrics') return `declared metrics (${names})`;
  return `known fields (${names})`;
}

/**
 * The zod error map of every core parse: messages of the form `expected …, received …`.
 * @internal
 */
export function zodErrorMap(issue: RawIssue): string | undefined {
  const input = issue.input;
  switch (issue.code) {
    case 'invalid_type':
      // A number that is not an integer: show it, its kind says nothing.
      if (issue.expected === 'int' && typeof input === 'number') return `expected an integer, received ${showValue(input)}`;
      return `expected ${expectedWord(issue.expected)}, received ${kindOf(input)}`;
    case 'too_big': {
      const bound = issue.inclusive === false ? 'less than' : 'at most';
      return `expected ${bound} ${issue.maximum}${unit(issue.origin, issue.maximum)}, received ${sizeOf(issue.origin, input)}`;
    }
    case 'too_small': {
      const bound = issue.inclusive === false ? 'more than' : 'at least';
      return `expected ${bound} ${issue.minimum}${unit(issue.origin, issue.minimum)}, received ${sizeOf(issue.origin, input)}`;
    }
    case 'invalid_format':
      return `expected ${issue.format === 'regex' ? `a string matching ${issue.pattern}` : `a valid ${issue.format}`}, received ${showValue(input)}`;
    case 'not_multiple_of':
      return `expected a multiple of ${issue.divisor}, received ${showValue(input)}`;
    case 'unrecognized_keys': {
      const keys = issue.keys.map((k) => JSON.stringify(k)).join(', ');
      const noun = issue.keys.length === 1 ? 'field' : 'fields';
      return `expected only ${acceptedNames(issue)}, received unknown ${noun} ${keys}`;
    }
    case 'invalid_union':
      return unionMessage(issue);
    case 'invalid_value':
      return `expected ${orList(issue.values.map((v) => (typeof v === 'string' ? JSON.stringify(v) : String(v))))}, received ${showValue(input)}`;
    case 'invalid_key':
      return `expected a valid key, received ${showValue(input)}`;
    case 'invalid_element':
      return `expected a valid element, received ${showValue(input)}`;
    default:
      return undefined;
  }
}

/** Parse options that apply {@link zodErrorMap}. @internal */
export const PARSE_OPTIONS = { error: zodErrorMap } as const;

/**
 * `schema.safeParse(input)` with {@link zodErrorMap} applied to a failure. zod 4 parses several
 * times slower when given parse options at all, so the hot path (a type's schema, once per recorded
 * event) parses without them and parses again with them only to word the issues of a failure. A
 * schema's transforms and refinements therefore run twice on invalid input (zod expects them to be
 * pure). @internal
 */
export function safeParseWorded<T extends z.ZodType>(schema: T, input: unknown): z.ZodSafeParseResult<z.output<T>> {
  const quick = schema.safeParse(input);
  return quick.success ? quick : schema.safeParse(input, PARSE_OPTIONS);
}

/** Converts zod issues to {@link ValidationIssue}s under a path prefix, without repeats. @internal */
export function issuesOf(error: z.ZodError, prefix: readonly (string | number)[] = []): ValidationIssue[] {
  const seen = new Set<string>();
  const issues: ValidationIssue[] = [];
  for (const issue of error.issues) {
    const path = [...prefix, ...issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p))];
    // Two checks can reject the same value for the same reason (an integer's safe range and a maximum).
    const key = JSON.stringify([path, issue.message]);
    if (seen.has(key)) continue;
    seen.add(key);
    issues.push({ path, message: issue.message });
  }
  return issues;
}
