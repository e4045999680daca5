/**
 * The options every networked SQL store (PostgreSQL, MySQL/MariaDB) takes under the same names.
 * Each store adds `pool` (a client the host owns) and its engine's own options.
 */
export interface SqlStoreOptions {
  /**
   * A connection URL (`postgres://…`, `mysql://…`); the store opens a pool on it and closes it in
   * `close()`. Either this or `pool` is required.
   */
  connectionString?: string;
  /** Size of the pool the store opens from `connectionString` (ignored with `pool`). @default 10 */
  maxConnections?: number;
  /** Prefix of every table and index name: letters, digits and `_`, at most 16. @default 'eventlog_' */
  tablePrefix?: string;
}

/** The connection settings of a store after its deprecated aliases are resolved. */
export interface ConnectionSettings {
  /** The URL to open a pool on; undefined when the host passed a pool. */
  connectionString: string | undefined;
  /** Size of that pool. */
  maxConnections: number;
}

/** Default size of a pool a store opens itself. */
export const DEFAULT_MAX_CONNECTIONS = 10;

/**
 * Resolves the connection options of a store: each deprecated alias (old name → current name)
 * stands in for its current name; giving both with different values, no connection at all, or a
 * pool size that is not a positive integer is a `TypeError` naming the option.
 *
 * @example
 * ```ts
 * import { connectionSettings } from '@eventlog/adapters/kysely';
 * const settings = connectionSettings('createMysqlStore', { uri: 'mysql://app@localhost/app' }, { uri: 'connectionString' }, false);
 * console.log(settings.connectionString); // 'mysql://app@localhost/app'
 * ```
 */
export function connectionSettings(
  factory: string,
  options: Readonly<Record<string, unknown>> | undefined,
  aliases: Readonly<Record<string, 'connectionString' | 'maxConnections'>>,
  hasPool: boolean,
): ConnectionSettings {
  const value = (name: 'connectionString' | 'maxConnections'): unknown => {
    let found = options?.[name];
    let from: string = name;
    for (const [alias, current] of Object.entries(aliases)) {
      const given = options?.[alias];
      if (current !== name || given === undefined) continue;
      if (found !== undefined && found !== given) {
        throw new TypeError(`${factory}: ${alias} (deprecated) and ${from} disagree; pass only ${name}.`);
      }
      found = given;
      from = alias;
    }
    return found;
  };
  const connectionString = value('connectionString');
  if (connectionString !== undefined && typeof connectionString !== 'string') {
    throw new TypeError(`${factory}: connectionString must be a string.`);
  }
  if (!hasPool && !connectionString) {
    throw new TypeError(`${factory} needs a connectionString or a pool, e.g. { connectionString: "${example(factory)}" }.`);
  }
  const max = value('maxConnections') ?? DEFAULT_MAX_CONNECTIONS;
  if (typeof max !== 'number' || !Number.isInteger(max) || max < 1) {
    throw new TypeError(`${factory}: maxConnections must be a positive integer (got ${String(max)}).`);
  }
  return { connectionString: hasPool ? undefined : connectionString, maxConnections: max };
}

function example(factory: string): string {
  return factory.includes('Mysql') ? 'mysql://app@localhost:3306/app' : 'postgres://localhost/app';
}
