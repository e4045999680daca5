import { randomUUID } from 'node:crypto';
import type {
  AggregateQuery,
  AggregateRow,
  Condition,
  DeleteQuery,
  EventRow,
  FindQuery,
  ReleaseLock,
  SessionQuery,
  SessionRow,
  StorageAdapter,
  StoreCapabilities,
  StoredRow,
  StoreSchema,
} from '@eventlog/core';
import { type CompiledQuery, type ExpressionBuilder, type SelectQueryBuilder, sql } from 'kysely';
import type { AnyKysely, SqlDialect } from './dialect.js';
import { compactJson } from './json.js';
import { migrateSchema, type TableNames, tableNames } from './migrations.js';
import { afterOf, whereOf } from './where.js';

/** Options of {@link createKyselyStore}. */
export interface KyselyStoreOptions {
  db: AnyKysely;
  dialect: SqlDialect;
  /** Prefix of every table and index name. @default 'eventlog_' */
  tablePrefix?: string;
  /** Schema holding the tables (PostgreSQL). */
  schema?: string;
  /** Releases what the store created (its Kysely instance, a pool it opened). */
  destroy: () => Promise<void>;
}

/** A store plus the internals engine packages and tests need. */
export interface KyselyStore extends StorageAdapter {
  readonly db: AnyKysely;
  readonly tables: TableNames;
  /** Column names of the events table in schema order, known after `migrate()`. */
  readonly columns: readonly string[];
}

// biome-ignore lint/suspicious/noExplicitAny: run-time table layout.
type AnyExpressionBuilder = ExpressionBuilder<any, any>;
// biome-ignore lint/suspicious/noExplicitAny: run-time table layout.
type AnySelect = SelectQueryBuilder<any, any, any>;

/** A Kysely query that can be compiled and executed. */
interface Compilable {
  compile(): CompiledQuery;
  execute(): Promise<unknown[]>;
}

const SESSION_COLUMNS = ['session_id', 'type', 'tenant_id', 'actor_id', 'target_type', 'target_id', 'started_at', 'event'] as const;

/**
 * Implements the storage contract on a Kysely instance and a {@link SqlDialect}; the SQLite,
 * PostgreSQL and MySQL stores are this plus their dialect.
 */
export function createKyselyStore(options: KyselyStoreOptions): KyselyStore {
  const { db, dialect } = options;
  const tables = tableNames(options.tablePrefix ?? 'eventlog_', options.schema);
  let columns: string[] = [];
  let numericColumns: string[] = ['id', 'time'];
  let jsonColumns: string[] = ['data'];
  let closed = false;

  /** Runs a read query through the dialect's fast path when it has one. */
  const rowsOf = async (query: Compilable): Promise<Record<string, unknown>[]> =>
    dialect.select ? dialect.select(query.compile()) : ((await query.execute()) as Record<string, unknown>[]);

  const normalize = (row: Record<string, unknown>): StoredRow => {
    for (const column of numericColumns) {
      const value = row[column];
      if (value !== null && value !== undefined && typeof value !== 'number') row[column] = Number(value);
    }
    if (dialect.jsonAsText) {
      for (const column of jsonColumns) {
        const value = row[column];
        if (typeof value === 'string') row[column] = compactJson(value);
      }
    }
    return row;
  };

  /** The select list of `find`: JSON columns read as text where the driver would parse them. */
  const selection = (names: readonly string[], alias?: string) =>
    names.map((c) => {
      const ref = alias ? `${alias}.${c}` : c;
      return dialect.jsonAsText && jsonColumns.includes(c) ? dialect.jsonAsText(ref).as(c) : ref;
    });

  const insertChunks = async (executor: AnyKysely, chunks: readonly EventRow[][]): Promise<number[]> => {
    const ids: number[] = [];
    for (const chunk of chunks) {
      const values = chunk.map((row) => pick(row, columns, jsonColumns, dialect.jsonValue));
      if (dialect.capabilities.returnsIds && dialect.engine !== 'mysql') {
        const result = await executor.insertInto(tables.events).values(values).returning('id').execute();
        for (const r of result) ids.push(Number((r as { id: unknown }).id));
      } else {
        const [result] = await executor.insertInto(tables.events).values(values).execute();
        if (dialect.capabilities.returnsIds && result?.insertId !== undefined) {
          // MySQL hands out consecutive ids to one multi-row insert (innodb_autoinc_lock_mode <= 1, checked at migrate).
          const first = Number(result.insertId);
          for (let i = 0; i < chunk.length; i++) ids.push(first + i);
        }
      }
    }
    return ids;
  };

  // Tokens of failed inserts, by the rows array the write buffer retries with (see idempotentInsert).
  const tokens = new WeakMap<readonly EventRow[], string>();
  let lastSweep = 0;

  const committedIds = async (token: string): Promise<number[] | null> => {
    const row = await db.selectFrom(tables.batches).select('ids').where('token', '=', token).executeTakeFirst();
    return row ? decodeIds(String((row as { ids: unknown }).ids)) : null;
  };

  const insertOnce = async (rows: readonly EventRow[], chunks: readonly EventRow[][]): Promise<number[]> => {
    const previous = tokens.get(rows);
    if (previous) {
      const prior = await committedIds(previous);
      if (prior) {
        tokens.delete(rows);
        return prior;
      }
    }
    const token = previous ?? randomUUID();
    tokens.set(rows, token);
    try {
      const ids = await db.transaction().execute(async (trx) => {
        const ids = await insertChunks(trx, chunks);
        await trx
          .insertInto(tables.batches)
          .values({ token, ids: encodeIds(ids), created_at: Date.now() })
          .execute();
        return ids;
      });
      tokens.delete(rows);
      sweepTokens();
      return ids;
    } catch (error) {
      if (previous) {
        // An earlier attempt still committing held the token's key: once it committed, this one collided.
        const prior = await committedIds(token).catch(() => null);
        if (prior) {
          tokens.delete(rows);
          return prior;
        }
      }
      throw error;
    }
  };

  /** Tokens only matter while the write buffer may still retry; older ones are removed now and then. */
  const sweepTokens = () => {
    const now = Date.now();
    if (now - lastSweep < 60_000) return;
    lastSweep = now;
    void db
      .deleteFrom(tables.batches)
      .where('created_at', '<', now - TOKEN_TTL_MS)
      .execute()
      .catch(() => undefined);
  };

  const insertRows = async (rows: readonly EventRow[]): Promise<number[]> => {
    if (rows.length === 0) return [];
    if (dialect.insert) return dialect.insert(rows, columns);
    const perStatement = Math.max(1, Math.floor(dialect.capabilities.maxParameters / Math.max(1, columns.length)));
    const chunks = chunkRows(rows, perStatement, dialect.maxStatementBytes);
    if (dialect.idempotentInsert) return insertOnce(rows, chunks);
    return chunks.length === 1 ? insertChunks(db, chunks) : db.transaction().execute((trx) => insertChunks(trx, chunks));
  };

  const store: KyselyStore = {
    engine: dialect.engine,
    get capabilities(): StoreCapabilities {
      return dialect.capabilities;
    },
    db,
    tables,
    get columns() {
      return columns;
    },

    async migrate(schema: StoreSchema) {
      await dialect.withMigrationLock(db, `eventlog:migrate:${tables.events}`, (locked) => migrateSchema(locked, schema, dialect, tables));
      columns = schema.columns.filter((c) => c.name !== 'id').map((c) => c.name);
      numericColumns = schema.columns.filter((c) => c.type === 'integer' || c.type === 'float').map((c) => c.name);
      jsonColumns = schema.columns.filter((c) => c.type === 'json').map((c) => c.name);
      await dialect.afterMigrate?.(db);
    },

    insert: insertRows,

    async find(query: FindQuery) {
      const { column, direction } = query.orderBy;
      const page = <Q extends AnySelect>(q: Q): Q => {
        let out = q
          .where((eb: AnyExpressionBuilder) => {
            const parts = [whereOf(eb, query.where, dialect)];
            if (query.after) parts.push(afterOf(eb, column, direction, query.after, dialect));
            return eb.and(parts);
          })
          .orderBy(column, direction);
        if (column !== 'id') out = out.orderBy('id', direction);
        out = out.limit(query.limit);
        if (query.offset) out = out.offset(query.offset);
        return out as Q;
      };
      // Only known columns are selected; `id` and the order column always are.
      let wanted = query.columns
        ? [...new Set(['id', column, ...query.columns])].filter((c) => c === 'id' || columns.includes(c))
        : undefined;
      if (!wanted && dialect.jsonAsText) wanted = ['id', ...columns];
      if (dialect.deferredJoin) {
        // The page's ids come from the index alone; only those rows are then read.
        const ids = page(db.selectFrom(tables.events).select('id'));
        const joined = db.selectFrom(`${tables.events} as e`).innerJoin(ids.as('k'), 'k.id', 'e.id');
        let q = (wanted ? joined.select(selection(wanted, 'e')) : joined.selectAll('e')).orderBy(`e.${column}`, direction);
        if (column !== 'id') q = q.orderBy('e.id', direction);
        return (await rowsOf(q)).map(normalize);
      }
      const from = db.selectFrom(tables.events);
      const rows = await rowsOf(page(wanted ? from.select(selection(wanted)) : from.selectAll()));
      return rows.map(normalize);
    },

    async count(where: readonly Condition[]) {
      const [row] = await rowsOf(
        db
          .selectFrom(tables.events)
          .select((eb) => eb.fn.countAll().as('n'))
          .where((eb) => whereOf(eb, where, dialect)),
      );
      return Number(row?.n ?? 0);
    },

    async aggregate(query: AggregateQuery): Promise<AggregateRow[]> {
      const groupBy = query.groupBy;
      const key =
        groupBy === undefined ? undefined : 'column' in groupBy ? sql.ref(groupBy.column) : dialect.timeBucket('time', groupBy.timeStepMs);
      let q = db
        .selectFrom(tables.events)
        .select((eb) => [
          eb.fn.countAll().as('n'),
          ...query.sum.map((m, i) => sql`coalesce(sum(${sql.ref(m)}), 0)`.as(`s${i}`)),
          ...(key ? [key.as('k')] : []),
        ])
        .where((eb) => whereOf(eb, query.where, dialect));
      if (key) q = q.groupBy(key);
      if (query.orderBy) {
        const index = query.sum.indexOf(query.orderBy.by);
        const order = query.orderBy.by === 'count' || index === -1 ? sql`count(*)` : sql`coalesce(sum(${sql.ref(query.orderBy.by)}), 0)`;
        q = q.orderBy(sql`${order} ${sql.raw(query.orderBy.direction)}`);
        if (key) q = q.orderBy(key);
      }
      if (query.limit !== undefined) q = q.limit(query.limit);
      const rows = await rowsOf(q);
      return rows.map((row) => {
        const sums: Record<string, number> = {};
        query.sum.forEach((m, i) => {
          sums[m] = Number(row[`s${i}`] ?? 0);
        });
        const base = { count: Number(row.n ?? 0), sums };
        if (!key) return base;
        const k = row.k;
        const numericKey = groupBy && ('timeStepMs' in groupBy || numericColumns.includes(groupBy.column));
        return { ...base, key: k === null || k === undefined ? null : numericKey ? Number(k) : String(k) };
      });
    },

    async delete(query: DeleteQuery) {
      if (dialect.deleteWithLimit) {
        const result = await db
          .deleteFrom(tables.events)
          .where((eb) => whereOf(eb, query.where, dialect))
          .orderBy('time')
          .orderBy('id')
          .limit(query.limit)
          .executeTakeFirst();
        return Number(result.numDeletedRows);
      }
      const result = await db
        .deleteFrom(tables.events)
        .where('id', 'in', (eb: AnyExpressionBuilder) =>
          eb
            .selectFrom(tables.events)
            .select('id')
            .where((inner: AnyExpressionBuilder) => whereOf(inner, query.where, dialect))
            .orderBy('time')
            .orderBy('id')
            .limit(query.limit),
        )
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },

    async openSession(row: SessionRow) {
      const event = typeof row.event === 'string' ? row.event : JSON.stringify(row.event);
      const values = { ...sessionColumns(row), event: dialect.jsonValue ? dialect.jsonValue(event) : event };
      const update = Object.fromEntries(SESSION_COLUMNS.filter((c) => c !== 'session_id').map((c) => [c, values[c]]));
      const insert = db.insertInto(tables.sessions).values(values);
      await (dialect.upsert === 'onConflict'
        ? insert.onConflict((oc) => oc.column('session_id').doUpdateSet(update))
        : insert.onDuplicateKeyUpdate(update)
      ).execute();
    },

    async closeSession(sessionId: string) {
      return db.transaction().execute(async (trx) => {
        const row = await trx.selectFrom(tables.sessions).selectAll().where('session_id', '=', sessionId).executeTakeFirst();
        if (!row) return null;
        const result = await trx.deleteFrom(tables.sessions).where('session_id', '=', sessionId).executeTakeFirst();
        // Another closer won the race: only one caller sees the session.
        if (Number(result.numDeletedRows) === 0) return null;
        return sessionRow(row as Record<string, unknown>);
      });
    },

    async listSessions(query: SessionQuery) {
      let q = db
        .selectFrom(tables.sessions)
        .selectAll()
        .where((eb) => whereOf(eb, query.where, dialect))
        .orderBy('started_at')
        .orderBy('session_id')
        .limit(query.limit);
      if (query.offset) q = q.offset(query.offset);
      return (await q.execute()).map((row) => sessionRow(row as Record<string, unknown>));
    },

    async tryLock(name: string, ttlMs: number): Promise<ReleaseLock | null> {
      const key = `eventlog:${tables.events}:${name}`;
      if (dialect.tryLock) return dialect.tryLock(db, key, ttlMs);
      return leaseLock(db, tables.locks, key, ttlMs, dialect);
    },

    isTransientError: (error) => dialect.isTransientError(error),

    async close() {
      if (closed) return;
      closed = true;
      await options.destroy();
    },
  };
  return store;
}

/** How long an insert token is kept: far longer than the write buffer keeps retrying. */
const TOKEN_TTL_MS = 10 * 60_000;

/** Ids as runs of consecutive values, `first:count,…`, to keep token rows small. */
function encodeIds(ids: readonly number[]): string {
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

function decodeIds(text: string): number[] {
  const ids: number[] = [];
  for (const run of text.split(',')) {
    if (!run) continue;
    const [first, n] = run.split(':').map(Number) as [number, number];
    for (let i = 0; i < n; i++) ids.push(first + i);
  }
  return ids;
}

/** Splits rows into statements under the parameter limit and, when the engine has one, a size limit. */
function chunkRows(rows: readonly EventRow[], perStatement: number, maxBytes: number | undefined): EventRow[][] {
  if (maxBytes === undefined) {
    const chunks: EventRow[][] = [];
    for (let i = 0; i < rows.length; i += perStatement) chunks.push(rows.slice(i, i + perStatement));
    return chunks;
  }
  const chunks: EventRow[][] = [];
  let chunk: EventRow[] = [];
  let bytes = 0;
  for (const row of rows) {
    // An upper bound of the row's share of the statement: 3 UTF-8 bytes per UTF-16 unit, doubled for escapes.
    let size = 0;
    for (const value of Object.values(row)) size += typeof value === 'string' ? value.length * 6 + 4 : 24;
    if (chunk.length > 0 && (chunk.length >= perStatement || bytes + size > maxBytes)) {
      chunks.push(chunk);
      chunk = [];
      bytes = 0;
    }
    chunk.push(row);
    bytes += size;
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}

function pick(
  row: EventRow,
  columns: readonly string[],
  jsonColumns: readonly string[],
  jsonValue: ((json: string) => string) | undefined,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const column of columns) out[column] = row[column] ?? null;
  if (jsonValue) {
    for (const column of jsonColumns) {
      const value = out[column];
      if (typeof value === 'string') out[column] = jsonValue(value);
    }
  }
  return out;
}

function sessionRow(row: Record<string, unknown>): SessionRow {
  return {
    sessionId: String(row.session_id),
    type: String(row.type),
    tenantId: (row.tenant_id as string | null) ?? null,
    actorId: (row.actor_id as string | null) ?? null,
    targetType: (row.target_type as string | null) ?? null,
    targetId: (row.target_id as string | null) ?? null,
    startedAt: Number(row.started_at),
    event: row.event,
  };
}

/** A session row under its column names. */
function sessionColumns(row: SessionRow) {
  return {
    session_id: row.sessionId,
    type: row.type,
    tenant_id: row.tenantId,
    actor_id: row.actorId,
    target_type: row.targetType,
    target_id: row.targetId,
    started_at: row.startedAt,
  };
}

/** A lock held as a row with an expiry: works wherever the tables are shared. */
async function leaseLock(db: AnyKysely, table: string, name: string, ttlMs: number, dialect: SqlDialect): Promise<ReleaseLock | null> {
  const owner = randomUUID();
  const now = Date.now();
  await db.deleteFrom(table).where('name', '=', name).where('expires_at', '<', now).execute();
  try {
    await db
      .insertInto(table)
      .values({ name, owner, expires_at: now + ttlMs })
      .execute();
  } catch (error) {
    if (dialect.isTransientError(error)) throw error;
    return null; // the primary key is taken: someone else holds the lease
  }
  return async () => {
    await db.deleteFrom(table).where('name', '=', name).where('owner', '=', owner).execute();
  };
}
