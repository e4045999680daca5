import type { StoreSchema } from '@eventlog/core';
import { sql } from 'kysely';
import type { AnyKysely, ResolvedDialect as SqlDialect } from './dialect.js';
import { createJobsTable } from './jobs.js';
import { createRollupState } from './rollups-sql.js';

/** Names of the tables one store uses, schema-qualified where a schema is set (`schema.table`). */
export interface TableNames {
  events: string;
  sessions: string;
  locks: string;
  migrations: string;
  /** Signed checkpoints of the hash chains (migration 3). */
  checkpoints: string;
  /** One row per chained tenant, locked while appending to its chain (migration 3). */
  chainLocks: string;
  /** Tokens of recent inserts (engines with the `idempotentInsert` flag). */
  batches: string;
  /** Retention jobs (migration version 4). */
  jobs: string;
  /** The schema, when one is set (PostgreSQL). */
  schema: string | undefined;
  /** Unqualified name of the events table, for catalog look-ups. */
  eventsTable: string;
  /** Prefix of index names (unqualified). */
  indexPrefix: string;
}

const PREFIX = /^[A-Za-z_][A-Za-z0-9_]{0,15}$/;

/** Builds table names from a prefix (at most 16 characters, so index names fit every engine). */
export function tableNames(prefix: string, schema?: string): TableNames {
  if (!PREFIX.test(prefix) && prefix !== '') {
    throw new TypeError(`tablePrefix "${prefix}" must be letters, digits and "_" (at most 16, not starting with a digit).`);
  }
  if (schema !== undefined && !/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(schema)) {
    throw new TypeError(`schema "${schema}" must be letters, digits and "_".`);
  }
  const q = (name: string) => (schema ? `${schema}.${name}` : name);
  return {
    events: q(`${prefix}events`),
    sessions: q(`${prefix}sessions`),
    locks: q(`${prefix}locks`),
    migrations: q(`${prefix}migrations`),
    batches: q(`${prefix}batches`),
    checkpoints: q(`${prefix}checkpoints`),
    chainLocks: q(`${prefix}chain_locks`),
    jobs: q(`${prefix}jobs`),
    schema,
    eventsTable: `${prefix}events`,
    indexPrefix: `${prefix}ix_`,
  };
}

interface Migration {
  version: number;
  name: string;
  up(db: AnyKysely, schema: StoreSchema, dialect: SqlDialect, tables: TableNames): Promise<void>;
}

/** Versioned structural migrations; dimension/metric columns and indexes are synced after them. */
const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'create events, sessions and locks',
    async up(db, schema, dialect, tables) {
      const columns = schema.columns
        .filter((c) => c.kind === 'canonical')
        .map((c) =>
          c.name === 'id'
            ? sql`${sql.ref('id')} ${sql.raw(dialect.idColumn)}`
            : sql`${sql.ref(c.name)} ${sql.raw(dialect.columnType(c))}${sql.raw(c.nullable ? '' : ' not null')}`,
        );
      await sql`create table if not exists ${sql.table(tables.events)} (${sql.join(columns)})${sql.raw(dialect.tableOptions ?? '')}`.execute(
        db,
      );
      const text = (n: number) =>
        sql.raw(dialect.columnType({ name: '', type: 'string', maxLength: n, nullable: true, kind: 'canonical' }));
      const bigint = sql.raw(dialect.columnType({ name: '', type: 'integer', maxLength: undefined, nullable: false, kind: 'canonical' }));
      const json = sql.raw(dialect.columnType({ name: '', type: 'json', maxLength: undefined, nullable: false, kind: 'canonical' }));
      await sql`create table if not exists ${sql.table(tables.sessions)} (
        session_id ${text(128)} not null primary key,
        type ${text(128)} not null,
        tenant_id ${text(128)},
        actor_id ${text(128)},
        target_type ${text(64)},
        target_id ${text(255)},
        started_at ${bigint} not null,
        event ${json} not null
      )${sql.raw(dialect.tableOptions ?? '')}`.execute(db);
      await sql`create table if not exists ${sql.table(tables.locks)} (
        name ${text(128)} not null primary key,
        owner ${text(64)} not null,
        expires_at ${bigint} not null
      )${sql.raw(dialect.tableOptions ?? '')}`.execute(db);
    },
  },
  {
    version: 2,
    name: 'create rollup state (rollup tables follow the rollup spec, see rollups.ts)',
    async up(db, _schema, dialect, tables) {
      await createRollupState(db, dialect, tables);
    },
  },
  {
    version: 3,
    name: 'create chain checkpoints and chain locks',
    async up(db, _schema, dialect, tables) {
      await createChainTables(db, dialect, tables);
    },
  },
  { version: 4, name: 'create jobs', up: (db, _schema, dialect, tables) => createJobsTable(db, dialect, tables) },
];

/**
 * Applies pending migrations, adds missing dimension/metric columns and makes every index match
 * its spec (recreating those whose columns differ). Idempotent; callers hold the migration lock.
 */
export async function migrateSchema(db: AnyKysely, schema: StoreSchema, dialect: SqlDialect, tables: TableNames): Promise<void> {
  const bigint = sql.raw(dialect.columnType({ name: '', type: 'integer', maxLength: undefined, nullable: false, kind: 'canonical' }));
  const name = sql.raw(dialect.columnType({ name: '', type: 'string', maxLength: 128, nullable: false, kind: 'canonical' }));
  await sql`create table if not exists ${sql.table(tables.migrations)} (
    version ${bigint} not null primary key,
    name ${name} not null,
    applied_at ${bigint} not null
  )${sql.raw(dialect.tableOptions ?? '')}`.execute(db);
  const applied = new Set(
    (await db.selectFrom(tables.migrations).select('version').execute()).map((r) => Number((r as { version: unknown }).version)),
  );
  for (const migration of MIGRATIONS) {
    if (migration.version > schema.version || applied.has(migration.version)) continue;
    await migration.up(db, schema, dialect, tables);
    await db.insertInto(tables.migrations).values({ version: migration.version, name: migration.name, applied_at: Date.now() }).execute();
  }

  const existing = new Set(
    dialect.introspection.listColumns
      ? await dialect.introspection.listColumns(db, tables.eventsTable, tables.schema)
      : await listColumns(db, tables),
  );
  for (const column of schema.columns) {
    if (existing.has(column.name)) continue;
    await sql`alter table ${sql.table(tables.events)} add column ${sql.ref(column.name)} ${sql.raw(dialect.columnType(column))}`.execute(
      db,
    );
  }

  if (dialect.flags.idempotentInsert) {
    // Not a versioned migration: only engines that use it get it, and IF NOT EXISTS makes it idempotent.
    const token = sql.raw(dialect.columnType({ name: '', type: 'string', maxLength: 64, nullable: false, kind: 'canonical' }));
    const text = sql.raw(dialect.columnType({ name: '', type: 'text', maxLength: undefined, nullable: false, kind: 'canonical' }));
    await sql`create table if not exists ${sql.table(tables.batches)} (
      token ${token} not null primary key,
      ids ${text} not null,
      created_at ${bigint} not null
    )${sql.raw(dialect.tableOptions ?? '')}`.execute(db);
    const batchIndex = `${tables.indexPrefix}batches_created`;
    const batchTable = tables.batches.slice(tables.batches.lastIndexOf('.') + 1);
    if (!(await dialect.introspection.listIndexes(db, batchTable, tables.schema)).has(batchIndex)) {
      await db.schema.createIndex(batchIndex).on(tables.batches).column('created_at').execute();
    }
  }

  const indexes = await dialect.introspection.listIndexes(db, tables.eventsTable, tables.schema);
  for (const spec of schema.indexes) {
    const indexName = `${tables.indexPrefix}${spec.name}`;
    const current = indexes.get(indexName);
    if (current && sameColumns(current, spec.columns)) continue;
    if (current) {
      // An index with the right name but wrong column order is worse than none (see CONVENTIONS): rebuild it.
      // dropIndex() takes a dotted name as one identifier: qualify it with withSchema().
      const drop = (tables.schema ? db.withSchema(tables.schema) : db).schema.dropIndex(indexName);
      await (dialect.flags.dropIndexNeedsTable ? drop.on(tables.events) : drop).execute();
    }
    await db.schema
      .createIndex(indexName)
      .on(tables.events)
      .columns([...spec.columns])
      .execute();
  }
  // Verified on every migration like the indexes above (a dropped one comes back), and backfilled when built.
  await dialect.keywordSearch?.ensure(db, tables);
}

async function listColumns(db: AnyKysely, tables: TableNames): Promise<string[]> {
  const all = await db.introspection.getTables();
  const match = all.find((t) => t.name === tables.eventsTable && (tables.schema === undefined || t.schema === tables.schema));
  return match?.columns.map((c) => c.name) ?? [];
}

function sameColumns(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((column, i) => column.toLowerCase() === b[i]?.toLowerCase());
}

/** The tables of migration 3: checkpoints by tenant and first position, and the per-tenant lock rows. */
async function createChainTables(db: AnyKysely, dialect: SqlDialect, tables: TableNames): Promise<void> {
  const key = sql.raw(dialect.columnType({ name: '', type: 'string', maxLength: 300, nullable: false, kind: 'canonical' }));
  const bigint = sql.raw(dialect.columnType({ name: '', type: 'integer', maxLength: undefined, nullable: false, kind: 'canonical' }));
  const text = sql.raw(dialect.columnType({ name: '', type: 'text', maxLength: undefined, nullable: false, kind: 'canonical' }));
  await sql`create table if not exists ${sql.table(tables.checkpoints)} (
    tenant_key ${key} not null,
    first_seq ${bigint} not null,
    last_seq ${bigint} not null,
    body ${text} not null,
    primary key (tenant_key, first_seq)
  )${sql.raw(dialect.tableOptions ?? '')}`.execute(db);
  await sql`create table if not exists ${sql.table(tables.chainLocks)} (
    tenant_key ${key} not null primary key
  )${sql.raw(dialect.tableOptions ?? '')}`.execute(db);
}
