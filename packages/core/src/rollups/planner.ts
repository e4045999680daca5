import type { LogCore } from '../core.js';
import { timeBounds } from '../filter/filter.js';
import { guardRead } from '../read/abort.js';
import type { AggregateQuery, AggregateRow, Condition, RollupQuery } from '../storage/contract.js';
import { complementEdges, coverRange, ROLLUP_GRAINS, ROLLUP_KEY_COLUMNS, rollupGrains } from './model.js';

/** An aggregate the planner may answer from rollups: the store's query plus the largest bucket it may use. */
export interface PlannedAggregate extends AggregateQuery {
  /**
   * The largest rollup grain whose buckets each fall inside one group (a timeline's step); every
   * grain when absent.
   */
  readonly maxGrain?: number;
}

const KEY_COLUMNS: ReadonlySet<string> = new Set(ROLLUP_KEY_COLUMNS);
const DAY = ROLLUP_GRAINS[ROLLUP_GRAINS.length - 1] as number;

/**
 * The read planner: answers aggregates and counts from the store's rollups for whole buckets and
 * from raw rows for the partial buckets at the edges, and from raw rows alone when a condition
 * names something rollups do not keep (docs/rollups.md lists which). @internal
 */
export function createRollupPlanner(core: LogCore) {
  // Columns with a table of their own: marked dimensions and marked envelope fields (`ip`).
  const marked = new Set(core.registry.storeSchema.rollups?.dimensions ?? []);
  const enabled = core.options.rollups === true;

  /** The rollup query for `query`, or null when rollups cannot answer it. */
  function plan(query: PlannedAggregate): RollupQuery | null {
    if (!enabled || !core.store.aggregateRollups) return null;
    let dimension: string | null = null;
    const useColumn = (column: string): boolean => {
      if (KEY_COLUMNS.has(column)) return true;
      if (!marked.has(column) || (dimension !== null && dimension !== column)) return false;
      dimension = column;
      return true;
    };
    const where: Condition[] = [];
    for (const c of query.where) {
      if (c.op === 'range' && c.column === 'time') continue;
      if ((c.op === 'in' || c.op === 'notNull') && useColumn(c.column)) where.push(c);
      else return null;
    }
    const groupBy = query.groupBy;
    let maxGrain = query.maxGrain ?? DAY;
    if (groupBy && 'column' in groupBy && !useColumn(groupBy.column)) return null;
    // A dimension's table holds no row for events without that dimension (model.ts): it can only
    // answer questions that ask for a value of it (`top` adds `notNull` on the grouped field).
    if (dimension !== null && !where.some((c) => 'column' in c && c.column === dimension)) return null;
    const grains = rollupGrains(dimension);
    if (groupBy && 'timeStepMs' in groupBy) {
      const step = groupBy.timeStepMs;
      maxGrain = Math.min(maxGrain, grains.filter((g) => step % g === 0).pop() ?? 0);
      if (maxGrain === 0) return null;
    }
    const bounds = timeBounds(query.where);
    const cover = coverRange(bounds.gte, bounds.lt, maxGrain, grains);
    const smallest = grains.find((g) => g <= maxGrain);
    const { spans, edges, minus } =
      core.store.capabilities.rollupMinus && smallest !== undefined
        ? complementEdges(cover, smallest, core.clock())
        : { ...cover, minus: [] };
    const out: { -readonly [K in keyof RollupQuery]: RollupQuery[K] } = { dimension, where, spans, edges, sum: query.sum };
    if (minus.length) out.minus = minus;
    if (groupBy) out.groupBy = groupBy;
    if (query.orderBy) out.orderBy = query.orderBy;
    if (query.limit !== undefined) out.limit = query.limit;
    return out;
  }

  /** `store.aggregate(query)`, answered from rollups where they can. */
  async function aggregate(query: PlannedAggregate, signal?: AbortSignal): Promise<AggregateRow[]> {
    const planned = plan(query);
    const store = core.store;
    if (planned && store.aggregateRollups) {
      const rows = await guardRead(core, 'aggregate', signal, () => store.aggregateRollups!(planned));
      if (rows) return rows;
    }
    const { maxGrain: _unused, ...plain } = query;
    return guardRead(core, 'aggregate', signal, () => store.aggregate(signal ? { ...plain, signal } : plain));
  }

  /**
   * `query` answered from rollups alone; null when they cannot answer it (no raw fallback). Not
   * guarded: for a step inside a read that is (a deep page's window, pagination/seek.ts).
   */
  async function fromRollups(query: PlannedAggregate): Promise<AggregateRow[] | null> {
    const planned = plan(query);
    const store = core.store;
    if (!planned || !store.aggregateRollups) return null;
    return store.aggregateRollups(planned);
  }

  /** `store.count(where)`, answered from rollups where they can. */
  async function count(where: readonly Condition[], signal?: AbortSignal): Promise<number> {
    const planned = plan({ where, sum: [] });
    const store = core.store;
    if (planned && store.aggregateRollups) {
      const rows = await guardRead(core, 'count', signal, () => store.aggregateRollups!(planned));
      if (rows) return rows[0]?.count ?? 0;
    }
    return guardRead(core, 'count', signal, () => store.count(where, signal ? { signal } : undefined));
  }

  return { plan, aggregate, fromRollups, count };
}

/** The planner of one log. @internal */
export type RollupPlanner = ReturnType<typeof createRollupPlanner>;
