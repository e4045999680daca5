import { sql } from 'kysely';
import type { AnyKysely, ResolvedDialect } from './dialect.js';
import type { RollupTable } from './rollups-sql.js';

/** Rollup rows changed through the store that warrant the first ANALYZE of its rollup tables. */
const FIRST_ROWS = 1000;
/** Further changes warranting another, as a fraction of the tables' rows at the last one (autovacuum's rule). */
const GROWTH = 0.1;
/** Delay before a due ANALYZE starts: the insert that made it due has committed (or failed) by then. */
const DELAY_MS = 1000;

/**
 * Planner statistics of the rollup tables, kept without a DBA.
 *
 * - After a backfill or rebuild, which rewrites whole tables behind every counter, the store
 *   analyzes the tables it recomputed before `migrate()` / `rebuildRollups()` returns (every engine).
 * - On PostgreSQL, inserts and deletes through the store also count the rollup rows they change,
 *   and an ANALYZE of the rollup tables runs in the background once enough did: autovacuum may be
 *   off or late, and a planner that has never seen a rollup table's statistics guesses its size
 *   and the selectivity of every bucket range (stats and timelines read from rollups were slower
 *   than raw rows for that). The dialect's own upkeep covers only the events table. SQLite's
 *   `PRAGMA optimize` (run by the store after bulk writes) and InnoDB's automatic recalculation
 *   already cover every table written through the store.
 */
export function createRollupStatistics(db: AnyKysely, dialect: ResolvedDialect) {
  let changed = 0;
  /** The rollup tables' rows at the last ANALYZE, as the catalog counted them (PostgreSQL). */
  let baseline = 0;
  let timer: NodeJS.Timeout | undefined;

  const analyze = async (tables: readonly RollupTable[]) => {
    for (const table of tables) {
      const name = sql.table(table.qualified);
      if (dialect.engine === 'mysql') await sql`analyze table ${name}`.execute(db);
      else await sql`analyze ${name}`.execute(db);
    }
    if (dialect.engine === 'postgres' && tables.length) {
      const names = tables.map((t) => t.qualified);
      const { rows } = await sql<{ n: unknown }>`select coalesce(sum(greatest(reltuples, 0)), 0) as n from pg_class
        where oid = any(array[${sql.join(names.map((n) => sql`to_regclass(${n})`))}])`.execute(db);
      baseline = Number(rows[0]?.n ?? 0);
    }
  };

  return {
    analyze,

    /** Counts rollup rows a write changes; on PostgreSQL, schedules an ANALYZE of `tables()` once enough did. */
    changed(rows: number, tables: () => readonly RollupTable[]) {
      if (dialect.engine !== 'postgres' || rows === 0) return;
      changed += rows;
      if (timer || changed < FIRST_ROWS + GROWTH * baseline) return;
      timer = setTimeout(() => {
        timer = undefined;
        changed = 0;
        // In the background: a store closed meanwhile (its pool ended) or a lock wait simply skips this round.
        analyze(tables()).catch(() => undefined);
      }, DELAY_MS);
      timer.unref();
    },
  };
}
