import { isEventLogError, StoreError } from '@eventlog/core';

/**
 * Error codes of Node sockets and of undici (the fetch client ClickHouse's driver runs on) that
 * mean the connection is gone: worth a retry on a new connection. The one list every store shares.
 */
export const NETWORK_ERROR_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
]);

/** How far a cause chain is followed: drivers nest two or three levels, never more. */
const MAX_DEPTH = 4;

/**
 * Calls `visit` on an error, its `cause` chain and the errors of an `AggregateError`, until it
 * returns something other than `undefined`, and returns that.
 */
function walkCauses<T>(error: unknown, visit: (e: object) => T | undefined, depth = 0): T | undefined {
  if (typeof error !== 'object' || error === null || depth > MAX_DEPTH) return undefined;
  const found = visit(error);
  if (found !== undefined) return found;
  if (error instanceof AggregateError) {
    for (const inner of error.errors) {
      const nested = walkCauses(inner, visit, depth + 1);
      if (nested !== undefined) return nested;
    }
  }
  return walkCauses((error as { cause?: unknown }).cause, visit, depth + 1);
}

/**
 * Whether `test` holds for an error, its `cause` chain or the errors of an `AggregateError`.
 *
 * @example
 * ```ts
 * import { someCause } from '@eventlog/adapters/kysely';
 * const error = new Error('insert failed', { cause: Object.assign(new Error('reset'), { code: 'ECONNRESET' }) });
 * someCause(error, (e) => (e as { code?: string }).code === 'ECONNRESET'); // true
 * ```
 */
export function someCause(error: unknown, test: (e: object) => boolean): boolean {
  return walkCauses(error, (e) => (test(e) ? true : undefined)) === true;
}

/** Whether an error, or one of its causes, is a socket-level failure from {@link NETWORK_ERROR_CODES}. */
export function isNetworkError(error: unknown): boolean {
  return someCause(error, (e) => {
    const code = (e as { code?: unknown }).code;
    return typeof code === 'string' && NETWORK_ERROR_CODES.has(code);
  });
}

/** What makes one engine's errors transient or permanent; see {@link transientClassifier}. */
export interface TransientRules {
  /** A cause that is worth retrying on this engine (a network code from the shared list always is). */
  transient(e: object): boolean;
  /**
   * A cause that no retry can fix. It wins over every transient cause in the same chain: a server
   * that rejects a statement and then drops the connection reports both, and only the first is why.
   */
  permanent?(e: object): boolean;
}

/**
 * Builds a store's `isTransientError` from its engine's rules. Follows the cause chain; a permanent
 * cause anywhere wins; a {@link StoreError} met on the way carries a verdict already made (by the
 * store, which knew the statement) and is final.
 *
 * @example
 * ```ts
 * import { transientClassifier } from '@eventlog/adapters/kysely';
 * const isTransient = transientClassifier({ transient: (e) => (e as { code?: string }).code === 'SQLITE_BUSY' });
 * isTransient(Object.assign(new Error('busy'), { code: 'SQLITE_BUSY' })); // true
 * ```
 */
export function transientClassifier(rules: TransientRules): (error: unknown) => boolean {
  return (error) => {
    let transient = false;
    const verdict = walkCauses(error, (e) => {
      if (isEventLogError(e, 'STORE_FAILED') && typeof (e as StoreError).transient === 'boolean') return (e as StoreError).transient;
      if (rules.permanent?.(e)) return false;
      const code = (e as { code?: unknown }).code;
      if ((typeof code === 'string' && NETWORK_ERROR_CODES.has(code)) || rules.transient(e)) transient = true;
      return undefined;
    });
    return verdict ?? transient;
  };
}

/**
 * Runs a store operation and turns a driver error into a {@link StoreError} classified by the
 * store's own rules, so that the same cause (say `ECONNREFUSED`) is transient at `migrate()`
 * exactly as it is at `insert()`.
 */
export async function classified<T>(
  engine: string,
  operation: string,
  isTransient: (error: unknown) => boolean,
  fn: () => Promise<T>,
): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (isEventLogError(error)) throw error;
    throw new StoreError(engine, operation, error, isTransient(error));
  }
}

/**
 * A failure that no retry can fix, whatever its driver error says (a connection reset that the
 * statement's own size caused): a {@link StoreError} marked not transient, with the driver's error
 * as the cause of a message that says what to change.
 */
export function permanentStoreError(engine: string, operation: string, message: string, cause: unknown): StoreError {
  return new StoreError(engine, operation, new Error(message, { cause }), false);
}
