import type { ReleaseLock } from '@eventlog/core';

/** Who holds a named lock in this process, and until when (epoch ms). */
export interface Lease {
  readonly owner: symbol;
  readonly expiresAt: number;
}

/**
 * Takes the named lock in `leases` unless another holder's lease is still running: the in-process
 * `tryLock` of stores without a cross-process lock. The release function frees the lock only while
 * this holder still owns it, so releasing a lease that expired and was taken over never frees the
 * new holder's lock; releasing twice is harmless.
 */
export function takeLease(leases: Map<string, Lease>, name: string, ttlMs: number): ReleaseLock | null {
  const now = Date.now();
  const held = leases.get(name);
  if (held && held.expiresAt > now) return null;
  const owner = Symbol(name);
  leases.set(name, { owner, expiresAt: now + ttlMs });
  return async () => {
    if (leases.get(name)?.owner === owner) leases.delete(name);
  };
}
