import { randomBytes } from 'node:crypto';
import { createClient } from '@clickhouse/client';
import type { StorageAdapter } from '@eventlog/core';
import { afterAll, describe, it } from 'vitest';
import { runStoreConformance } from '../testing/index.js';
import { requireServer } from '../testing/servers.js';
import { createClickhouseStore } from './clickhouse-store.js';

const url = await requireServer('clickhouse');
// One database per test file run, one table prefix per store: runs never see each other's rows.
const database = `eventlog_test_${randomBytes(4).toString('hex')}`;
let n = 0;

if (url) {
  const prefixes = new WeakMap<StorageAdapter, string>();
  const open = (tablePrefix: string) => {
    const store = createClickhouseStore({ url, database, tablePrefix });
    prefixes.set(store, tablePrefix);
    return store;
  };
  runStoreConformance({
    name: 'clickhouse',
    createStore: () => open(`t${n++}_`),
    hooks: {
      openSecondStore: (store) => {
        const prefix = prefixes.get(store);
        if (!prefix) throw new Error('openSecondStore got a store this file did not create.');
        return open(prefix);
      },
      async hostClient() {
        const client = createClient({ url });
        return {
          store: createClickhouseStore({ client, database, tablePrefix: `t${n++}_` }),
          isOpen: async () => {
            const result = await client.query({ query: 'SELECT 1 AS one', format: 'JSONEachRow' });
            return ((await result.json()) as { one: number }[])[0]?.one === 1;
          },
          release: () => client.close(),
        };
      },
    },
    hookGaps: {
      structure:
        'no secondary indexes: the sorting key stands in for them, cannot be changed in place, and clickhouse-store.test.ts checks that migrate refuses a table with another one',
      killConnections: 'HTTP requests: no connection outlives a request, so there is none to kill mid-transaction',
      childStore:
        'no jobs table (18.16 has no row updates, only asynchronous mutations): jobs live in the process that runs them, so another process cannot resume one',
    },
    integrity: {
      gap: 'ClickHouse 18.16 has no transactions and no row locks, so concurrent writers cannot append to one chain without forking it, and a position written by an ALTER … UPDATE mutation is applied asynchronously',
    },
  });
  // Dropping a hundred tables takes 18.16 a while on a busy machine.
  afterAll(async () => {
    const client = createClient({ url, request_timeout: 600_000 });
    await client.command({ query: `DROP DATABASE IF EXISTS ${database}` });
    await client.close();
  }, 600_000);
} else {
  // Reached only off CI: in CI requireServer() throws when the server is down, failing the file.
  describe.skipIf(!url)('clickhouse store conformance (no server)', () => {
    it('needs a ClickHouse server', () => undefined);
  });
}
