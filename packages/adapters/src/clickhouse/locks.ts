import type { ReleaseLock } from '@eventlog/core';
import { type Lease, takeLease } from '../shared/lease.js';
import type { ClickhouseContext } from './context.js';

// Named locks of this process, shared by every store instance on the same tables.
const LOCKS = new Map<string, Lease>();

/**
 * The store's `tryLock`. ClickHouse has no atomic compare-and-set to build a lease on, so the locks
 * exclude callers in this process only (`crossProcessLock: false`), keyed by database and table so
 * that two stores on the same tables share them.
 */
export function createTryLock(context: ClickhouseContext) {
  return async function tryLock(name: string, ttlMs: number): Promise<ReleaseLock | null> {
    return takeLease(LOCKS, `${await context.resolveDatabase()}.${context.names.events}:${name}`, ttlMs);
  };
}
