import type { LogCore } from '../core.js';
import { AbortedError, ValidationError } from '../errors.js';
import type { ReadOptions } from '../types.js';

/** The signal of a read's options, checked to be one. @internal */
export function signalOf(options: ReadOptions | undefined): AbortSignal | undefined {
  const signal = options?.signal;
  if (signal === undefined || signal === null) return undefined;
  if (typeof signal !== 'object' || typeof signal.addEventListener !== 'function' || typeof signal.aborted !== 'boolean') {
    throw new ValidationError([{ path: ['signal'], message: 'must be an AbortSignal' }]);
  }
  return signal;
}

/** Rejects with `ABORTED` when the signal has aborted. @internal */
export function throwIfAborted(signal: AbortSignal | undefined, operation: string): void {
  if (signal?.aborted) throw new AbortedError(operation, { cause: signal.reason });
}

/**
 * A store call through `core.guard`, stopped by the read's signal: checked before the call, and
 * when the signal aborts while the call runs the read rejects with `ABORTED` at once, whether or
 * not the store cancels its statement (the store's own rejection is then swallowed). @internal
 */
export async function guardRead<R>(core: LogCore, operation: string, signal: AbortSignal | undefined, fn: () => Promise<R>): Promise<R> {
  if (!signal) return core.guard(operation, fn);
  throwIfAborted(signal, operation);
  const call = core.guard(operation, fn);
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(new AbortedError(operation, { cause: signal.reason }));
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([call, aborted]);
  } catch (error) {
    if (signal.aborted) {
      call.catch(() => undefined);
      throw error instanceof AbortedError ? error : new AbortedError(operation, { cause: error });
    }
    throw error;
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort);
    aborted.catch(() => undefined);
  }
}
