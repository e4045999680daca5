import { randomUUID } from 'node:crypto';
import type { EventRow } from '@eventlog/core';
import type { InsertContext, InsertStrategy } from '../dialect.js';

/** How long an insert token is kept: far longer than the write buffer keeps retrying. */
export const TOKEN_TTL_MS = 10 * 60_000;

/** Old tokens are deleted at most this often, in the background of an insert. */
const SWEEP_EVERY_MS = 60_000;

/** The token of one batch, handed to an insert strategy by {@link idempotentInsert}. */
export interface BatchToken {
  /** A random UUID, the primary key of the token row. */
  readonly token: string;
  /** When the token was first used (epoch ms); rows older than {@link TOKEN_TTL_MS} are swept. */
  readonly createdAt: number;
}

/** A row of the `batches` table. */
export interface BatchRow {
  token: string;
  /** The batch's ids in {@link encodeIds} form. */
  ids: string;
  created_at: number;
}

/** The row an insert strategy writes for `token` once it knows the ids of its rows. */
export function batchRow(token: BatchToken, ids: readonly number[]): BatchRow {
  return { token: token.token, ids: encodeIds(ids), created_at: token.createdAt };
}

/**
 * Ids as runs of consecutive values, `first:count,…`, to keep token rows small (a multi-row
 * INSERT gets consecutive ids, so a batch is usually one run). The one encoding every strategy
 * writes; PostgreSQL's `unnest` strategy computes the same text on the server.
 */
export function encodeIds(ids: readonly number[]): string {
  const runs: string[] = [];
  for (let i = 0; i < ids.length; ) {
    const first = ids[i] as number;
    let n = 1;
    while (i + n < ids.length && ids[i + n] === first + n) n++;
    runs.push(`${first}:${n}`);
    i += n;
  }
  return runs.join(',');
}

/**
 * Reads {@link encodeIds} text, and also the plain comma list (`5,6,9`) that PostgreSQL stores
 * wrote before the encodings were unified: a token row written by an older version during a
 * rolling upgrade still answers its retry. Such rows live at most {@link TOKEN_TTL_MS}.
 */
export function decodeIds(text: string): number[] {
  const ids: number[] = [];
  for (const part of text.split(',')) {
    if (!part) continue;
    const colon = part.indexOf(':');
    if (colon === -1) {
      ids.push(Number(part));
      continue;
    }
    const first = Number(part.slice(0, colon));
    const n = Number(part.slice(colon + 1));
    for (let i = 0; i < n; i++) ids.push(first + i);
  }
  return ids;
}

/**
 * Wraps an insert strategy in the token protocol that makes a retry safe. Each batch gets a token
 * that the strategy writes in the same transaction as the rows. When the write buffer retries the
 * same rows array (its retries always do) after a failure whose outcome is unknown, the token is
 * looked up first: found, the rows are stored and their ids are returned without writing again.
 */
export function idempotentInsert(strategy: InsertStrategy): InsertStrategy {
  // Tokens of failed inserts, by the rows array the write buffer retries with.
  const tokens = new WeakMap<readonly EventRow[], BatchToken>();
  let lastSweep = 0;

  const committedIds = async (context: InsertContext, token: BatchToken): Promise<number[] | null> => {
    const row = await context.db.selectFrom(context.tables.batches).select('ids').where('token', '=', token.token).executeTakeFirst();
    return row ? decodeIds(String((row as { ids: unknown }).ids)) : null;
  };

  const sweep = (context: InsertContext) => {
    const now = Date.now();
    if (now - lastSweep < SWEEP_EVERY_MS) return;
    lastSweep = now;
    void context.db
      .deleteFrom(context.tables.batches)
      .where('created_at', '<', now - TOKEN_TTL_MS)
      .execute()
      .catch(() => undefined);
  };

  return async (rows, columns, context) => {
    const previous = tokens.get(rows);
    if (previous) {
      const prior = await committedIds(context, previous);
      if (prior) {
        tokens.delete(rows);
        return prior;
      }
    }
    const token = previous ?? { token: randomUUID(), createdAt: Date.now() };
    tokens.set(rows, token);
    try {
      const ids = await strategy(rows, columns, { ...context, token });
      tokens.delete(rows);
      sweep(context);
      return ids;
    } catch (error) {
      if (previous) {
        // An earlier attempt still committing held the token's key: once it committed, this one collided.
        const prior = await committedIds(context, token).catch(() => null);
        if (prior) {
          tokens.delete(rows);
          return prior;
        }
      }
      throw error;
    }
  };
}
