import type { ReleaseLock } from '@eventlog/core';
import type { ClickhouseContext } from './context.js';

// Named locks of this process, shared by every store instance on the same tables.
const LOCKS = new Map<string, { owner: symbol; expires: number }>();

/**
 * The store's `tryLock`. ClickHouse has no atomic compare-and-set to build a lease on, so the locks
 * exclude callers in this process only (`crossProcessLock: false`).
 */
export function createTryLock(context: ClickhouseContext) {
  return async function tryLock(name: string, ttlMs: number): Promise<ReleaseLock | null> {
    const key = `${await context.resolveDatabase()}.${context.names.events}:${name}`;
    const now = Date.now();
    const held = LOCKS.get(key);
    if (held && held.expires > now) return null;
    const owner = Symbol(name);
    LOCKS.set(key, { owner, expires: now + ttlMs });
    return async () => {
      if (LOCKS.get(key)?.owner === owner) LOCKS.delete(key);
    };
  };
}
