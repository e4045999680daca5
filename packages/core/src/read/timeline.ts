import { z } from 'zod';
import { type LogCore, parseInput, type Scope } from '../core.js';
import { type FilterInput, isEmptySelection, timeBounds, withTimeRange } from '../filter/filter.js';
import { createRollupPlanner } from '../rollups/planner.js';
import { alignedStep, BUCKETS, bucketBoundaries, DEFAULT_SPAN, foldIntoBuckets, isValidTimeZone } from '../stats/timeline.js';
import type { ReadOptions, Timeline, TimelineInput } from '../types.js';
import { signalOf } from './abort.js';

/** Timelines over a scope. @internal */
export function createTimelineRead(core: LogCore) {
  const metrics = core.registry.metrics;
  const planner = createRollupPlanner(core);
  const schema = z.object({
    filter: z.unknown().optional(),
    bucket: z
      .enum(BUCKETS, `must be one of ${BUCKETS.join(', ')}`)
      .nullish()
      .transform((v) => v ?? 'hour'),
    timeZone: z
      .string('is not an IANA time zone')
      .refine(isValidTimeZone, 'is not an IANA time zone')
      .nullish()
      .transform((v) => v ?? 'UTC'),
    metrics: z
      .array(z.string('must be a declared metric'), 'must be a list of declared metrics')
      .nullish()
      .transform((v) => v ?? [])
      .superRefine((names, ctx) => {
        for (const m of names) if (!metrics.has(m)) ctx.addIssue({ code: 'custom', message: `"${m}" is not a declared metric` });
      }),
  });

  return async function timeline(scope: Scope, input: TimelineInput = {}, options?: ReadOptions): Promise<Timeline> {
    core.assertOpen();
    const { bucket, timeZone, metrics: sums, filter } = parseInput(schema, input);
    const signal = signalOf(options);
    const where = core.conditions(scope, filter as FilterInput | undefined);
    const bounds = timeBounds(where);
    const until = bounds.lt ?? core.clock() + 1;
    const since = bounds.gte ?? until - DEFAULT_SPAN[bucket];
    if (since >= until) return { bucket, timeZone, points: [] };
    const boundaries = bucketBoundaries(since, until, bucket, timeZone, core.limits.maxTimelineBuckets);
    await core.ready();
    const rows = isEmptySelection(where)
      ? []
      : await planner.aggregate(
          {
            where: withTimeRange(where, since, until),
            groupBy: { timeStepMs: alignedStep(boundaries, bucket) },
            sum: sums,
          },
          signal,
        );
    return { bucket, timeZone, points: foldIntoBuckets(boundaries, rows, sums, timeZone) };
  };
}
