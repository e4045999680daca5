export type { KyselyStore } from '../kysely/kysely-store.js';
export type { SqlStoreOptions } from '../kysely/options.js';
export {
  createPostgresDialect,
  isPostgresTransientError,
  type PlannerStatisticsOptions,
  type PostgresDialectOptions,
  PostgresTextPlugin,
} from './postgres-dialect.js';
export { createPostgresStore, type PostgresStoreOptions } from './postgres-store.js';
