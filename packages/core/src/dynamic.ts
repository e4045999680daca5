import type { DynamicName } from './types.js';

/**
 * Marks a name known only at run time (from a request, a config file) so that a log typed by its
 * presets accepts it where it checks field, dimension and metric names at compile time. The log
 * still checks the name when the call runs: an unknown one is a `ValidationError`.
 *
 * @example
 * ```ts
 * import { createEventLog, definePreset, dynamic } from '@eventlog/core';
 * import { createSqliteStore } from '@eventlog/adapters/sqlite';
 *
 * const log = createEventLog({
 *   store: createSqliteStore(),
 *   presets: [definePreset({ name: 'gateway', types: [], dimensions: [{ name: 'model_name' }] })],
 * });
 * const by = process.env.GROUP_BY ?? 'model_name';
 * const rows = await log.top({ by: dynamic(by) });
 * console.log(rows);
 * await log.close();
 * ```
 */
export function dynamic(name: string): DynamicName {
  return name as DynamicName;
}
