export {
  type ClickhouseClusterOptions,
  type ClickhouseStore,
  type ClickhouseStoreOptions,
  type ClickhouseTables,
  createClickhouseStore,
} from './clickhouse-store.js';
export { CancellationQuietLogger } from './client.js';
