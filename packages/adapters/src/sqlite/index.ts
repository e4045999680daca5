export type { KyselyStore } from '../kysely/kysely-store.js';
export { createSqliteStore, type SqliteDatabase, type SqliteStoreOptions } from './sqlite-store.js';
