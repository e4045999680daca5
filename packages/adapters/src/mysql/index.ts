export type { KyselyStore } from '../kysely/kysely-store.js';
export type { MysqlSettings } from './mysql-dialect.js';
export { createMysqlStore, type MysqlPool, type MysqlStoreOptions } from './mysql-store.js';
