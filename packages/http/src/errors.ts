import { type ErrorCode, isEventLogError, type ValidationIssue } from '@eventlog/core';

/**
 * Error codes that only the HTTP layer raises (core codes come from `@eventlog/core`).
 *
 * @example
 * ```ts
 * import { HTTP_ERROR_CODES } from '@eventlog/http';
 * HTTP_ERROR_CODES.includes('UNAUTHORIZED'); // true
 * ```
 */
export const HTTP_ERROR_CODES = [
  'BAD_REQUEST',
  'UNAUTHORIZED',
  'TOKEN_EXPIRED',
  'INVALID_TOKEN',
  'FORBIDDEN',
  'ROUTE_NOT_FOUND',
  'METHOD_NOT_ALLOWED',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'OVERLOADED',
  'INTERNAL',
] as const;

/** One of {@link HTTP_ERROR_CODES}. */
export type HttpErrorCode = (typeof HTTP_ERROR_CODES)[number];

/** Every code an {@link HttpError} can carry: the core's codes and the HTTP layer's own. */
export type AnyErrorCode = ErrorCode | HttpErrorCode;

/**
 * The one table mapping error codes to HTTP statuses; profiles reshape the body, never the table.
 *
 * @example
 * ```ts
 * import { HTTP_STATUS } from '@eventlog/http';
 * HTTP_STATUS.VALIDATION_FAILED; // 400
 * ```
 */
export const HTTP_STATUS: Readonly<Record<AnyErrorCode, number>> = Object.freeze({
  VALIDATION_FAILED: 400,
  INVALID_CURSOR: 400,
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  TOKEN_EXPIRED: 401,
  INVALID_TOKEN: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  ROUTE_NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  // 503, not 429: the server as a whole is busy, not this client over its own quota.
  OVERLOADED: 503,
  INTERNAL: 500,
  UNSUPPORTED: 501,
  STORE_FAILED: 503,
  CLOSED: 503,
});

// Messages of server-side failures are replaced: driver text can carry table names or values.
const SAFE_MESSAGES: Partial<Record<AnyErrorCode, string>> = {
  STORE_FAILED: 'The log store is unavailable right now; try again shortly.',
  CLOSED: 'The event log is shutting down; try again shortly.',
  INTERNAL: 'Internal error; the server logged the details.',
};

/** Options of the {@link HttpError} constructor. */
export interface HttpErrorOptions {
  /** Every problem found, for validation failures. */
  issues?: readonly ValidationIssue[];
  /** Headers to send with the error, e.g. `Allow` or `WWW-Authenticate`. */
  headers?: Record<string, string>;
  /** The underlying error, kept for the host's `onError`; never sent to clients. */
  cause?: unknown;
  /** Overrides the status of {@link HTTP_STATUS}, for a product convention. */
  status?: number;
}

/**
 * An error ready to be answered: a code, its HTTP status and a message a client can act on.
 *
 * @example
 * ```ts
 * import { HttpError } from '@eventlog/http';
 * throw new HttpError('UNAUTHORIZED', 'Send an Authorization: Bearer header.');
 * ```
 */
export class HttpError extends Error {
  /** The machine-readable code. */
  readonly code: AnyErrorCode;
  /** The HTTP status from {@link HTTP_STATUS} (or the override). */
  readonly status: number;
  /** Every problem found, for validation failures. */
  readonly issues: readonly ValidationIssue[];
  /** Headers to send with the answer. */
  readonly headers: Record<string, string>;

  constructor(code: AnyErrorCode, message: string, options: HttpErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'HttpError';
    this.code = code;
    this.status = options.status ?? HTTP_STATUS[code];
    this.issues = options.issues ?? [];
    this.headers = options.headers ?? {};
  }

  /** Whether the status is a server-side (5xx) failure. */
  get isServerError(): boolean {
    return this.status >= 500;
  }
}

/**
 * Converts anything thrown while serving a request into an {@link HttpError} with a safe message.
 *
 * @example
 * ```ts
 * import { ValidationError } from '@eventlog/core';
 * import { toHttpError } from '@eventlog/http';
 * toHttpError(new ValidationError([{ path: ['limit'], message: 'must be at most 1000' }])).status; // 400
 * ```
 */
export function toHttpError(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  if (isEventLogError(error)) {
    const issues = (error as { issues?: readonly ValidationIssue[] }).issues ?? [];
    const message = SAFE_MESSAGES[error.code] ?? error.message;
    return new HttpError(error.code, message, { issues, cause: error });
  }
  return new HttpError('INTERNAL', SAFE_MESSAGES.INTERNAL!, { cause: error });
}

/**
 * Formats validation issues as one sentence, naming where each problem is.
 *
 * @example
 * ```ts
 * import { describeIssues } from '@eventlog/http';
 * describeIssues([{ path: ['limit'], message: 'must be at most 1000' }], 'query parameter'); // 'query parameter "limit" must be at most 1000'
 * ```
 */
export function describeIssues(issues: readonly ValidationIssue[], where = 'parameter'): string {
  const parts = issues
    .slice(0, 3)
    .map((issue) => (issue.path.length ? `${where} "${issue.path.join('.')}" ${issue.message}` : issue.message));
  return parts.join('; ') + (issues.length > 3 ? ` (and ${issues.length - 3} more)` : '');
}
