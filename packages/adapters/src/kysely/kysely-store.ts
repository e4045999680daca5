import type {
  AggregateQuery,
  AggregateRow,
  Condition,
  DeleteQuery,
  EventRow,
  FindQuery,
  MigrateOptions,
  ReleaseLock,
  RollupQuery,
  SessionQuery,
  SessionRow,
  StorageAdapter,
  StoreCapabilities,
  StoredRow,
  StoreReadOptions,
  StoreSchema,
} from '@eventlog/core';
import { fromSessionColumns, toSessionColumns } from '@eventlog/core';
import { type CompiledQuery, type ExpressionBuilder, type SelectQueryBuilder, sql } from 'kysely';
import { toAggregateRows } from '../shared/aggregate-rows.js';
import { withCancellation } from './cancel.js';
import { type ChainAppend, createChainStore } from './chain-store.js';
import { type AnyKysely, type InsertContext, type InsertTransaction, resolveDialect, type SqlDialect } from './dialect.js';
import { idempotentInsert } from './insert/idempotent.js';
import { multiRowInsert } from './insert/multi-row.js';
import { kyselyJobStore } from './jobs.js';
import { compactJson } from './json.js';
import { leaseLock } from './locks.js';
import { migrateSchema, type TableNames, tableNames } from './migrations.js';
import { createKyselyRollups } from './rollups.js';
import { findSearchPage, type SearchPageReads } from './search/search-pages.js';
import { classified } from './transient.js';
import { afterOf, whereOf } from './where.js';

/** Options of {@link createKyselyStore}. */
export interface KyselyStoreOptions {
  /** The Kysely instance the store runs its queries on. */
  db: AnyKysely;
  /** What differs on this engine; defaults are filled in by the store. */
  dialect: SqlDialect;
  /** Prefix of every table and index name. @default 'eventlog_' */
  tablePrefix?: string;
  /** Schema holding the tables (PostgreSQL). */
  schema?: string;
  /** Releases what the store created (its Kysely instance, a pool it opened). */
  destroy: () => Promise<void>;
  /** How chained appends exclude each other (`kysely/chain-store.ts`); row locks in a transaction when absent. */
  chainAppend?: ChainAppend;
}

/** A store plus the internals engine packages and tests need. */
export interface KyselyStore extends StorageAdapter {
  /** The Kysely instance the store queries through. */
  readonly db: AnyKysely;
  /** The names of the store's tables. */
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
  const { db } = options;
  const dialect = resolveDialect(options.dialect, multiRowInsert({ engine: options.dialect.engine }));
  const tables = tableNames(options.tablePrefix ?? 'eventlog_', options.schema);
  let columns: string[] = [];
  let numericColumns: string[] = ['id', 'time'];
  let jsonColumns: string[] = ['data'];
  let closed = false;

  /** Runs a read query through the dialect's fast path when it has one; a `signal` cancels it where the engine can. */
  const rowsOf = async (query: Compilable, signal?: AbortSignal): Promise<Record<string, unknown>[]> => {
    if (!signal) return dialect.select ? dialect.select(query.compile()) : ((await query.execute()) as Record<string, unknown>[]);
    return withCancellation(db, dialect.canceller, signal, async (on) =>
      on === db && dialect.select
        ? dialect.select(query.compile(), dialect.canceller ? undefined : signal)
        : ((await on.executeQuery(query.compile())).rows as Record<string, unknown>[]),
    );
  };

  const normalize = (row: Record<string, unknown>): StoredRow => {
    for (const column of numericColumns) {
      const value = row[column];
      if (value !== null && value !== undefined && typeof value !== 'number') row[column] = Number(value);
    }
    return row;
  };

  /**
   * For reads that hand JSON text on verbatim (CSV exports ask for columns): the engine's text made
   * compact, so every engine exports the same bytes. Event reads skip it: the core parses the text,
   * and whitespace does not matter there.
   */
  const normalizeForExport = (row: Record<string, unknown>): StoredRow => {
    normalize(row);
    if (dialect.jsonAsText) {
      for (const column of jsonColumns) {
        const value = row[column];
        if (typeof value === 'string') row[column] = compactJson(value);
      }
    }
    return row;
  };

  /** The select list of `find`: JSON columns read as text where the driver would parse them. */
  const columnSelection = (names: readonly string[], alias?: string) =>
    names.map((c) => {
      const ref = alias ? `${alias}.${c}` : c;
      return dialect.jsonAsText && jsonColumns.includes(c) ? dialect.jsonAsText(ref).as(c) : ref;
    });
  // Kysely compiles a list of 30-odd columns in ~30 µs per read (a whole page query with the list:
  // 47 µs, with `*`: 17 µs), and the list is the same for every read of the same columns. So it is
  // compiled once, then selected as one raw fragment: `id` last, the fragment's alias renders it
  // `… , "e"."id" as "id"`: the same columns, in one node instead of one per column.
  const selections = new Map<string, ReturnType<typeof columnSelection>>();
  const selection = (names: readonly string[], alias?: string) => {
    const key = `${alias ?? ''}\u0000${names.join(',')}`;
    let cached = selections.get(key);
    if (!cached) {
      const ordered = [...names.filter((c) => c !== 'id'), 'id'];
      const compiled = db
        .selectFrom(alias ? `${tables.events} as ${alias}` : tables.events)
        .select(columnSelection(ordered, alias))
        .compile();
      const end = compiled.sql.lastIndexOf(' from ');
      const fits = names.includes('id') && compiled.parameters.length === 0 && compiled.sql.startsWith('select ') && end > 0;
      cached = fits ? [sql.raw<string | null>(compiled.sql.slice('select '.length, end)).as('id')] : columnSelection(names, alias);
      if (selections.size >= 64) selections.clear();
      selections.set(key, cached);
    }
    return cached;
  };

  const isTransient = (error: unknown) => dialect.isTransientError(error);
  const rollups = createKyselyRollups({ db, dialect, tables, rows: rowsOf });
  const tableColumns = async (executor: typeof db, bare: string): Promise<string[] | null> => {
    const found = dialect.introspection.listColumns
      ? await dialect.introspection.listColumns(executor, bare, tables.schema)
      : ((await executor.introspection.getTables())
          .find((t) => t.name === bare && (tables.schema === undefined || t.schema === tables.schema))
          ?.columns.map((c) => c.name) ?? []);
    return found.length ? found : null;
  };
  // One retry-safe wrapper around whichever strategy the engine writes with.
  const insert = dialect.flags.idempotentInsert ? idempotentInsert(dialect.insert) : dialect.insert;
  const insertContext = (transaction?: InsertTransaction): InsertContext => ({
    db,
    transaction,
    tables,
    jsonColumns,
    capabilities: dialect.capabilities,
    jsonValue: dialect.jsonValue,
    rollups: (rows) => rollups.statements(rows, 1),
    rollupArrays: (rows) => rollups.arrays(rows),
  });

  /** The store's insert; inside a chained append's transaction when one is given. */
  const writeRows = async (rows: readonly EventRow[], transaction?: InsertTransaction): Promise<number[]> => {
    if (rows.length === 0) return [];
    const ids = await insert(rows, columns, insertContext(transaction));
    dialect.onWrite?.(db, tables, 'insert', rows.length);
    return ids;
  };

  // Keyword search through the index, or (`index: false`) LIKE on each row: see `search/search-pages.ts`.
  const plainSearch: Pick<SqlDialect, 'containsInsensitive'> = { containsInsensitive: (c, p) => dialect.containsInsensitive(c, p) };
  const searchOf = (index: boolean) => (index ? dialect : plainSearch);

  const findRows = async (query: FindQuery, index: boolean): Promise<StoredRow[]> => {
    const { column, direction } = query.orderBy;
    const page = <Q extends AnySelect>(q: Q): Q => {
      let out = q
        .where((eb: AnyExpressionBuilder) => {
          const parts = [whereOf(eb, query.where, searchOf(index))];
          if (query.after) parts.push(afterOf(eb, column, direction, query.after, dialect.flags));
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
    const shape = query.columns?.some((c) => jsonColumns.includes(c)) ? normalizeForExport : normalize;
    if (!wanted && dialect.jsonAsText) wanted = ['id', ...columns];
    if (dialect.flags.deferredJoin) {
      // The page's ids come from the index alone; only those rows are then read.
      const ids = page(db.selectFrom(tables.events).select('id'));
      const joined = db.selectFrom(`${tables.events} as e`).innerJoin(ids.as('k'), 'k.id', 'e.id');
      let q = (wanted ? joined.select(selection(wanted, 'e')) : joined.selectAll('e')).orderBy(`e.${column}`, direction);
      if (column !== 'id') q = q.orderBy('e.id', direction);
      return (await rowsOf(q, query.signal)).map(shape);
    }
    const from = db.selectFrom(tables.events);
    const rows = await rowsOf(page(wanted ? from.select(selection(wanted)) : from.selectAll()), query.signal);
    return rows.map(shape);
  };

  const countRows = async (where: readonly Condition[], index: boolean, signal?: AbortSignal): Promise<number> => {
    const [row] = await rowsOf(
      db
        .selectFrom(tables.events)
        .select((eb) => eb.fn.countAll().as('n'))
        .where((eb) => whereOf(eb, where, searchOf(index))),
      signal,
    );
    return Number(row?.n ?? 0);
  };

  const searchReads: SearchPageReads = {
    rows: findRows,
    count: (where, signal) => countRows(where, false, signal),
    async boundary(orderBy, start, n, signal) {
      const { column, direction } = orderBy;
      let q = db
        .selectFrom(tables.events)
        .select(column)
        .where((eb) => {
          const parts = [whereOf(eb, start.bounds, dialect)];
          if (start.after) parts.push(afterOf(eb, column, direction, start.after, dialect.flags));
          return eb.and(parts);
        })
        .orderBy(column, direction);
      if (column !== 'id') q = q.orderBy('id', direction);
      const [row] = await rowsOf(q.limit(1).offset(n - 1), signal);
      return row === undefined ? undefined : Number(row[column]);
    },
    async candidates(searched, term, cap, signal) {
      const statement = dialect.keywordSearch?.candidates?.(searched, term, cap);
      if (!statement) return undefined;
      const [row] = await rowsOf({ compile: () => statement.compile(db), execute: async () => (await statement.execute(db)).rows }, signal);
      return Number(row?.n ?? 0);
    },
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

    async migrate(schema: StoreSchema, options?: MigrateOptions) {
      // Classified here like every other failure, so a refused connection is transient at migrate() as at insert().
      await classified(dialect.engine, 'migrate', isTransient, async () => {
        const key = `eventlog:migrate:${tables.events}`;
        await dialect.locks.withMigrationLock(db, key, async (locked) => {
          await migrateSchema(locked, schema, dialect, tables);
          await rollups.migrate(locked, schema, (bare) => tableColumns(locked, bare));
        });
        columns = schema.columns.filter((c) => c.name !== 'id').map((c) => c.name);
        numericColumns = schema.columns.filter((c) => c.type === 'integer' || c.type === 'float').map((c) => c.name);
        jsonColumns = schema.columns.filter((c) => c.type === 'json').map((c) => c.name);
        await dialect.afterMigrate?.(db, tables);
      });
      // After the lock: a long backfill must not hold other processes' migrations; each day is its own transaction.
      await classified(dialect.engine, 'migrate', isTransient, () => rollups.backfill(options));
    },

    insert: (rows: readonly EventRow[]) => writeRows(rows),

    async find(query: FindQuery) {
      return dialect.keywordSearch?.candidates ? findSearchPage(query, searchReads) : findRows(query, true);
    },

    async count(where: readonly Condition[], options?: StoreReadOptions) {
      return countRows(where, true, options?.signal);
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
      const rows = await rowsOf(q, query.signal);
      const numericKey = groupBy !== undefined && ('timeStepMs' in groupBy || numericColumns.includes(groupBy.column));
      return toAggregateRows(rows, query.sum, key !== undefined, numericKey);
    },

    async delete(query: DeleteQuery) {
      if (rollups.active) {
        const deleted = await rollups.delete(query);
        dialect.onWrite?.(db, tables, 'delete', deleted);
        return deleted;
      }
      if (dialect.flags.deleteWithLimit) {
        const result = await db
          .deleteFrom(tables.events)
          .where((eb) => whereOf(eb, query.where, dialect))
          .orderBy('time')
          .orderBy('id')
          .limit(query.limit)
          .executeTakeFirst();
        dialect.onWrite?.(db, tables, 'delete', Number(result.numDeletedRows));
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
      dialect.onWrite?.(db, tables, 'delete', Number(result.numDeletedRows));
      return Number(result.numDeletedRows);
    },

    async aggregateRollups(query: RollupQuery) {
      return rollups.aggregate(query);
    },

    async rebuildRollups(options?: MigrateOptions) {
      await rollups.rebuild(options);
    },

    async openSession(row: SessionRow) {
      const event = typeof row.event === 'string' ? row.event : JSON.stringify(row.event);
      const values = { ...toSessionColumns(row), event: dialect.jsonValue ? dialect.jsonValue(event) : event };
      const update = Object.fromEntries(SESSION_COLUMNS.filter((c) => c !== 'session_id').map((c) => [c, values[c]]));
      const insert = db.insertInto(tables.sessions).values(values);
      await (dialect.flags.upsert === 'onConflict'
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
        return fromSessionColumns(row as Record<string, unknown>);
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
      return (await q.execute()).map((row) => fromSessionColumns(row as Record<string, unknown>));
    },

    async tryLock(name: string, ttlMs: number): Promise<ReleaseLock | null> {
      const key = `eventlog:${tables.events}:${name}`;
      if (dialect.locks.tryLock) return dialect.locks.tryLock(db, key, ttlMs);
      return leaseLock(db, tables.locks, key, ttlMs, isTransient);
    },

    isTransientError: isTransient,

    chain: createChainStore({
      db,
      tables,
      dialect,
      columns: () => columns,
      jsonColumns: () => jsonColumns,
      numericColumns: () => numericColumns,
      insert: writeRows,
      append: options.chainAppend,
    }),
    jobs: kyselyJobStore(db, tables),

    async close() {
      if (closed) return;
      closed = true;
      await options.destroy();
    },
  };
  return store;
}
