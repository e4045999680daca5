import type { LogCore } from '../core.js';
import { AbortedError, ValidationError } from '../errors.js';
import type { ReadOptions } from '../types.js';

/**
 * The signal of a read's options, checked to be one, as a signal of this read's own that follows it.
 * Each layer of a read (the core, the store, its driver or worker pool) listens for the abort. On
 * the host's signal itself, a dozen reads sharing one signal (a request's fan-out of reads, a
 * dashboard's refresh) would add dozens of listeners and make Node warn of a listener leak;
 * `AbortSignal.any` follows the host's signal without a listener on it, so the host's signal gets
 * none from eventlog and each read's own signal gets a few. @internal
 */
export function signalOf(options: ReadOptions | undefined): AbortSignal | undefined {
  const signal = options?.signal;
  if (signal === undefined || signal === null) return undefined;
  if (typeof signal !== 'object' || typeof signal.addEventListener !== 'function' || typeof signal.aborted !== 'boolean') {
    throw new ValidationError([{ path: ['signal'], message: 'must be an AbortSignal' }]);
  }
  return typeof AbortSignal.any === 'function' && signal instanceof AbortSignal ? AbortSignal.any([signal]) : signal;
}

/** Rejects with `ABORTED` when the signal has aborted. @internal */
export function throwIfAborted(signal: AbortSignal | undefined, operation: string): void {
  if (signal?.aborted) throw new AbortedError(operation, { cause: signal.reason });
}

/**
 * A store call through `core.guard`, stopped by the read's signal: checked before the call, and
 * when the signal aborts while the call runs the read rejects with `ABORTED` at once, whether or
 * not the store cancels its statement (the store's own rejection is then swallowed). A transient
 * failure is retried (see {@link retried}) unless `retry` is false: a call that is not a whole read,
 * such as the next chunk of a stream, cannot be sent again. @internal
 */
export async function guardRead<R>(
  core: LogCore,
  operation: string,
  signal: AbortSignal | undefined,
  fn: () => Promise<R>,
  retry = true,
): Promise<R> {
  const run = retry ? () => retried(core, signal, fn) : fn;
  if (!signal) return core.guard(operation, run);
  throwIfAborted(signal, operation);
  const call = core.guard(operation, run);
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

/** The waits before each new attempt of a read that failed transiently: one turn of the loop, then longer. */
const READ_RETRY_DELAYS_MS = [0, 25, 100];

/**
 * A failure later than this after the read was sent is not a dead connection (those fail at once)
 * but a timeout or an overloaded server, which sending the read again would only make worse.
 */
const QUICK_FAILURE_MS = 1000;

/**
 * Runs a store read, and runs it again when it fails transiently and at once: a read changes
 * nothing, so sending it again is safe. This is what answers the first reads after a database
 * restart or a proxy closing idle connections, which would otherwise each fail on a pooled
 * connection that died while idle. The waits let the pool see its other dead connections (a server
 * ends the sessions it terminates one by one) before the next attempt. Not retried: a failure
 * after {@link QUICK_FAILURE_MS} (a timeout), a read whose signal aborted, one on a closing log.
 */
async function retried<R>(core: LogCore, signal: AbortSignal | undefined, fn: () => Promise<R>): Promise<R> {
  for (let attempt = 0; ; attempt++) {
    const sent = performance.now();
    try {
      return await fn();
    } catch (error) {
      const delay = READ_RETRY_DELAYS_MS[attempt];
      const quick = performance.now() - sent < QUICK_FAILURE_MS;
      if (delay === undefined || !quick || signal?.aborted || core.closed || !core.defaults.isTransientError(error)) throw error;
      await new Promise((resolve) => (delay === 0 ? setImmediate(resolve) : setTimeout(resolve, delay)));
      // Aborted or closed during the wait: the caller has its answer already, send nothing more.
      if (signal?.aborted || core.closed) throw error;
    }
  }
}
