import { createEventLog, type DimensionSpec, type EventLog, type MetricSpec, type Preset, type StorageAdapter } from '@eventlog/core';
import { mediaCpPreset, newApiPreset, proxyLogsPreset, unifiAccessPreset, xuiOnePreset } from '@eventlog/http';
import { type CliConfig, loadConfig } from './config.js';
import { DEFAULT_DB, openStore, parseStoreTarget, type StoreTarget } from './store.js';

/** The presets every command registers: the five products' (HTTP requests are the proxy profile's `proxy.request`). */
export const BUILT_IN_PRESETS: readonly Preset[] = [proxyLogsPreset, newApiPreset, xuiOnePreset, mediaCpPreset, unifiAccessPreset];

/** Options every command takes. */
export interface GlobalOptions {
  db?: string;
  config?: string;
  quiet?: boolean;
}

/** An opened event log with what the commands need to know about it. */
export interface CliContext {
  log: EventLog;
  store: StorageAdapter;
  target: StoreTarget;
  config: CliConfig;
  /** Every declared dimension (built-in presets and config). */
  dimensions: DimensionSpec[];
  /** Every declared metric. */
  metrics: MetricSpec[];
}

/** The store target from `--db`, then `EVENTLOG_DB`, then the config's `db`, then `./events.db`. */
export function resolveTarget(options: GlobalOptions, config: CliConfig): StoreTarget {
  const env = process.env.EVENTLOG_DB?.trim();
  return parseStoreTarget(options.db ?? (env ? env : undefined) ?? config.db ?? DEFAULT_DB);
}

/**
 * Loads the config and opens the event log on the selected store (not yet migrated; reads and
 * writes migrate on first use, as the library does).
 */
export async function openContext(
  options: GlobalOptions,
  extra: { migrate?: boolean; buffer?: CliConfig['buffer']; integrity?: (config: CliConfig) => CliConfig['integrity'] } = {},
): Promise<CliContext> {
  const { config } = await loadConfig(options.config);
  const target = resolveTarget(options, config);
  const store = await openStore(target);
  const presets = [...BUILT_IN_PRESETS, ...(config.presets ?? [])];
  const log = createEventLog({
    store,
    presets,
    types: config.types ?? [],
    dimensions: config.dimensions ?? [],
    metrics: config.metrics ?? [],
    allowUnknownTypes: config.allowUnknownTypes ?? true,
    migrate: extra.migrate ?? true,
    ...(extra.buffer || config.buffer ? { buffer: { ...config.buffer, ...extra.buffer } } : {}),
    ...(extra.integrity ? { integrity: extra.integrity(config) } : {}),
  });
  // A log emits background failures as 'error'; without a listener Node would throw them.
  log.on('error', () => undefined);
  const dimensions = uniqueByName([...presets.flatMap((p) => p.dimensions), ...(config.dimensions ?? [])]);
  const metrics = uniqueByName([...presets.flatMap((p) => p.metrics), ...(config.metrics ?? [])]);
  return { log: log as EventLog, store, target, config, dimensions, metrics };
}

function uniqueByName<T extends { name: string }>(items: readonly T[]): T[] {
  const seen = new Map<string, T>();
  for (const item of items) if (!seen.has(item.name)) seen.set(item.name, item);
  return [...seen.values()];
}
