export { type AnyKysely, escapeLike, NETWORK_ERROR_CODES, type SqlDialect } from './dialect.js';
export { createKyselyStore, type KyselyStore, type KyselyStoreOptions } from './kysely-store.js';
export { type TableNames, tableNames } from './migrations.js';
export { afterOf, whereOf } from './where.js';
