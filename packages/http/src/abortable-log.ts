import type { ReadOptions } from '@eventlog/core';
import type { AnyEventLog } from './profile.js';

// The reads of a log or view that take `ReadOptions` as their second argument.
const READS = new Set<PropertyKey>(['query', 'count', 'get', 'stats', 'timeline', 'top', 'latest', 'exportCsv']);

/**
 * The log as a route sees it: every read (on the log and on every view made from it) carries the
 * request's `signal` unless the route passes one itself, so a client that goes away stops its
 * query without each profile having to thread the signal through. Everything else is the log's own
 * member, bound to the log.
 */
export function withSignal(log: AnyEventLog, signal: AbortSignal): AnyEventLog {
  return bindReads(log, signal);
}

function bindReads<T extends object>(target: T, signal: AbortSignal): T {
  return new Proxy(target, {
    get(object, property) {
      const value: unknown = Reflect.get(object, property, object);
      if (typeof value !== 'function') return value;
      const method = value as (...args: unknown[]) => unknown;
      if (READS.has(property)) {
        return (input: unknown, options?: ReadOptions) => method.call(object, input, { signal, ...options });
      }
      if (property === 'view') return (...args: unknown[]) => bindReads(method.apply(object, args) as object, signal);
      return method.bind(object);
    },
  });
}
