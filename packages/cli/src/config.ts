import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { BufferOptions, DimensionSpec, EventType, IntegrityOptions, MetricSpec, Preset } from '@eventlog/core';
import { CliError, UsageError } from './errors.js';

/** What `eventlog.config.ts` (or `.js`) exports as default: the host's own types and presets, and defaults for flags. */
export interface CliConfig {
  /** The store when neither `--db` nor `EVENTLOG_DB` is given, e.g. `postgres://app@db/app`. */
  db?: string;
  /** Presets registered besides the five built-in product presets. */
  presets?: readonly Preset[];
  /** Extra event types. */
  types?: readonly EventType[];
  /** Extra dimensions. */
  dimensions?: readonly DimensionSpec[];
  /** Extra metrics. */
  metrics?: readonly MetricSpec[];
  /** Accept event types nobody registered (imports of foreign JSONL). @default true */
  allowUnknownTypes?: boolean;
  /** Write-path tuning of the event log the commands open. */
  buffer?: BufferOptions;
  /** The application's tamper-evidence settings (which events are chained, the key), for `eventlog verify`. */
  integrity?: IntegrityOptions;
}

/**
 * Types a config file's default export.
 *
 * @example
 * ```ts
 * // eventlog.config.ts
 * import { defineConfig } from '@eventlog/cli';
 * import { defineEventType } from '@eventlog/core';
 * import { z } from 'zod';
 *
 * export default defineConfig({
 *   db: './events.db',
 *   types: [defineEventType('app.deploy', z.object({ version: z.string() }))],
 * });
 * ```
 */
export function defineConfig(config: CliConfig): CliConfig {
  return config;
}

/** File names looked up in the working directory, in this order. */
export const CONFIG_FILES = ['eventlog.config.ts', 'eventlog.config.mts', 'eventlog.config.js', 'eventlog.config.mjs'] as const;

/**
 * Loads a config file with jiti (TypeScript without a build step, ESM or CommonJS); `explicit` must exist,
 * otherwise the first of {@link CONFIG_FILES} in `cwd` is used, or none.
 */
export async function loadConfig(explicit: string | undefined, cwd = process.cwd()): Promise<{ config: CliConfig; path: string | null }> {
  let path: string | null = null;
  if (explicit) {
    path = resolve(cwd, explicit);
    if (!existsSync(path)) throw new UsageError(`--config: ${path} does not exist.`);
  } else {
    path = CONFIG_FILES.map((name) => resolve(cwd, name)).find((candidate) => existsSync(candidate)) ?? null;
  }
  if (!path) return { config: {}, path: null };
  const { createJiti } = await import('jiti');
  const jiti = createJiti(import.meta.url, { interopDefault: true, moduleCache: false });
  let loaded: unknown;
  try {
    loaded = await jiti.import(path, { default: true });
  } catch (error) {
    throw new CliError(`Cannot load ${path}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  if (typeof loaded === 'function') loaded = await (loaded as () => unknown)();
  if (loaded === null || typeof loaded !== 'object')
    throw new CliError(`${path} must export a config object as default (see defineConfig).`);
  return { config: loaded as CliConfig, path };
}
