export type { KyselyStore, SqlStoreOptions } from '../shared/sql-store-types.js';
export {
  createMysqlDialect,
  isMysqlTransientError,
  type MysqlDialect,
  type MysqlDialectOptions,
  type MysqlSettings,
} from './mysql-dialect.js';
export { createMysqlStore, type MysqlPool, type MysqlStoreOptions } from './mysql-store.js';
