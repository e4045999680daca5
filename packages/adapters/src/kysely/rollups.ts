import type { AggregateRow, DeleteQuery, EventRow, MigrateOptions, RollupQuery, RollupSpec, StoreSchema } from '@eventlog/core';
import {
  ROLLUP_FIELD_COLUMNS,
  ROLLUP_GRAINS,
  rollupBatchDeltas,
  rollupColumns,
  rollupDeltas,
  rollupGrains,
  rollupTables,
} from '@eventlog/core';
import { type CompiledQuery, type Expression, type ExpressionBuilder, type SqlBool, sql } from 'kysely';
import { timeSpan } from '../shared/time-span.js';
import type { AnyKysely, ResolvedDialect } from './dialect.js';
import { inTransaction } from './insert/multi-row.js';
import type { TableNames } from './migrations.js';
import {
  ensureRollupTable,
  type RollupArrays,
  type RollupTable,
  rollupArrays,
  rollupStateTable,
  rollupTable,
  sumColumn,
  upsertStatements,
} from './rollups-sql.js';
import { createRollupStatistics } from './rollups-stats.js';
import { whereOf } from './where.js';

// biome-ignore lint/suspicious/noExplicitAny: run-time table layout.
type Eb = ExpressionBuilder<any, any>;

const DAY = ROLLUP_GRAINS[ROLLUP_GRAINS.length - 1] as number;
/** The smallest grain any rollup table keeps; rows of smaller grains are left-overs of an earlier layout. */
const SMALLEST_KEPT = Math.min(...rollupGrains(null));
/** How often a process re-reads the state of tables another process may be backfilling. */
const STATE_RECHECK_MS = 1000;
/**
 * Attempts at one day of a backfill, or at one delete, that failed on a transient error (a
 * deadlock with a writer or another deleter: the transaction was rolled back whole, so it is run again).
 */
const DAY_ATTEMPTS = 5;

/** What the rollup part of the shared store needs from it. */
export interface RollupContext {
  readonly db: AnyKysely;
  readonly dialect: ResolvedDialect;
  readonly tables: TableNames;
  /** Runs a read through the dialect's fast path. */
  rows(query: { compile(): CompiledQuery; execute(): Promise<unknown[]> }): Promise<Record<string, unknown>[]>;
}

/**
 * The rollup tables of one SQL store: their upkeep in the insert and delete transactions, the
 * backfill of days written before they existed, and aggregates answered from them.
 */
export function createKyselyRollups(context: RollupContext) {
  const { db, dialect, tables } = context;
  let spec: RollupSpec | undefined;
  let numeric = new Set<string>();
  let ready = new Set<string>();
  let lastCheck = 0;
  const state = rollupStateTable(tables);
  const statistics = createRollupStatistics(db, dialect);
  /** Rollup rows the last delete transaction's upserts changed (counted after it commits). */
  let lastDeleteChanges = 0;
  const tablesOf = (s: RollupSpec): RollupTable[] => rollupTables(s).map((d) => rollupTable(tables, d));

  const readState = async (executor: AnyKysely = db) => {
    const rows = await executor.selectFrom(state).select(['name', 'ready']).execute();
    ready = new Set(rows.filter((r) => Number((r as { ready: unknown }).ready) === 1).map((r) => String((r as { name: unknown }).name)));
    lastCheck = Date.now();
  };

  const isReady = async (table: RollupTable): Promise<boolean> => {
    if (ready.has(table.name)) return true;
    if (Date.now() - lastCheck > STATE_RECHECK_MS) await readState();
    return ready.has(table.name);
  };

  /**
   * Upserts for `rows` (sign 1: stored; -1: deleted) into every rollup table. Inserts count the
   * rows they change for the statistics here (the insert strategy runs them); a delete counts
   * them itself once it has committed.
   */
  const statements = (rows: readonly EventRow[], sign: 1 | -1): CompiledQuery[] => {
    if (!spec || rows.length === 0) return [];
    const s = spec;
    const out: CompiledQuery[] = [];
    let changed = 0;
    for (const { dimension, deltas } of rollupBatchDeltas(rows, s, sign)) {
      out.push(...upsertStatements(db, dialect, rollupTable(tables, dimension), s.metrics, deltas));
      changed += deltas.length;
    }
    if (sign === 1) statistics.changed(changed, () => tablesOf(s));
    else lastDeleteChanges = changed;
    return out;
  };

  /** Rows read back from the engine with numbers as numbers (pg hands `bigint` over as text), so keys match the insert's. */
  const numbers = (rows: EventRow[]): EventRow[] => {
    for (const row of rows) {
      for (const column of Object.keys(row)) {
        const v = row[column];
        if (typeof v === 'string' && numeric.has(column)) row[column] = Number(v);
      }
    }
    return rows;
  };

  let schemaSeen: StoreSchema | undefined;
  /** The increments of `rows` as column arrays per table (PostgreSQL's one-statement insert). */
  const arrays = (rows: readonly EventRow[]): RollupArrays[] => {
    if (!spec || !schemaSeen || rows.length === 0) return [];
    const s = spec;
    const seen = schemaSeen;
    // Every table, even one without increments (its empty arrays insert nothing): the statement's text stays the same, so it is planned once.
    const batch = rollupBatchDeltas(rows, s, 1);
    statistics.changed(
      batch.reduce((n, t) => n + t.deltas.length, 0),
      () => tablesOf(s),
    );
    return batch.map((t) => rollupArrays(seen, rollupTable(tables, t.dimension), s.metrics, t.deltas));
  };

  const eventColumns = (s: RollupSpec): string[] => [...new Set(['time', ...rollupColumns(null), ...s.dimensions, ...s.metrics])];

  /** Recomputes one UTC day of one table from the events, excluding writers while it reads. */
  const recomputeDay = async (table: RollupTable, day: number) => {
    const s = spec as RollupSpec;
    await inTransaction(db, async (trx) => {
      if (dialect.engine === 'postgres') await sql`lock table ${sql.table(tables.events)} in share mode`.execute(trx);
      // SQLite: this delete is the transaction's first statement, so it takes the write lock before anything is read.
      await trx
        .deleteFrom(table.qualified)
        .where('_bucket', '>=', day)
        .where('_bucket', '<', day + DAY)
        .execute();
      let q = trx
        .selectFrom(tables.events)
        .select(eventColumns(s))
        .where('time', '>=', day)
        .where('time', '<', day + DAY);
      // InnoDB: a locking read holds the time range (next-key locks), so no insert lands in it until commit.
      if (dialect.flags.upsert === 'onDuplicateKey') q = q.modifyEnd(sql`lock in share mode`);
      const rows = numbers((await q.execute()) as EventRow[]);
      for (const statement of upsertStatements(trx, dialect, table, s.metrics, rollupDeltas(rows, s, table.dimension, 1))) {
        await trx.executeQuery(statement);
      }
      await trx
        .updateTable(state)
        .set({ next_day: day + DAY })
        .where('name', '=', table.name)
        .where('next_day', '<', day + DAY)
        .execute();
    });
  };

  const withRetries = async <R>(fn: () => Promise<R>): Promise<R> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (error) {
        if (attempt >= DAY_ATTEMPTS || !dialect.isTransientError(error)) throw error;
        await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
      }
    }
  };

  /** The first UTC day at or after `from` holding events or rollup rows of `table`. */
  const nextDay = async (table: RollupTable, from: number): Promise<number | null> => {
    const [events] = await db.selectFrom(tables.events).select(sql`min(time)`.as('t')).where('time', '>=', from).execute();
    const [rolled] = await db.selectFrom(table.qualified).select(sql`min(_bucket)`.as('t')).where('_bucket', '>=', from).execute();
    const times = [events, rolled].map((r) => (r as { t: unknown } | undefined)?.t).filter((t) => t !== null && t !== undefined);
    if (times.length === 0) return null;
    return Math.floor(Math.min(...times.map(Number)) / DAY) * DAY;
  };

  /** Runs the backfill of every table not ready yet; safe to run in several processes at once. */
  const backfill = async (options: MigrateOptions = {}) => {
    if (!spec) return;
    const recomputed: RollupTable[] = [];
    for (const table of tablesOf(spec)) {
      const row = (await db.selectFrom(state).selectAll().where('name', '=', table.name).executeTakeFirst()) as
        | Record<string, unknown>
        | undefined;
      if (!row || Number(row.ready) === 1) continue;
      recomputed.push(table);
      const first = Number(row.first_day);
      const last = Number(row.last_day);
      const total = Math.max(1, Math.round((last - first) / DAY) + 1);
      let day: number | null = Number(row.next_day);
      while (day !== null && day <= last) {
        day = await nextDay(table, day);
        if (day === null || day > last) break;
        const current = day;
        await withRetries(() => recomputeDay(table, current));
        options.onProgress?.({ table: table.name, done: Math.round((current - first) / DAY) + 1, total });
        day = current + DAY;
      }
      await db.updateTable(state).set({ ready: 1 }).where('name', '=', table.name).execute();
      options.onProgress?.({ table: table.name, done: total, total });
    }
    // The tables were rewritten behind every change counter: the planner learns their new size now.
    await statistics.analyze(recomputed);
    await readState();
  };

  /** The range of days to recompute for `table`: every day holding events or rollup rows. */
  const startRebuild = async (executor: AnyKysely, table: RollupTable) => {
    const [events] = await executor
      .selectFrom(tables.events)
      .select([sql`min(time)`.as('lo'), sql`max(time)`.as('hi')])
      .execute();
    const [rolled] = await executor
      .selectFrom(table.qualified)
      .select([sql`min(_bucket)`.as('lo'), sql`max(_bucket)`.as('hi')])
      .execute();
    const values = (key: 'lo' | 'hi') =>
      [events, rolled]
        .map((r) => (r as Record<string, unknown> | undefined)?.[key])
        .filter((v) => v !== null && v !== undefined)
        .map(Number);
    const lo = values('lo');
    const hi = values('hi');
    const first = lo.length ? Math.floor(Math.min(...lo) / DAY) * DAY : 0;
    const last = hi.length ? Math.floor(Math.max(...hi) / DAY) * DAY : -DAY;
    const done = hi.length === 0 ? 1 : 0;
    const values_ = { ready: done, first_day: first, next_day: first, last_day: last };
    const updated = await executor.updateTable(state).set(values_).where('name', '=', table.name).executeTakeFirst();
    if (Number(updated.numUpdatedRows) === 0)
      await executor
        .insertInto(state)
        .values({ name: table.name, ...values_ })
        .execute();
  };

  return {
    /** Whether rollups are kept (the store has migrated with a rollup spec). */
    get active(): boolean {
      return spec !== undefined;
    },

    /** Creates missing tables and columns and registers new tables for backfill; callers hold the migration lock. */
    async migrate(executor: AnyKysely, schema: StoreSchema, existing: (bare: string) => Promise<string[] | null>) {
      if (!schema.rollups || schema.version < 2) return;
      for (const table of tablesOf(schema.rollups)) {
        const created = await ensureRollupTable(executor, dialect, schema, table, await existing(table.bare));
        // Grains no table keeps any more (the base table's minute rows, before hours were its
        // smallest): no read uses them and no delete would keep them exact, so they go.
        if (!created) await executor.deleteFrom(table.qualified).where('_grain', '<', SMALLEST_KEPT).execute();
        const known = await executor.selectFrom(state).select('name').where('name', '=', table.name).executeTakeFirst();
        if (created || !known) await startRebuild(executor, table);
      }
      // Tables another process's registry marked are kept up to date here too, so no writer leaves one behind.
      const names = (await executor.selectFrom(state).select('name').execute()).map((r) => String((r as { name: unknown }).name));
      // A rolled-up column is a dimension or an envelope field that can be rolled up (`ip`, a canonical column).
      const columns = new Set(schema.columns.filter((c) => c.kind === 'dimension' || ROLLUP_FIELD_COLUMNS.has(c.name)).map((c) => c.name));
      const others = names.filter((n) => n !== 'base' && columns.has(n) && !schema.rollups?.dimensions.includes(n));
      spec = { ...schema.rollups, dimensions: [...schema.rollups.dimensions, ...others] };
      schemaSeen = schema;
      numeric = new Set(schema.columns.filter((c) => c.type === 'integer' || c.type === 'float').map((c) => c.name));
      await readState(executor);
    },

    backfill,

    /** Recomputes every table from the events. */
    async rebuild(options: MigrateOptions = {}) {
      if (!spec) return;
      for (const table of tablesOf(spec)) await startRebuild(db, table);
      ready = new Set();
      await backfill(options);
    },

    statements,
    arrays,

    /**
     * Deletes like the contract's `delete` and takes the deleted rows off the rollups in the same
     * transaction. The deleted rows are read back by the delete itself (RETURNING) where the engine
     * can, else locked first (SELECT … FOR UPDATE), so a concurrent deleter never subtracts a row twice.
     */
    async delete(query: DeleteQuery): Promise<number> {
      const s = spec as RollupSpec;
      const columns = eventColumns(s);
      const deleted = await withRetries(() =>
        inTransaction(db, async (trx) => {
          let rows: EventRow[];
          const select = trx
            .selectFrom(tables.events)
            .where((eb: Eb) => whereOf(eb, query.where, dialect))
            .orderBy('time')
            .orderBy('id')
            .limit(query.limit);
          if (dialect.flags.upsert === 'onConflict') {
            rows = (await trx.deleteFrom(tables.events).where('id', 'in', select.select('id')).returning(columns).execute()) as EventRow[];
          } else {
            const locked = (await select
              .select(['id', ...columns])
              .forUpdate()
              .execute()) as EventRow[];
            if (locked.length) {
              await trx
                .deleteFrom(tables.events)
                .where(
                  'id',
                  'in',
                  locked.map((r) => Number(r.id)),
                )
                .execute();
            }
            rows = locked;
          }
          if (rows.length === 0) return 0;
          for (const statement of statements(numbers(rows), -1)) await trx.executeQuery(statement);
          // Buckets emptied by the delete go, so retention shrinks the rollups as it shrinks the events.
          const { low: lo, high: hi } = timeSpan(rows);
          for (const table of tablesOf(s)) {
            await trx
              .deleteFrom(table.qualified)
              .where('_grain', 'in', [...ROLLUP_GRAINS])
              .where('_n', '=', 0)
              .where('_bucket', '>=', Math.floor(lo / DAY) * DAY)
              .where('_bucket', '<=', hi)
              .execute();
          }
          return rows.length;
        }),
      );
      // After the commit, so an ANALYZE it triggers sees the rows gone.
      if (deleted > 0) statistics.changed(lastDeleteChanges, () => tablesOf(s));
      return deleted;
    },

    /** Answers `query` from whole buckets plus raw edges, or null when its table is not ready. */
    async aggregate(query: RollupQuery): Promise<AggregateRow[] | null> {
      if (!spec) return null;
      if (query.dimension !== null && !spec.dimensions.includes(query.dimension)) return null;
      const table = rollupTable(tables, query.dimension);
      if (!(await isReady(table))) return null;
      const groupBy = query.groupBy;
      const byColumn = groupBy && 'column' in groupBy ? groupBy.column : undefined;
      const sums = query.sum;
      const parts = [];
      if (query.spans.length) {
        parts.push(
          db
            .selectFrom(table.qualified)
            .select([
              ...(groupBy ? [sql.ref(byColumn ?? '_bucket').as('_g')] : []),
              sql.ref('_n').as('_n'),
              ...sums.map((m, i) => sql.ref(sumColumn(m)).as(`_s${i}`)),
            ])
            .where((eb: Eb) => eb.and([whereOf(eb, query.where, dialect), spansOf(eb, query.spans)])),
        );
      }
      // Raw rows: the edges added, the rest of the buckets they were traded for (`minus`) taken away.
      for (const [ranges, sign] of [
        [query.edges, 1],
        [query.minus ?? [], -1],
      ] as const) {
        if (!ranges.length) continue;
        parts.push(
          db
            .selectFrom(tables.events)
            .select([
              ...(groupBy ? [sql.ref(byColumn ?? 'time').as('_g')] : []),
              sql.lit(sign).as('_n'),
              ...sums.map((m, i) => (sign > 0 ? sql`coalesce(${sql.ref(m)}, 0)` : sql`-coalesce(${sql.ref(m)}, 0)`).as(`_s${i}`)),
            ])
            .where((eb: Eb) =>
              eb.and([
                whereOf(eb, query.where, dialect),
                eb.or(ranges.map((e) => eb.and([eb('time', '>=', e.gte), eb('time', '<', e.lt)]))),
              ]),
            ),
        );
      }
      const [head, ...rest] = parts;
      if (!head) return groupBy ? [] : [{ count: 0, sums: Object.fromEntries(sums.map((m) => [m, 0])) }];
      // biome-ignore lint/suspicious/noExplicitAny: the union's row type is only known at run time.
      let union: any = head;
      for (const part of rest) union = union.unionAll(part);
      const key = groupBy ? ('timeStepMs' in groupBy ? dialect.timeBucket('_g', groupBy.timeStepMs) : sql.ref('_g')) : undefined;
      let q = db
        .selectFrom(union.as('u'))
        .select([
          sql`sum(${sql.ref('_n')})`.as('n'),
          ...sums.map((_, i) => sql`coalesce(sum(${sql.ref(`_s${i}`)}), 0)`.as(`s${i}`)),
          ...(key ? [key.as('k')] : []),
        ]);
      if (key) q = q.groupBy(key).having(sql`sum(${sql.ref('_n')})`, '>', 0);
      if (query.orderBy) {
        const index = sums.indexOf(query.orderBy.by);
        const order =
          query.orderBy.by === 'count' || index === -1 ? sql`sum(${sql.ref('_n')})` : sql`coalesce(sum(${sql.ref(`_s${index}`)}), 0)`;
        q = q.orderBy(sql`${order} ${sql.raw(query.orderBy.direction)}`);
        if (key) q = q.orderBy(key);
      }
      if (query.limit !== undefined) q = q.limit(query.limit);
      const rows = await context.rows(q);
      const numericKey = groupBy !== undefined && ('timeStepMs' in groupBy || numeric.has(groupBy.column));
      return rows.map((row) => {
        const out: Record<string, number> = {};
        sums.forEach((m, i) => {
          out[m] = Number(row[`s${i}`] ?? 0);
        });
        const base = { count: Number(row.n ?? 0), sums: out };
        if (!key) return base;
        const k = row.k;
        return { ...base, key: k === null || k === undefined ? null : numericKey ? Number(k) : String(k) };
      });
    },
  };
}

/** Rows of the given grains and bucket ranges. */
function spansOf(eb: Eb, spans: RollupQuery['spans']): Expression<SqlBool> {
  return eb.or(
    spans.map((s) => {
      const parts: Expression<SqlBool>[] = [eb('_grain', '=', s.grain)];
      if (s.gte !== undefined) parts.push(eb('_bucket', '>=', s.gte));
      if (s.lt !== undefined) parts.push(eb('_bucket', '<', s.lt));
      return eb.and(parts);
    }),
  );
}

/** The rollups of one store. */
export type KyselyRollups = ReturnType<typeof createKyselyRollups>;
