import { z } from 'zod';
import { type LogCore, parseInput, type Scope } from '../core.js';
import { ValidationError } from '../errors.js';
import { type FilterInput, isEmptySelection } from '../filter/filter.js';
import { createRollupPlanner } from '../rollups/planner.js';
import { STRING_FIELDS } from '../schema/fields.js';
import type { CountByEntry, CountByInput, ReadOptions } from '../types.js';
import { signalOf } from './abort.js';

/**
 * Counts per value of one field over a scope, in one grouped aggregate: every value, `null`
 * (events without one) included, so the counts add up to the number of matching events. For
 * figures that are sums of a few groups (a dashboard's total and blocked requests) instead of one
 * count per figure. Answered from rollups where the filter allows (whole buckets from rollup rows,
 * the range's edges from raw rows; docs/rollups.md), else from raw rows. @internal
 */
export function createCountByRead(core: LogCore) {
  const { registry, limits } = core;
  const planner = createRollupPlanner(core);
  const columnOf = (name: string): string | undefined =>
    name === 'ip' ? undefined : (STRING_FIELDS.find((f) => f.field === name)?.column ?? (registry.dimensions.has(name) ? name : undefined));
  const schema = z.object(
    {
      by: z.unknown().transform((by, ctx) => {
        const column = typeof by === 'string' ? columnOf(by) : undefined;
        if (column) return column;
        ctx.addIssue({
          code: 'custom',
          message: `"${String(by)}" is not a field or dimension that can be counted by (ip cannot: use top)`,
        });
        return z.NEVER;
      }),
      filter: z.unknown().optional(),
    },
    'must be an object with "by"',
  );

  return async function countBy(scope: Scope, input: CountByInput, options?: ReadOptions): Promise<CountByEntry[]> {
    core.assertOpen();
    const signal = signalOf(options);
    const { by: column, filter } = parseInput(schema, input);
    const where = core.conditions(scope, filter as FilterInput | undefined);
    await core.ready();
    if (isEmptySelection(where)) return [];
    // One more group than allowed tells that the answer would be cut short.
    const rows = await planner.aggregate(
      { where, groupBy: { column }, sum: [], orderBy: { by: 'count', direction: 'desc' }, limit: limits.maxTopLimit + 1 },
      signal,
    );
    if (rows.length > limits.maxTopLimit) {
      throw new ValidationError([
        { path: ['by'], message: `has more than ${limits.maxTopLimit} distinct values here; use top() for the largest ones` },
      ]);
    }
    return rows.map((r) => ({ value: r.key ?? null, count: r.count }));
  };
}
