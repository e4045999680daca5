import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, it } from 'vitest';
import { runStoreConformance } from '../testing/index.js';
import { requireServer } from '../testing/servers.js';
import { createPostgresStore } from './postgres-store.js';

const url = await requireServer('postgres');
// One schema per store: runs and parallel files never see each other's tables.
const run = `el_${randomBytes(4).toString('hex')}`;
const schemas: string[] = [];

if (url) {
  runStoreConformance({
    name: 'postgres',
    createStore: () => {
      const schema = `${run}_${schemas.length}`;
      schemas.push(schema);
      return createPostgresStore({ connectionString: url, schema, maxConnections: 4 });
    },
  });
  afterAll(async () => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    for (const schema of schemas) await client.query(`drop schema if exists ${schema} cascade`);
    await client.end();
  });
} else {
  // Reached only off CI: in CI requireServer() throws when the server is down, failing the file.
  describe.skipIf(!url)('postgres store conformance (no server)', () => {
    it('needs a PostgreSQL server', () => undefined);
  });
}
