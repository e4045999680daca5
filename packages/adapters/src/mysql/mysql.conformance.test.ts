import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import { afterAll, describe, it } from 'vitest';
import { runStoreConformance } from '../testing/index.js';
import { requireServer } from '../testing/servers.js';
import { createMysqlStore } from './mysql-store.js';

const url = await requireServer('mysql');
// One table prefix per store: runs and parallel files never see each other's tables.
const run = `el${randomBytes(3).toString('hex')}`;
const prefixes: string[] = [];

if (url) {
  runStoreConformance({
    name: 'mysql',
    createStore: () => {
      const tablePrefix = `${run}_${prefixes.length}_`;
      prefixes.push(tablePrefix);
      return createMysqlStore({ uri: url, tablePrefix, connectionLimit: 4 });
    },
  });
  afterAll(async () => {
    const connection = await mysql.createConnection({ uri: url });
    for (const prefix of prefixes) {
      const tables = ['events', 'sessions', 'locks', 'migrations', 'batches'].map((t) => `\`${prefix}${t}\``).join(', ');
      await connection.query(`drop table if exists ${tables}`);
    }
    await connection.end();
  });
} else {
  // Reached only off CI: in CI requireServer() throws when the server is down, failing the file.
  describe.skipIf(!url)('mysql store conformance (no server)', () => {
    it('needs a MySQL or MariaDB server', () => undefined);
  });
}
