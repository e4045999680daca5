import type { ChainTail } from '@eventlog/core';
import type Database from 'better-sqlite3';
import type { ChainAppend } from '../kysely/chain-store.js';

/** How long an append waits for this connection to leave another transaction before giving up. */
const BUSY_CONNECTION_MS = 5000;

/**
 * The chained append of SQLite: one `BEGIN IMMEDIATE` transaction (SQLite's write lock, which other
 * processes wait for up to `busy_timeout`) around reading the tails, linking and inserting. It runs
 * synchronously from BEGIN to COMMIT, so nothing else on this connection can interleave: the
 * store's insert is better-sqlite3's synchronous transaction, which becomes a savepoint inside this one.
 * `writeReady` is the store's (bounded) wait for its checkpoint worker, taken once before BEGIN, as
 * the write path takes it before a plain insert; inside the transaction the insert never waits.
 */
export function sqliteChainAppend(database: Database.Database, writeReady?: (rows: number) => Promise<void> | undefined): ChainAppend {
  let totalChanges: Database.Statement | undefined;
  const tails = new Map<string, Database.Statement>();
  return async (rows, tenants, link, context) => {
    const deadline = Date.now() + BUSY_CONNECTION_MS;
    let waited = false;
    for (;;) {
      // Another operation on this connection holds an open transaction across awaits (a migration): wait for it.
      if (database.inTransaction) {
        if (Date.now() > deadline) throw new Error('SQLite connection stayed inside another transaction; cannot append to the chain.');
        await new Promise((resolve) => setTimeout(resolve, 2));
        continue;
      }
      // A checkpoint started since the write path's own wait (a timer, another batch): give it the
      // same bounded wait once, then look again; from here to COMMIT nothing awaits.
      const checkpoint = waited ? undefined : writeReady?.(rows.length);
      if (!checkpoint) break;
      waited = true;
      await checkpoint;
    }
    const table = context.tables.events;
    let tail = tails.get(table);
    if (!tail) {
      tail = database.prepare(
        `select chain_seq, chain_hash from "${table}" where tenant_id is ? and chain_seq is not null order by chain_seq desc limit 1`,
      );
      tails.set(table, tail);
    }
    totalChanges ??= database.prepare('select total_changes()').pluck();
    database.exec('BEGIN IMMEDIATE');
    let pending: Promise<number[]> | undefined;
    try {
      const found = new Map<string | null, ChainTail | null>();
      for (const tenant of tenants) {
        const row = tail.get(tenant) as { chain_seq: number; chain_hash: string } | undefined;
        found.set(tenant, row ? { seq: Number(row.chain_seq), hash: String(row.chain_hash) } : null);
      }
      const linked = link(found);
      const before = Number(totalChanges.get());
      pending = context.insert(linked);
      if (Number(totalChanges.get()) - before < linked.length) {
        throw new Error(
          'The SQLite insert did not run synchronously inside the chain transaction; refusing to commit a chain it did not write.',
        );
      }
      database.exec('COMMIT');
    } catch (error) {
      if (database.inTransaction) database.exec('ROLLBACK');
      await pending?.catch(() => undefined);
      throw error;
    }
    return pending;
  };
}
