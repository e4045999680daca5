// The public types every SQL store's entry point shares, named once so the entry points differ
// only in what is their own.
export type { KyselyStore } from '../kysely/kysely-store.js';
export type { SqlStoreOptions } from '../kysely/options.js';
