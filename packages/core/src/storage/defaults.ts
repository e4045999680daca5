import type { EventStore, ReleaseLock } from './contract.js';

/** The optional store members, always present: the store's own, or the core's defaults. @internal */
export interface StoreDefaults {
  tryLock(name: string, ttlMs: number): Promise<ReleaseLock | null>;
  isTransientError(error: unknown): boolean;
}

/** In-process locks of stores without `tryLock`, per store object so two stores never share a name. */
const LOCAL_LOCKS = new WeakMap<EventStore, Map<string, { expires: number; token: symbol }>>();

/**
 * The store's `tryLock` and `isTransientError`, or the core's defaults when it has none: an
 * in-process lock that expires after its ttl, and "no error is transient". @internal
 */
export function storeDefaults(store: EventStore): StoreDefaults {
  const tryLock = store.tryLock?.bind(store) ?? ((name: string, ttlMs: number) => Promise.resolve(localLock(store, name, ttlMs)));
  const isTransient = store.isTransientError?.bind(store) ?? (() => false);
  return {
    tryLock,
    isTransientError: (error) => {
      try {
        return isTransient(error) === true;
      } catch {
        return false;
      }
    },
  };
}

function localLock(store: EventStore, name: string, ttlMs: number): ReleaseLock | null {
  let locks = LOCAL_LOCKS.get(store);
  if (!locks) {
    locks = new Map();
    LOCAL_LOCKS.set(store, locks);
  }
  const now = Date.now();
  const held = locks.get(name);
  if (held && held.expires > now) return null;
  const token = Symbol(name);
  locks.set(name, { expires: now + ttlMs, token });
  return async () => {
    // A holder whose ttl ran out must not release the lock a later holder took.
    if (locks.get(name)?.token === token) locks.delete(name);
  };
}
