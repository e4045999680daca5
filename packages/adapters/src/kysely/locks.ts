import { randomUUID } from 'node:crypto';
import type { ReleaseLock } from '@eventlog/core';
import type { AnyKysely } from './dialect.js';

/**
 * The default `tryLock`: a lock held as a row with an expiry in the locks table, which works
 * wherever the tables are shared. `isTransient` tells a lost connection (rethrown) from the
 * primary-key conflict that means someone else holds the lease.
 */
export async function leaseLock(
  db: AnyKysely,
  table: string,
  name: string,
  ttlMs: number,
  isTransient: (error: unknown) => boolean,
): Promise<ReleaseLock | null> {
  const owner = randomUUID();
  const now = Date.now();
  await db.deleteFrom(table).where('name', '=', name).where('expires_at', '<', now).execute();
  try {
    await db
      .insertInto(table)
      .values({ name, owner, expires_at: now + ttlMs })
      .execute();
  } catch (error) {
    if (isTransient(error)) throw error;
    return null; // the primary key is taken: someone else holds the lease
  }
  return async () => {
    await db.deleteFrom(table).where('name', '=', name).where('owner', '=', owner).execute();
  };
}

/**
 * A lock held by a dedicated connection (a session-level lock of the server) as a
 * {@link ReleaseLock}: `unlock` runs once however often release is called, and after `ttlMs` even
 * if the holder forgets to call it. `unlock` MUST hand the connection back (or destroy it when the
 * session is gone, which drops the lock with it).
 */
export function heldLock(unlock: () => Promise<void>, ttlMs: number): ReleaseLock {
  let released: Promise<void> | null = null;
  const release = () => {
    released ??= (async () => {
      clearTimeout(timer);
      await unlock();
    })();
    return released;
  };
  const timer = setTimeout(() => void release(), ttlMs);
  timer.unref();
  return release;
}
