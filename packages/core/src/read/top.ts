import { z } from 'zod';
import { type LogCore, parseInput, type Scope } from '../core.js';
import { type FilterInput, isEmptySelection } from '../filter/filter.js';
import { createRollupPlanner } from '../rollups/planner.js';
import { STRING_FIELDS } from '../schema/fields.js';
import type { Condition } from '../storage/contract.js';
import type { ReadOptions, TopEntry, TopInput } from '../types.js';
import { signalOf } from './abort.js';

/** Top-N by a field or dimension over a scope; values come back unmasked (the view masks). @internal */
export function createTopRead(core: LogCore) {
  const { registry, limits } = core;
  const planner = createRollupPlanner(core);
  const columnOf = (name: string): string | undefined =>
    STRING_FIELDS.find((f) => f.field === name)?.column ?? (registry.dimensions.has(name) ? name : undefined);
  const limitMessage = `must be a whole number from 1 to ${limits.maxTopLimit}`;
  const schema = z.object(
    {
      by: z.unknown().transform((by, ctx) => {
        const column = typeof by === 'string' ? columnOf(by) : undefined;
        if (column) return column;
        ctx.addIssue({ code: 'custom', message: `"${String(by)}" is not a field or dimension` });
        return z.NEVER;
      }),
      filter: z.unknown().optional(),
      limit: z
        .number(limitMessage)
        .int(limitMessage)
        .min(1, limitMessage)
        .max(limits.maxTopLimit, limitMessage)
        .nullish()
        .transform((v) => v ?? 10),
      orderBy: z
        .string('must be "count" or a declared metric')
        .refine((o) => o === 'count' || registry.metrics.has(o), 'must be "count" or a declared metric')
        .nullish()
        .transform((v) => v ?? 'count'),
    },
    'must be an object with "by"',
  );

  return async function top(scope: Scope, input: TopInput, options?: ReadOptions): Promise<TopEntry[]> {
    core.assertOpen();
    const { by: column, filter, limit, orderBy } = parseInput(schema, input);
    const signal = signalOf(options);
    const metrics = [...registry.metrics.keys()];
    const where: Condition[] = [...core.conditions(scope, filter as FilterInput | undefined), { op: 'notNull', column }];
    await core.ready();
    if (isEmptySelection(where)) return [];
    const rows = await planner.aggregate(
      { where, groupBy: { column }, sum: metrics, orderBy: { by: orderBy, direction: 'desc' }, limit },
      signal,
    );
    return rows.map((r) => ({ value: r.key as string | number, count: r.count, sums: { ...r.sums } }));
  };
}

/** The column `top({ by })` groups on, for callers that must know (masking by `ip`). @internal */
export function topColumn(by: unknown): string | undefined {
  return typeof by === 'string' ? STRING_FIELDS.find((f) => f.field === by)?.column : undefined;
}
