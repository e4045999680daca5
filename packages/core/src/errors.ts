const BRAND = Symbol.for('eventlog.error');

/** Machine-readable error codes carried by every {@link EventLogError}. */
export const ERROR_CODES = [
  'VALIDATION_FAILED',
  'FORBIDDEN',
  'INVALID_CURSOR',
  'NOT_FOUND',
  'STORE_FAILED',
  'CLOSED',
  'UNSUPPORTED',
  'ABORTED',
] as const;

/** One of {@link ERROR_CODES}. */
export type ErrorCode = (typeof ERROR_CODES)[number];

/** Options shared by every error constructor. */
export interface EventLogErrorOptions {
  /** The underlying error, kept for logs; never shown to HTTP clients. */
  cause?: unknown;
}

/**
 * Base class of every error eventlog throws; check with {@link isEventLogError}.
 *
 * @example
 * ```ts
 * import { EventLogError } from '@eventlog/core';
 * const error = new EventLogError('CLOSED', 'The event log is closed.');
 * console.log(error.code); // 'CLOSED'
 * ```
 */
export class EventLogError extends Error {
  /** The machine-readable code. */
  readonly code: ErrorCode;
  /** @internal brand that survives two installed copies of the package */
  readonly [BRAND] = true;

  constructor(code: ErrorCode, message: string, options: EventLogErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'EventLogError';
    this.code = code;
  }
}

/** One problem found while validating input. */
export interface ValidationIssue {
  /** Where the problem is, e.g. `['events', 3, 'time']` or `['filter', 'since']`. */
  path: (string | number)[];
  /** What is wrong, in words a user can act on: usually `expected …, received …`. */
  message: string;
}

/**
 * Input was rejected; `issues` names every field that is wrong. The message lists the first five
 * issues as `path: problem`, separated by `; `.
 *
 * @example
 * ```ts
 * import { ValidationError } from '@eventlog/core';
 * const error = new ValidationError([{ path: ['pageSize'], message: 'expected at most 1000, received 5000' }]);
 * console.log(error.message); // 'pageSize: expected at most 1000, received 5000'
 * ```
 */
export class ValidationError extends EventLogError {
  /** Every problem found, in input order. */
  readonly issues: ValidationIssue[];
  /** For batch writes: the index of the first invalid event in the call. */
  readonly eventIndex: number | undefined;

  constructor(issues: ValidationIssue[], options: EventLogErrorOptions & { eventIndex?: number } = {}) {
    super('VALIDATION_FAILED', formatIssues(issues), options);
    this.name = 'ValidationError';
    this.issues = issues;
    this.eventIndex = options.eventIndex;
  }
}

/**
 * A pagination cursor could not be decoded or does not belong to this query.
 *
 * @example
 * ```ts
 * import { InvalidCursorError } from '@eventlog/core';
 * throw new InvalidCursorError('The cursor is malformed.');
 * ```
 */
export class InvalidCursorError extends EventLogError {
  constructor(message: string, options: EventLogErrorOptions = {}) {
    super('INVALID_CURSOR', message, options);
    this.name = 'InvalidCursorError';
  }
}

/**
 * Something that was asked for by id does not exist (or is outside the caller's scope).
 *
 * @example
 * ```ts
 * import { NotFoundError } from '@eventlog/core';
 * throw new NotFoundError('No open session "abc".');
 * ```
 */
export class NotFoundError extends EventLogError {
  constructor(message: string, options: EventLogErrorOptions = {}) {
    super('NOT_FOUND', message, options);
    this.name = 'NotFoundError';
  }
}

/**
 * A principal asked for something outside its scope, e.g. a reseller recording an event into a
 * tenant that is not its own. Nothing was stored.
 *
 * @example
 * ```ts
 * import { ForbiddenError } from '@eventlog/core';
 * const error = new ForbiddenError('events[0].tenantId: must name one of your tenants');
 * console.log(error.code); // 'FORBIDDEN'
 * ```
 */
export class ForbiddenError extends EventLogError {
  constructor(message: string, options: EventLogErrorOptions = {}) {
    super('FORBIDDEN', message, options);
    this.name = 'ForbiddenError';
  }
}

/**
 * The store failed; `engine` and `operation` say where, `cause` holds the driver's error.
 *
 * @example
 * ```ts
 * import { StoreError } from '@eventlog/core';
 * const error = new StoreError('sqlite', 'insert', new Error('disk full'));
 * console.log(error.message); // 'sqlite store failed during insert: disk full'
 * ```
 */
export class StoreError extends EventLogError {
  /** The engine name reported by the store, e.g. `postgres`. */
  readonly engine: string;
  /** The contract method that failed, e.g. `insert`. */
  readonly operation: string;
  /** Whether the store judged the failure transient (worth retrying). */
  readonly transient: boolean;

  constructor(engine: string, operation: string, cause: unknown, transient = false) {
    const detail = cause instanceof Error ? cause.message : String(cause);
    super('STORE_FAILED', `${engine} store failed during ${operation}: ${detail}`, { cause });
    this.name = 'StoreError';
    this.engine = engine;
    this.operation = operation;
    this.transient = transient;
  }
}

/**
 * A read was stopped because its `signal` aborted (the caller, e.g. an HTTP client, went away);
 * `cause` holds the abort reason or the driver's "query cancelled" error. Nothing failed: do not
 * report it as a server error.
 *
 * @example
 * ```ts
 * import { AbortedError } from '@eventlog/core';
 * const error = new AbortedError('count');
 * console.log(error.code); // 'ABORTED'
 * ```
 */
export class AbortedError extends EventLogError {
  /** The read that was stopped, e.g. `aggregate`. */
  readonly operation: string;

  constructor(operation: string, options: EventLogErrorOptions = {}) {
    super('ABORTED', `The ${operation} was aborted by its signal.`, options);
    this.name = 'AbortedError';
    this.operation = operation;
  }
}

/**
 * Whether `value` is an eventlog error, optionally with the given code; works across package copies.
 *
 * @example
 * ```ts
 * import { isEventLogError } from '@eventlog/core';
 * try {
 *   throw new Error('plain');
 * } catch (error) {
 *   console.log(isEventLogError(error, 'VALIDATION_FAILED')); // false
 * }
 * ```
 */
export function isEventLogError(value: unknown, code?: ErrorCode): value is EventLogError {
  if (typeof value !== 'object' || value === null) return false;
  if ((value as Record<symbol, unknown>)[BRAND] !== true) return false;
  return code === undefined || (value as EventLogError).code === code;
}

/**
 * Formats an issue path the way messages show it: `events[2].data.items[0].name`, `data["a b"]`.
 * @internal
 */
export function formatPath(path: readonly (string | number)[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(part)) out += out === '' ? part : `.${part}`;
    else out += `[${JSON.stringify(part)}]`;
  }
  return out;
}

function formatIssues(issues: ValidationIssue[]): string {
  if (issues.length === 0) return 'Invalid input.';
  return issues
    .slice(0, 5)
    .map((issue) => (issue.path.length ? `${formatPath(issue.path)}: ${issue.message}` : issue.message))
    .join('; ')
    .concat(issues.length > 5 ? ` (and ${issues.length - 5} more)` : '');
}
