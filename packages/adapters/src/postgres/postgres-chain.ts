import type { ChainTail } from '@eventlog/core';
import pg from 'pg';
import { type ChainAppend, ensureLockRows } from '../kysely/chain-store.js';
import { pgText } from '../kysely/insert/postgres.js';

/** Tails read per UNION ALL statement. */
const TAILS_PER_STATEMENT = 100;

/** A validated table name (`[schema.]name`, letters, digits and `_`) as a quoted identifier. */
const quoted = (name: string) =>
  name
    .split('.')
    .map((part) => `"${part}"`)
    .join('.');

/** A string literal for the simple query protocol (U+0000 replaced as the store's bound strings are). */
const literal = (value: string) => pg.escapeLiteral(pgText(value));

/**
 * The chained append of PostgreSQL: one transaction on one connection (one `chain_locks` row per
 * tenant locked `FOR UPDATE` in key order, the tails read after the locks are held, the batch
 * written by the store's own insert strategy inside the same transaction, then COMMIT), with the
 * BEGIN, the locks and the tails sent as one simple-protocol message. Round trips: that message,
 * the insert (one `unnest` statement; or ids with the token row, then COPY) and COMMIT, so the rows
 * and the release of the locks are one commit. In READ COMMITTED each statement of the message
 * takes its own snapshot, so the tail statements, which run after the lock statement has returned,
 * see every batch committed by the previous holder of the locks; the transaction asks for READ
 * COMMITTED explicitly so a server default of REPEATABLE READ cannot freeze the snapshot before the
 * lock wait.
 */
export function postgresChainAppend(pool: pg.Pool): ChainAppend {
  return async (_rows, tenants, link, context) => {
    const { db, tables, dialect } = context;
    const keys = [...new Set(tenants.map((t) => JSON.stringify(t)))].sort();
    await ensureLockRows(db, tables, dialect, keys);
    const events = quoted(tables.events);
    const statements = [
      'begin isolation level read committed',
      `select tenant_key from ${quoted(tables.chainLocks)} where tenant_key in (${keys.map(literal).join(', ')}) order by tenant_key for update`,
    ];
    for (let from = 0; from < tenants.length; from += TAILS_PER_STATEMENT) {
      const parts: string[] = [];
      for (let i = from; i < Math.min(tenants.length, from + TAILS_PER_STATEMENT); i++) {
        const tenant = tenants[i] as string | null;
        const where = tenant === null ? 'tenant_id is null' : `tenant_id = ${literal(tenant)}`;
        // Tails are told apart by their tenant's position in `tenants`, not by the stored tenant text.
        parts.push(
          `(select ${i} as i, chain_seq, chain_hash from ${events} where ${where} and chain_seq is not null order by chain_seq desc limit 1)`,
        );
      }
      statements.push(parts.join(' union all '));
    }
    const client = await pool.connect();
    let broken: Error | undefined;
    let writing = false;
    try {
      const results = (await client.query(statements.join(';\n'))) as unknown as pg.QueryResult[];
      const found = new Map<string | null, ChainTail | null>(tenants.map((t) => [t, null]));
      for (const result of results.slice(2)) {
        for (const row of result.rows as { i: number | string; chain_seq: number | string; chain_hash: string }[]) {
          found.set(tenants[Number(row.i)] as string | null, { seq: Number(row.chain_seq), hash: String(row.chain_hash) });
        }
      }
      const linked = link(found);
      writing = true;
      const ids = await context.insert(linked, { client });
      writing = false;
      await client.query('commit');
      return ids;
    } catch (error) {
      broken = error instanceof Error ? error : new Error(String(error));
      // A failed insert can leave the connection mid-protocol (a COPY): it is discarded, and the
      // server rolls back when it closes. Otherwise ROLLBACK ends the locks at once.
      if (!writing) await client.query('rollback').catch(() => undefined);
      throw error;
    } finally {
      client.release(broken);
    }
  };
}
