import type { StorageAdapter } from '@eventlog/core';
import type { KyselyStore } from '../kysely/kysely-store.js';

type Row = Record<string, unknown>;

/**
 * SQL behind the core's back, as an attacker with database access would write it: the integrity
 * suite's way to tamper with a SQL store's rows and checkpoints, and to put them back.
 */
export interface Tamperer {
  /** Every row of a tenant's chain, by position. */
  chainRows(tenantId: string): Promise<Row[]>;
  update(id: number, values: Row): Promise<void>;
  remove(ids: readonly number[]): Promise<void>;
  /** Inserts a row (without `id`) and returns its id. */
  insert(row: Row): Promise<number>;
  /** Puts rows back exactly as they were (`id` included), replacing any row with the same id. */
  restore(rows: readonly Row[]): Promise<void>;
  checkpointBodies(): Promise<{ tenantKey: string; firstSeq: number; body: string }[]>;
  setCheckpointBody(tenantKey: string, firstSeq: number, body: string): Promise<void>;
  removeCheckpoints(): Promise<void>;
}

/** A {@link Tamperer} for the Kysely-based stores (SQLite, PostgreSQL, MySQL). */
export function kyselyTamperer(store: StorageAdapter): Tamperer {
  const { db, tables } = store as KyselyStore;
  if (!db || !tables) throw new Error('kyselyTamperer needs a Kysely-based store.');
  // Drivers that parse JSON columns hand back objects: write them back as JSON text.
  const writable = (row: Row): Row =>
    Object.fromEntries(Object.entries(row).map(([k, v]) => [k, v !== null && typeof v === 'object' ? JSON.stringify(v) : v]));
  return {
    async chainRows(tenantId) {
      const rows = await db
        .selectFrom(tables.events)
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .orderBy('chain_seq')
        .orderBy('id')
        .execute();
      return rows.map((r) => ({
        ...(r as Row),
        id: Number((r as Row).id),
        chain_seq: (r as Row).chain_seq === null ? null : Number((r as Row).chain_seq),
      }));
    },
    async update(id, values) {
      await db.updateTable(tables.events).set(writable(values)).where('id', '=', id).execute();
    },
    async remove(ids) {
      if (ids.length > 0)
        await db
          .deleteFrom(tables.events)
          .where('id', 'in', [...ids])
          .execute();
    },
    async insert(row) {
      const { id: _id, ...values } = row;
      await db.insertInto(tables.events).values(writable(values)).execute();
      const top = await db
        .selectFrom(tables.events)
        .select((eb) => eb.fn.max('id').as('id'))
        .executeTakeFirst();
      return Number((top as Row | undefined)?.id);
    },
    async restore(rows) {
      if (rows.length === 0) return;
      await db
        .deleteFrom(tables.events)
        .where(
          'id',
          'in',
          rows.map((r) => Number(r.id)),
        )
        .execute();
      await db.insertInto(tables.events).values(rows.map(writable)).execute();
    },
    async checkpointBodies() {
      const rows = await db
        .selectFrom(tables.checkpoints)
        .select(['tenant_key', 'first_seq', 'body'])
        .orderBy('tenant_key')
        .orderBy('first_seq')
        .execute();
      return rows.map((r) => ({
        tenantKey: String((r as Row).tenant_key),
        firstSeq: Number((r as Row).first_seq),
        body: String((r as Row).body),
      }));
    },
    async setCheckpointBody(tenantKey, firstSeq, body) {
      await db
        .updateTable(tables.checkpoints)
        .set({ body })
        .where('tenant_key', '=', tenantKey)
        .where('first_seq', '=', firstSeq)
        .execute();
    },
    async removeCheckpoints() {
      await db.deleteFrom(tables.checkpoints).execute();
    },
  };
}
