import type { EngineModule } from '../engine.js';

/** Engine modules by name, loaded on demand so that an engine's driver is only imported when used. */
export const ENGINES: Record<string, () => Promise<EngineModule>> = {
  sqlite: async () => (await import('./sqlite.js')).sqliteEngine,
  postgres: async () => (await import('./postgres.js')).postgresEngine,
  mysql: async () => (await import('./mysql.js')).mysqlEngine,
  clickhouse: async () => (await import('./clickhouse.js')).clickhouseEngine,
};

/** Loads an engine module by name. */
export async function loadEngine(name: string): Promise<EngineModule> {
  const load = ENGINES[name];
  if (!load) throw new Error(`Unknown engine "${name}"; known: ${Object.keys(ENGINES).join(', ')}.`);
  return load();
}
