import { HttpError } from './errors.js';
import type { Profile, Route } from './profile.js';

/**
 * How a handler protects its host from too many expensive requests (routes with
 * `cost: 'expensive'`: statistics, timelines, searches, exports). Cheap routes are never limited.
 */
export interface SheddingOptions {
  /**
   * Expensive requests served at once; the rest wait in the queue. Keep it below the store's
   * connection pool so cheap reads always find a connection.
   * @default 4
   */
  maxConcurrent?: number;
  /** Expensive requests that may wait for a slot; beyond it a request is refused at once. @default 64 */
  maxQueue?: number;
  /** Longest wait in the queue, in milliseconds, before the request is refused. @default 10000 */
  queueTimeoutMs?: number;
  /** Seconds a refused client is told to wait (`Retry-After`). @default 5 */
  retryAfterSeconds?: number;
}

/** The resolved {@link SheddingOptions} of a {@link Limiter}. */
export type ResolvedSheddingOptions = Readonly<Required<SheddingOptions>>;

/**
 * Defaults of {@link SheddingOptions}: a few expensive requests at a time (on PostgreSQL and MySQL
 * four leave most of a default pool of ten to cheap reads; see {@link sheddingDefaults} for
 * SQLite), a queue that absorbs a burst, and a deadline well below the 30–60 s after which clients
 * and proxies give up on their own.
 *
 * @example
 * ```ts
 * import { DEFAULT_SHEDDING } from '@eventlog/http';
 * DEFAULT_SHEDDING.maxConcurrent; // 4
 * ```
 */
export const DEFAULT_SHEDDING: ResolvedSheddingOptions = Object.freeze({
  maxConcurrent: 4,
  maxQueue: 64,
  queueTimeoutMs: 10_000,
  retryAfterSeconds: 5,
});

/**
 * The defaults for a store engine: {@link DEFAULT_SHEDDING}, except one expensive request at a
 * time on SQLite. Its reads run synchronously on the event loop, so a second one at once buys no
 * throughput and only makes every cheap request wait behind one more expensive run. The price: a
 * client that reads a streamed export slowly holds the slot while it reads; raise `maxConcurrent`
 * where such clients are expected.
 *
 * @example
 * ```ts
 * import { sheddingDefaults } from '@eventlog/http';
 * sheddingDefaults('sqlite').maxConcurrent; // 1
 * sheddingDefaults('postgres').maxConcurrent; // 4
 * ```
 */
export function sheddingDefaults(engine: string): ResolvedSheddingOptions {
  return engine === 'sqlite' ? SQLITE_SHEDDING : DEFAULT_SHEDDING;
}

const SQLITE_SHEDDING: ResolvedSheddingOptions = Object.freeze({ ...DEFAULT_SHEDDING, maxConcurrent: 1 });

/** Gives back a slot taken with {@link Limiter.acquire}; calling it again does nothing. */
export type Release = () => void;

/**
 * Bounds how many expensive requests run at once, with a FIFO queue that has a deadline. One
 * limiter can be shared by several handlers (e.g. every mount path of an Express router) so that
 * the bound holds for the store they share.
 */
export interface Limiter {
  /** The options in force. */
  readonly options: ResolvedSheddingOptions;
  /** Slots taken now. */
  readonly running: number;
  /** Requests waiting for a slot now. */
  readonly queued: number;
  /**
   * Takes a slot, waiting in line when all are taken. Rejects with an {@link HttpError}
   * `OVERLOADED` (503 with `Retry-After`) when the queue is full or the wait passes
   * `queueTimeoutMs`, and with the signal's reason when `signal` aborts first (the request then
   * leaves the queue and never runs).
   */
  acquire(signal?: AbortSignal): Promise<Release>;
}

interface Waiter {
  resolve: (release: Release) => void;
  reject: (error: unknown) => void;
  timer: ReturnType<typeof setTimeout>;
  signal: AbortSignal | undefined;
  onAbort: () => void;
}

/**
 * Creates a {@link Limiter}; pass it (or plain {@link SheddingOptions}) as `createHandler({ shedding })`.
 * Options left out take their value from `defaults`.
 *
 * @example
 * ```ts
 * import { createLimiter } from '@eventlog/http';
 * const limiter = createLimiter({ maxConcurrent: 2, maxQueue: 20 });
 * const release = await limiter.acquire();
 * try {
 *   // expensive work
 * } finally {
 *   release();
 * }
 * ```
 */
export function createLimiter(options: SheddingOptions = {}, defaults: ResolvedSheddingOptions = DEFAULT_SHEDDING): Limiter {
  const resolved: ResolvedSheddingOptions = Object.freeze({
    maxConcurrent: checkCount('maxConcurrent', options.maxConcurrent ?? defaults.maxConcurrent, 1),
    maxQueue: checkCount('maxQueue', options.maxQueue ?? defaults.maxQueue, 0),
    queueTimeoutMs: checkCount('queueTimeoutMs', options.queueTimeoutMs ?? defaults.queueTimeoutMs, 0),
    retryAfterSeconds: checkCount('retryAfterSeconds', options.retryAfterSeconds ?? defaults.retryAfterSeconds, 0),
  });
  let running = 0;
  // A Set keeps insertion order and deletes in O(1): a FIFO from which an aborted waiter can leave.
  const waiting = new Set<Waiter>();

  const overloaded = (message: string) =>
    new HttpError('OVERLOADED', message, { headers: { 'Retry-After': String(resolved.retryAfterSeconds) } });

  const leave = (waiter: Waiter) => {
    waiting.delete(waiter);
    clearTimeout(waiter.timer);
    waiter.signal?.removeEventListener('abort', waiter.onAbort);
  };

  const grant = (): Release => {
    running++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      // Hand the slot straight to the oldest waiter, so a newcomer never overtakes the queue.
      const next = waiting.values().next();
      if (next.done) {
        running--;
        return;
      }
      leave(next.value);
      running--;
      handOver(next.value.resolve, grant());
    };
  };

  return {
    options: resolved,
    get running() {
      return running;
    },
    get queued() {
      return waiting.size;
    },
    acquire(signal) {
      if (signal?.aborted) return Promise.reject(signal.reason);
      if (running < resolved.maxConcurrent && waiting.size === 0) {
        const release = grant();
        return new Promise((resolve) => handOver(resolve, release));
      }
      if (waiting.size >= resolved.maxQueue) {
        return Promise.reject(overloaded('The server is busy with other expensive requests; retry later.'));
      }
      return new Promise<Release>((resolve, reject) => {
        const waiter: Waiter = {
          resolve,
          reject,
          signal,
          timer: setTimeout(() => {
            leave(waiter);
            reject(overloaded('The server stayed busy with other expensive requests; retry later.'));
          }, resolved.queueTimeoutMs),
          onAbort: () => {
            leave(waiter);
            reject(signal?.reason);
          },
        };
        // The deadline must not keep a host process alive on its own.
        waiter.timer.unref?.();
        signal?.addEventListener('abort', waiter.onAbort, { once: true });
        waiting.add(waiter);
      });
    },
  };
}

/**
 * Delivers a slot on the next turn of the event loop, never in the same one. With a synchronous
 * driver (better-sqlite3) an expensive request runs start to end without yielding, so slots granted
 * at once would let every request read in one turn run back to back before any other socket is
 * read; deferring the grant lets the loop take in (and answer) cheap requests and refusals between
 * two expensive runs.
 */
function handOver(resolve: (release: Release) => void, release: Release): void {
  setImmediate(() => resolve(release));
}

function checkCount(name: string, value: number, min: number): number {
  if (!Number.isInteger(value) || value < min) {
    throw new TypeError(`shedding.${name} must be a whole number of at least ${min}; got ${String(value)}.`);
  }
  return value;
}

/**
 * Returns the profile with each route's `cost` set by `costOf` (routes it answers `undefined` for
 * keep theirs), so a host can declare which endpoints are expensive in its deployment.
 *
 * @example
 * ```ts
 * import { native, withCost } from '@eventlog/http';
 * const profile = withCost(native({ authenticate: () => ({ role: 'admin' }) }), (route) =>
 *   route.path === '/eventlog/sessions' ? 'expensive' : undefined,
 * );
 * ```
 */
export function withCost(profile: Profile, costOf: (route: Route) => Route['cost'] | undefined): Profile {
  return {
    ...profile,
    routes: profile.routes.map((route) => {
      const cost = costOf(route);
      return cost === undefined ? route : { ...route, cost };
    }),
  };
}
