import type {
  ChainLinker,
  ChainRowsQuery,
  ChainStore,
  ChainTail,
  CheckpointRecord,
  EventRow,
  StoredRow,
  UnchainedRowsQuery,
} from '@eventlog/core';
import { type ExpressionBuilder, sql } from 'kysely';
import type { AnyKysely, InsertTransaction, ResolvedDialect } from './dialect.js';
import type { TableNames } from './migrations.js';
import { whereOf } from './where.js';

// biome-ignore lint/suspicious/noExplicitAny: run-time table layout.
type Eb = ExpressionBuilder<any, any>;

/** What an engine's chained append gets: the store's tables, a tail reader and the store's own insert. */
export interface ChainAppendContext {
  readonly db: AnyKysely;
  readonly tables: TableNames;
  readonly dialect: ResolvedDialect;
  /** The newest link of each tenant, read through `executor` (a transaction or connection) in one round trip. */
  tails(executor: AnyKysely, tenants: readonly (string | null)[]): Promise<Map<string | null, ChainTail | null>>;
  /**
   * The store's insert (its retry-safe strategy): inside `transaction` when given (the rows, their
   * token and rollup increments then commit or roll back with it), otherwise on its own connection.
   */
  insert(rows: readonly EventRow[], transaction?: InsertTransaction): Promise<number[]>;
}

/**
 * How an engine makes appends to one tenant's chain exclusive: MUST take the exclusion, read the
 * tails, call `link` once and insert its rows before letting the next append to those tenants in.
 */
export type ChainAppend = (
  rows: readonly EventRow[],
  tenants: readonly (string | null)[],
  link: ChainLinker,
  context: ChainAppendContext,
) => Promise<number[]>;

/** What {@link createChainStore} needs from the Kysely store. */
export interface ChainStoreParts {
  readonly db: AnyKysely;
  readonly tables: TableNames;
  readonly dialect: ResolvedDialect;
  /** The events table's columns except `id`, known after `migrate()`. */
  columns(): readonly string[];
  /** Columns read as JSON text. */
  jsonColumns(): readonly string[];
  /** Columns whose values are returned as JS numbers. */
  numericColumns(): readonly string[];
  insert(rows: readonly EventRow[], transaction?: InsertTransaction): Promise<number[]>;
  /** The engine's exclusive append; {@link lockedChainAppend} when absent. */
  append?: ChainAppend;
}

/** The chain members of the SQL stores (`storage/chain-contract.ts` in the core). */
export function createChainStore(parts: ChainStoreParts): ChainStore {
  const { db, tables, dialect } = parts;
  const tenantIs = (eb: Eb, tenantId: string | null) => (tenantId === null ? eb('tenant_id', 'is', null) : eb('tenant_id', '=', tenantId));

  const tail = async (executor: AnyKysely, tenantId: string | null): Promise<ChainTail | null> => {
    const row = await executor
      .selectFrom(tables.events)
      .select(['chain_seq', 'chain_hash'])
      .where((eb: Eb) => eb.and([tenantIs(eb, tenantId), eb('chain_seq', 'is not', null)]))
      .orderBy('chain_seq', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row
      ? { seq: Number((row as Record<string, unknown>).chain_seq), hash: String((row as Record<string, unknown>).chain_hash) }
      : null;
  };

  // One statement for every tenant of a batch: a UNION ALL of index seeks (every engine here accepts
  // parenthesised SELECTs with their own ORDER BY … LIMIT), so a batch costs one round trip, not one per tenant.
  const tails = async (executor: AnyKysely, tenants: readonly (string | null)[]) => {
    const found = new Map<string | null, ChainTail | null>(tenants.map((t) => [t, null]));
    for (let i = 0; i < tenants.length; i += 100) {
      const parts = tenants
        .slice(i, i + 100)
        .map(
          (tenant) =>
            sql`(select tenant_id, chain_seq, chain_hash from ${sql.table(tables.events)} where ${
              tenant === null ? sql`tenant_id is null` : sql`tenant_id = ${tenant}`
            } and chain_seq is not null order by chain_seq desc limit 1)`,
        );
      const result = await sql<Record<string, unknown>>`${sql.join(parts, sql` union all `)}`.execute(executor);
      for (const row of result.rows) {
        const tenant = row.tenant_id === null || row.tenant_id === undefined ? null : String(row.tenant_id);
        found.set(tenant, { seq: Number(row.chain_seq), hash: String(row.chain_hash) });
      }
    }
    return found;
  };

  const selection = () =>
    ['id', ...parts.columns()].map((c) => (dialect.jsonAsText && parts.jsonColumns().includes(c) ? dialect.jsonAsText(c).as(c) : c));

  const shape = (rows: unknown[]): StoredRow[] => {
    const numeric = new Set([...parts.numericColumns(), 'id', 'chain_seq']);
    return rows.map((raw) => {
      const row = raw as Record<string, unknown>;
      for (const column of numeric) {
        const value = row[column];
        if (value !== null && value !== undefined && typeof value !== 'number') row[column] = Number(value);
      }
      return row;
    });
  };

  const append = parts.append ?? lockedChainAppend;
  const context: ChainAppendContext = { db, tables, dialect, tails, insert: parts.insert };

  return {
    append: (rows, tenants, link) => append(rows, tenants, link, context),

    tail: (tenantId) => tail(db, tenantId),

    async rows(query: ChainRowsQuery) {
      const rows = await db
        .selectFrom(tables.events)
        .select(query.linksOnly ? ['id', 'time', 'tenant_id', 'chain_seq', 'chain_hash'] : selection())
        .where((eb: Eb) => {
          const parts = [tenantIs(eb, query.tenantId), eb('chain_seq', '>', query.afterSeq)];
          if (query.toSeq !== undefined) parts.push(eb('chain_seq', '<=', query.toSeq));
          return eb.and(parts);
        })
        .orderBy('chain_seq')
        .orderBy('id')
        .limit(query.limit)
        .execute();
      return shape(rows);
    },

    async unchained(query: UnchainedRowsQuery) {
      const rows = await db
        .selectFrom(tables.events)
        .select(selection())
        .where((eb: Eb) =>
          eb.and([
            tenantIs(eb, query.tenantId),
            eb('chain_seq', 'is', null),
            eb('id', '>', query.afterId),
            whereOf(eb, query.where, dialect),
          ]),
        )
        .orderBy('id')
        .limit(query.limit)
        .execute();
      return shape(rows);
    },

    async saveCheckpoint(record: CheckpointRecord) {
      const values = { tenant_key: record.tenantKey, first_seq: record.firstSeq, last_seq: record.lastSeq, body: record.body };
      const insert = db.insertInto(tables.checkpoints).values(values);
      const result = await (dialect.flags.upsert === 'onConflict'
        ? insert.onConflict((oc) => oc.doNothing())
        : insert.ignore()
      ).executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
    },

    async checkpoints(query) {
      const rows = await db
        .selectFrom(tables.checkpoints)
        .select(['tenant_key', 'first_seq', 'last_seq', 'body'])
        .where('tenant_key', '=', query.tenantKey)
        .where('first_seq', '>', query.afterSeq)
        .orderBy('first_seq')
        .limit(query.limit)
        .execute();
      return rows.map(toRecord);
    },

    async lastCheckpoint(tenantKey: string) {
      const row = await db
        .selectFrom(tables.checkpoints)
        .select(['tenant_key', 'first_seq', 'last_seq', 'body'])
        .where('tenant_key', '=', tenantKey)
        .orderBy('first_seq', 'desc')
        .limit(1)
        .executeTakeFirst();
      return row ? toRecord(row) : null;
    },

    async checkpointTenants(query) {
      let q = db.selectFrom(tables.checkpoints).select('tenant_key').distinct().orderBy('tenant_key').limit(query.limit);
      if (query.afterKey !== undefined) q = q.where('tenant_key', '>', query.afterKey);
      return (await q.execute()).map((r) => String((r as Record<string, unknown>).tenant_key));
    },
  };
}

function toRecord(raw: unknown): CheckpointRecord {
  const row = raw as Record<string, unknown>;
  return { tenantKey: String(row.tenant_key), firstSeq: Number(row.first_seq), lastSeq: Number(row.last_seq), body: String(row.body) };
}

/**
 * The chained append of the client-server engines: one transaction on one connection that locks
 * one row per tenant in the `chain_locks` table (`SELECT … FOR UPDATE`, in key order so two batches
 * never deadlock), reads the tails, writes the batch with the store's own insert strategy (rows,
 * token row, rollup increments) and commits: the rows and the release of the locks are one commit.
 * The tails are read after the locks are taken, and the previous holder's rows were committed with
 * its release of them, so each append sees the one before (on MySQL the tail statement is the
 * transaction's first consistent read, so its snapshot is taken after the locks are held). A crash
 * anywhere rolls the whole append back and releases the locks; the truth stays in the events table.
 */
export const lockedChainAppend: ChainAppend = async (_rows, tenants, link, context) => {
  const { db, tables, dialect } = context;
  const keys = [...new Set(tenants.map((t) => JSON.stringify(t)))].sort();
  await ensureLockRows(db, tables, dialect, keys);
  return db.transaction().execute(async (trx) => {
    await trx
      .selectFrom(tables.chainLocks)
      .select('tenant_key')
      .where('tenant_key', 'in', keys)
      .orderBy('tenant_key')
      .forUpdate()
      .execute();
    return context.insert(link(await context.tails(trx, tenants)), { db: trx });
  });
};

const knownLockRows = new WeakMap<TableNames, Set<string>>();

/** Inserts the `chain_locks` rows of `keys` that this process has not seen yet (they are never deleted). */
export async function ensureLockRows(db: AnyKysely, tables: TableNames, dialect: ResolvedDialect, keys: readonly string[]): Promise<void> {
  let known = knownLockRows.get(tables);
  if (!known) {
    known = new Set();
    knownLockRows.set(tables, known);
  }
  const missing = keys.filter((k) => !known.has(k));
  if (missing.length === 0) return;
  const insert = db.insertInto(tables.chainLocks).values(missing.map((tenant_key) => ({ tenant_key })));
  await (dialect.flags.upsert === 'onConflict' ? insert.onConflict((oc) => oc.doNothing()) : insert.ignore()).execute();
  for (const k of missing) known.add(k);
}
