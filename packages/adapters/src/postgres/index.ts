export type { KyselyStore, SqlStoreOptions } from '../shared/sql-store-types.js';
export {
  createPostgresDialect,
  isPostgresTransientError,
  type PlannerStatisticsOptions,
  type PostgresDialectOptions,
  PostgresTextPlugin,
} from './postgres-dialect.js';
export { createPostgresStore, type PostgresStoreOptions } from './postgres-store.js';
