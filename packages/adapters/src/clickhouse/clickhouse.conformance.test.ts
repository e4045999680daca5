import { randomBytes } from 'node:crypto';
import { createClient } from '@clickhouse/client';
import { afterAll, describe, it } from 'vitest';
import { runStoreConformance } from '../testing/index.js';
import { requireServer } from '../testing/servers.js';
import { createClickhouseStore } from './clickhouse-store.js';

const url = await requireServer('clickhouse');
// One database per test file run, one table prefix per store: runs never see each other's rows.
const database = `eventlog_test_${randomBytes(4).toString('hex')}`;
let n = 0;

if (url) {
  runStoreConformance({
    name: 'clickhouse',
    createStore: () => createClickhouseStore({ url, database, tablePrefix: `t${n++}_` }),
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
