import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { StorageAdapter } from '@eventlog/core';
import Database from 'better-sqlite3';
import { sql } from 'kysely';
import { afterAll } from 'vitest';
import type { KyselyStore } from '../kysely/kysely-store.js';
import { type ConformanceHooks, kyselyTamperer, runStoreConformance, type StructureHooks } from '../testing/index.js';
import { createSqliteStore } from './sqlite-store.js';

const dir = mkdtempSync(join(tmpdir(), 'eventlog-sqlite-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

/** Index and column surgery through the store's own connection (an in-memory database has no other). */
const structure: StructureHooks = {
  async indexColumns(store, name) {
    const { db, tables } = store as KyselyStore;
    const rows = await sql<{ name: string }>`select name from pragma_index_info(${tables.indexPrefix + name}) order by seqno`.execute(db);
    return rows.rows.length === 0 ? null : rows.rows.map((r) => r.name);
  },
  async replaceIndex(store, name, columns) {
    const { db, tables } = store as KyselyStore;
    await sql`drop index ${sql.id(tables.indexPrefix + name)}`.execute(db);
    await sql`create index ${sql.id(tables.indexPrefix + name)} on ${sql.table(tables.events)} (${sql.join(columns.map((c) => sql.id(c)))})`.execute(
      db,
    );
  },
  async dropColumn(store, column) {
    const { db, tables } = store as KyselyStore;
    await sql`alter table ${sql.table(tables.events)} drop column ${sql.id(column)}`.execute(db);
  },
};

const hostClient =
  (filename: string): ConformanceHooks['hostClient'] =>
  async () => {
    const database = new Database(filename);
    return {
      store: createSqliteStore({ database }),
      isOpen: async () => database.open && database.prepare('select 1 as one').get() !== undefined,
      release: async () => {
        database.close();
      },
    };
  };

runStoreConformance({
  name: 'sqlite (memory)',
  createStore: () => createSqliteStore(),
  hooks: { structure, hostClient: hostClient(':memory:') },
  hookGaps: {
    openSecondStore: 'a :memory: database lives in one connection (the file variant below tests it)',
    childStore: 'another process cannot open a :memory: database (the file variant below tests it)',
    killConnections: 'SQLite is embedded: there is no server connection to kill',
  },
  integrity: {
    hooks: { tamper: kyselyTamperer },
    childStoreGap: 'a :memory: database cannot be opened by another process (the file variant below tests it)',
  },
});

const files = new WeakMap<StorageAdapter, string>();
runStoreConformance({
  name: 'sqlite (file, WAL, keyword index)',
  createStore: () => {
    const filename = join(dir, `events-${n++}.db`);
    const store = createSqliteStore({ filename, keywordIndex: true });
    files.set(store, filename);
    return store;
  },
  hooks: {
    structure,
    hostClient: hostClient(join(dir, 'host.db')),
    openSecondStore: (store) => {
      const filename = files.get(store);
      if (!filename) throw new Error('openSecondStore got a store this file did not create.');
      return createSqliteStore({ filename, keywordIndex: true });
    },
    childStore: (store) => ({
      module: fileURLToPath(new URL('./sqlite-store.ts', import.meta.url)),
      factory: 'createSqliteStore',
      options: { filename: files.get(store), keywordIndex: true },
    }),
  },
  hookGaps: { killConnections: 'SQLite is embedded: there is no server connection to kill' },
  integrity: {
    hooks: {
      tamper: kyselyTamperer,
      childStore: (store) => ({
        module: new URL('./sqlite-store.ts', import.meta.url).href,
        factory: 'createSqliteStore',
        options: { filename: files.get(store), keywordIndex: true },
      }),
    },
  },
});
