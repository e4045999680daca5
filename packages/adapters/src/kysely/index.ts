export type { QueryCanceller } from './cancel.js';
export { type ChainAppend, type ChainAppendContext, type ChainStoreParts, createChainStore, lockedChainAppend } from './chain-store.js';
export {
  type AnyKysely,
  type ColumnTypes,
  columnTypes,
  DIALECT_DEFAULTS,
  type DialectCapabilities,
  type DialectFlags,
  type DialectLocks,
  escapeLike,
  type InsertContext,
  type InsertStrategy,
  type InsertTransaction,
  type Introspection,
  type ResolvedDialect,
  resolveDialect,
  SQL_CAPABILITY_DEFAULTS,
  type SqlDialect,
  type SqlFragments,
} from './dialect.js';
export { type BatchRow, type BatchToken, batchRow, decodeIds, encodeIds, idempotentInsert, TOKEN_TTL_MS } from './insert/idempotent.js';
export { inTransaction, type MultiRowInsertOptions, multiRowInsert } from './insert/multi-row.js';
export { indexColumns } from './introspection.js';
export { createKyselyStore, type KyselyStore, type KyselyStoreOptions } from './kysely-store.js';
export { heldLock, leaseLock } from './locks.js';
export { type TableNames, tableNames } from './migrations.js';
export { type ConnectionSettings, connectionSettings, DEFAULT_MAX_CONNECTIONS, type SqlStoreOptions } from './options.js';
export {
  classified,
  isNetworkError,
  NETWORK_ERROR_CODES,
  permanentStoreError,
  someCause,
  type TransientRules,
  transientClassifier,
} from './transient.js';
export { afterOf, whereOf } from './where.js';
