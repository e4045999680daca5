import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { StorageAdapter } from '@eventlog/core';
import pg from 'pg';
import { afterAll, describe, it } from 'vitest';
import type { KyselyStore } from '../kysely/kysely-store.js';
import { kyselyTamperer, runStoreConformance } from '../testing/index.js';
import { requireServer } from '../testing/servers.js';
import { createPostgresStore } from './postgres-store.js';

const url = await requireServer('postgres');
// One schema per store: runs and parallel files never see each other's tables.
const run = `el_${randomBytes(4).toString('hex')}`;
const schemas: string[] = [];

if (url) {
  const admin = new pg.Pool({ connectionString: url, max: 2 });
  admin.on('error', () => undefined);
  const schemaOf = (store: StorageAdapter) => (store as KyselyStore).tables.schema as string;
  /** Each store's connections carry its schema as application name, so they can be told apart and killed. */
  const open = (schema: string) => {
    const connectionString = new URL(url);
    connectionString.searchParams.set('application_name', schema);
    // The suite runs with the keyword index on (the search section then goes through pg_trgm).
    return createPostgresStore({ connectionString: connectionString.toString(), schema, maxConnections: 4, keywordIndex: true });
  };
  const indexName = (store: StorageAdapter, name: string) => `${(store as KyselyStore).tables.indexPrefix}${name}`;

  runStoreConformance({
    name: 'postgres',
    createStore: () => {
      const schema = `${run}_${schemas.length}`;
      schemas.push(schema);
      return open(schema);
    },
    hooks: {
      openSecondStore: (store) => open(schemaOf(store)),
      childStore: (store) => ({
        module: fileURLToPath(new URL('./postgres-store.ts', import.meta.url)),
        factory: 'createPostgresStore',
        options: { connectionString: url, schema: schemaOf(store), maxConnections: 4 },
      }),
      async hostClient() {
        const schema = `${run}_${schemas.length}`;
        schemas.push(schema);
        const pool = new pg.Pool({ connectionString: url, max: 2 });
        return {
          store: createPostgresStore({ pool, schema }),
          isOpen: async () => (await pool.query('select 1 as one')).rows[0]?.one === 1,
          release: () => pool.end(),
        };
      },
      structure: {
        async indexColumns(store, name) {
          // pg_index lists the key columns in order; attnames come back unquoted.
          const result = await admin.query<{ column: string }>(
            `select a.attname as column
               from pg_index i
               join pg_class c on c.oid = i.indexrelid
               join pg_namespace n on n.oid = c.relnamespace
               cross join lateral unnest(i.indkey) with ordinality as k(attnum, position)
               join pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum
              where n.nspname = $1 and c.relname = $2
              order by k.position`,
            [schemaOf(store), indexName(store, name)],
          );
          return result.rows.length === 0 ? null : result.rows.map((r) => r.column);
        },
        async replaceIndex(store, name, columns) {
          const schema = schemaOf(store);
          const index = indexName(store, name);
          await admin.query(`drop index "${schema}"."${index}"`);
          await admin.query(
            `create index "${index}" on "${schema}"."${(store as KyselyStore).tables.eventsTable}" (${columns.map((c) => `"${c}"`).join(', ')})`,
          );
        },
        async dropColumn(store, column) {
          await admin.query(`alter table "${schemaOf(store)}"."${(store as KyselyStore).tables.eventsTable}" drop column "${column}"`);
        },
      },
      async killConnections(store) {
        const result = await admin.query('select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1', [
          schemaOf(store),
        ]);
        return result.rowCount ?? 0;
      },
    },
    integrity: {
      hooks: {
        tamper: kyselyTamperer,
        childStore: (store) => ({
          module: new URL('./postgres-store.ts', import.meta.url).href,
          factory: 'createPostgresStore',
          options: { connectionString: url, schema: schemaOf(store), maxConnections: 4, keywordIndex: true },
        }),
      },
    },
  });
  afterAll(async () => {
    for (const schema of schemas) await admin.query(`drop schema if exists ${schema} cascade`);
    await admin.end();
  });
} else {
  // Reached only off CI: in CI requireServer() throws when the server is down, failing the file.
  describe.skipIf(!url)('postgres store conformance (no server)', () => {
    it('needs a PostgreSQL server', () => undefined);
  });
}
