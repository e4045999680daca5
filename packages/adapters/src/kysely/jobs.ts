import type { JobQuery, JobRow, JobStatus, JobStore } from '@eventlog/core';
import { sql } from 'kysely';
import type { AnyKysely, ResolvedDialect } from './dialect.js';
import type { TableNames } from './migrations.js';

/** Migration version 4: the jobs table, with an index for a policy's history newest first. @internal */
export async function createJobsTable(db: AnyKysely, dialect: ResolvedDialect, tables: TableNames): Promise<void> {
  const type = (t: 'string' | 'integer' | 'text', maxLength?: number) =>
    sql.raw(dialect.columnType({ name: '', type: t, maxLength, nullable: false, kind: 'canonical' }));
  await sql`create table if not exists ${sql.table(tables.jobs)} (
    id ${type('string', 64)} not null primary key,
    name ${type('string', 128)} not null,
    kind ${type('string', 32)} not null,
    status ${type('string', 16)} not null,
    created_at ${type('integer')} not null,
    updated_at ${type('integer')} not null,
    cancel_requested ${type('integer')} not null,
    state ${type('text')} not null
  )${sql.raw(dialect.tableOptions ?? '')}`.execute(db);
  await db.schema.createIndex(`${tables.indexPrefix}jobs_name_created`).on(tables.jobs).columns(['name', 'created_at']).execute();
}

const fromRow = (row: Record<string, unknown>): JobRow => ({
  id: String(row.id),
  name: String(row.name),
  kind: String(row.kind),
  status: String(row.status) as JobStatus,
  createdAt: Number(row.created_at),
  updatedAt: Number(row.updated_at),
  cancelRequested: Number(row.cancel_requested) === 1,
  state: String(row.state),
});

/** The contract's job table on the store's Kysely instance. @internal */
export function kyselyJobStore(db: AnyKysely, tables: TableNames): JobStore {
  return {
    async create(row) {
      await db
        .insertInto(tables.jobs)
        .values({
          id: row.id,
          name: row.name,
          kind: row.kind,
          status: row.status,
          created_at: row.createdAt,
          updated_at: row.updatedAt,
          cancel_requested: row.cancelRequested ? 1 : 0,
          state: row.state,
        })
        .execute();
    },
    async update(row) {
      await db
        .updateTable(tables.jobs)
        .set({ status: row.status, updated_at: row.updatedAt, state: row.state })
        .where('id', '=', row.id)
        .execute();
    },
    async requestCancel(id) {
      const result = await db
        .updateTable(tables.jobs)
        .set({ cancel_requested: 1 })
        .where('id', '=', id)
        .where('status', 'in', ['pending', 'running'])
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0 || (await this.get(id))?.cancelRequested === true;
    },
    async get(id) {
      const row = await db.selectFrom(tables.jobs).selectAll().where('id', '=', id).executeTakeFirst();
      return row ? fromRow(row as Record<string, unknown>) : null;
    },
    async list(query: JobQuery) {
      let q = db.selectFrom(tables.jobs).selectAll();
      if (query.name !== undefined) q = q.where('name', '=', query.name);
      if (query.status) {
        if (query.status.length === 0) return [];
        q = q.where('status', 'in', [...query.status]);
      }
      q = q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(query.limit);
      if (query.offset) q = q.offset(query.offset);
      return (await q.execute()).map((row) => fromRow(row as Record<string, unknown>));
    },
  };
}
