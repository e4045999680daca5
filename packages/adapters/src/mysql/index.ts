export type { KyselyStore } from '../kysely/kysely-store.js';
export type { SqlStoreOptions } from '../kysely/options.js';
export {
  createMysqlDialect,
  isMysqlTransientError,
  type MysqlDialect,
  type MysqlDialectOptions,
  type MysqlSettings,
} from './mysql-dialect.js';
export { createMysqlStore, type MysqlPool, type MysqlStoreOptions } from './mysql-store.js';
