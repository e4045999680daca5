import type { LogCore, Scope } from '../core.js';
import { type FilterInput, isEmptySelection, withTimeRange } from '../filter/filter.js';
import { createRollupPlanner } from '../rollups/planner.js';
import type { ReadOptions, Stats } from '../types.js';
import { guardRead, signalOf } from './abort.js';

/** Count, metric sums, RPM and TPM over a scope. @internal */
export function createStatsRead(core: LogCore) {
  const planner = createRollupPlanner(core);
  return async function stats(scope: Scope, filter?: FilterInput, options?: ReadOptions): Promise<Stats> {
    core.assertOpen();
    const signal = signalOf(options);
    const where = core.conditions(scope, filter);
    const metrics = [...core.registry.metrics.keys()];
    const tokenMetrics = [...core.registry.metrics.values()].filter((m) => m.tokens).map((m) => m.name);
    const zeros = Object.fromEntries(metrics.map((m) => [m, 0]));
    await core.ready();
    if (isEmptySelection(where)) return { count: 0, sums: zeros, rpm: 0, tpm: 0 };
    // "Last 60 s" is (now - 60 s, now]: an event exactly a minute old no longer counts.
    const recent = withTimeRange(where, core.clock() - 60_000 + 1, undefined);
    const [all, last] = await Promise.all([
      planner.aggregate({ where, sum: metrics }, signal),
      guardRead(core, 'aggregate', signal, () => core.store.aggregate({ where: recent, sum: tokenMetrics, signal })),
    ]);
    const total = all[0];
    const window = last[0];
    return {
      count: total?.count ?? 0,
      sums: { ...zeros, ...total?.sums },
      rpm: window?.count ?? 0,
      tpm: tokenMetrics.reduce((sum, m) => sum + (window?.sums[m] ?? 0), 0),
    };
  };
}
