export type { KyselyStore } from '../kysely/kysely-store.js';
export { createPostgresStore, type PostgresStoreOptions } from './postgres-store.js';
