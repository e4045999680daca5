import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { StorageAdapter } from '@eventlog/core';
import mysql from 'mysql2';
import mysqlPromise from 'mysql2/promise';
import { afterAll, describe, it } from 'vitest';
import type { KyselyStore } from '../kysely/kysely-store.js';
import { kyselyTamperer, runStoreConformance } from '../testing/index.js';
import { requireServer } from '../testing/servers.js';
import { createMysqlStore } from './mysql-store.js';

const url = await requireServer('mysql');
// One table prefix per store: runs and parallel files never see each other's tables.
const run = `el${randomBytes(3).toString('hex')}`;
const prefixes: string[] = [];
const nextPrefix = () => {
  const prefix = `${run}_${prefixes.length}_`;
  prefixes.push(prefix);
  return prefix;
};

if (url) {
  const admin = mysqlPromise.createPool({ uri: url, connectionLimit: 2 });
  // The conformance stores run on pools this file opens, so it knows their connections' thread ids.
  const pools: mysql.Pool[] = [];
  const threads = new WeakMap<StorageAdapter, Set<number>>();
  const prefixOf = (store: StorageAdapter) => (store as KyselyStore).tables.eventsTable.slice(0, -'events'.length);
  const open = (tablePrefix: string) => {
    // Idle connections close after a second: the pools live until the file ends, and the server
    // (shared with other runs) allows 151 connections in all.
    const pool = mysql.createPool({ uri: url, connectionLimit: 4, maxIdle: 0, idleTimeout: 1000 });
    pools.push(pool);
    const ids = new Set<number>();
    pool.on('connection', (connection) => ids.add(connection.threadId));
    const store = createMysqlStore({ pool, tablePrefix });
    threads.set(store, ids);
    // The store never ends a pool it was given; this file does, as soon as the suite closes the
    // store, so ~90 tests of up to 4 connections each stay under the server's max_connections.
    const close = store.close.bind(store);
    store.close = async () => {
      await close();
      await new Promise((resolve) => pool.end(resolve));
    };
    return store;
  };
  const table = (store: StorageAdapter) => `\`${(store as KyselyStore).tables.eventsTable}\``;
  const index = (store: StorageAdapter, name: string) => `${(store as KyselyStore).tables.indexPrefix}${name}`;

  runStoreConformance({
    name: 'mysql',
    createStore: () => open(nextPrefix()),
    hooks: {
      openSecondStore: (store) => open(prefixOf(store)),
      childStore: (store) => ({
        module: fileURLToPath(new URL('./mysql-store.ts', import.meta.url)),
        factory: 'createMysqlStore',
        options: { connectionString: url, tablePrefix: prefixOf(store) },
      }),
      async hostClient() {
        const pool = mysql.createPool({ uri: url, connectionLimit: 2 });
        return {
          store: createMysqlStore({ pool, tablePrefix: nextPrefix() }),
          isOpen: () =>
            new Promise<boolean>((resolve) => pool.query('select 1 as one', (error, rows) => resolve(!error && Array.isArray(rows)))),
          release: () => new Promise<void>((resolve) => pool.end(() => resolve())),
        };
      },
      structure: {
        async indexColumns(store, name) {
          const [rows] = await admin.query<mysqlPromise.RowDataPacket[]>(
            `select column_name as c from information_schema.statistics
              where table_schema = database() and table_name = ? and index_name = ? order by seq_in_index`,
            [(store as KyselyStore).tables.eventsTable, index(store, name)],
          );
          return rows.length === 0 ? null : rows.map((r) => String(r.c));
        },
        async replaceIndex(store, name, columns) {
          await admin.query(`drop index \`${index(store, name)}\` on ${table(store)}`);
          await admin.query(`create index \`${index(store, name)}\` on ${table(store)} (${columns.map((c) => `\`${c}\``).join(', ')})`);
        },
        async dropColumn(store, column) {
          await admin.query(`alter table ${table(store)} drop column \`${column}\``);
        },
      },
      async killConnections(store) {
        let killed = 0;
        const ids = threads.get(store) ?? new Set<number>();
        for (const id of [...ids]) {
          try {
            await admin.query(`kill connection ${Number(id)}`);
            killed++;
          } catch {
            ids.delete(id); // already gone
          }
        }
        return killed;
      },
    },
    integrity: {
      hooks: {
        tamper: kyselyTamperer,
        childStore: (store) => ({
          module: new URL('./mysql-store.ts', import.meta.url).href,
          factory: 'createMysqlStore',
          options: { connectionString: url, tablePrefix: prefixOf(store), maxConnections: 4 },
        }),
      },
    },
  });
  afterAll(async () => {
    for (const prefix of prefixes) {
      const tables = ['events', 'sessions', 'locks', 'migrations', 'batches', 'jobs'].map((t) => `\`${prefix}${t}\``).join(', ');
      await admin.query(`drop table if exists ${tables}`);
    }
    await admin.end();
    await Promise.all(pools.map((p) => new Promise((resolve) => p.end(resolve))));
  });
} else {
  // Reached only off CI: in CI requireServer() throws when the server is down, failing the file.
  describe.skipIf(!url)('mysql store conformance (no server)', () => {
    it('needs a MySQL or MariaDB server', () => undefined);
  });
}
