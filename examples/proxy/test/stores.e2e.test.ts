import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { scratchDirectory, startExample } from '@eventlog/example-shared/testing';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';

const directory = fileURLToPath(new URL('..', import.meta.url));
const scratch = scratchDirectory('proxy-stores');
afterAll(() => scratch.remove());

const PG_URL = process.env.EVENTLOG_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const MYSQL_URL = process.env.EVENTLOG_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';

/** A fresh database on the server behind `url`, and a function that drops it; null when the server is unreachable. */
async function freshDatabase(url: string): Promise<{ url: string; drop: () => Promise<void> } | null> {
  const name = `eventlog_example_${randomBytes(4).toString('hex')}`;
  const target = new URL(url);
  target.pathname = `/${name}`;
  try {
    if (url.startsWith('postgres')) {
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      await admin.query(`create database ${name}`);
      await admin.end();
      return {
        url: target.toString(),
        drop: async () => {
          const client = new pg.Client({ connectionString: url });
          await client.connect();
          await client.query(`drop database if exists ${name} with (force)`);
          await client.end();
        },
      };
    }
    const admin = await mysql.createConnection(url);
    await admin.query(`create database ${name}`);
    await admin.end();
    return {
      url: target.toString(),
      drop: async () => {
        const client = await mysql.createConnection(url);
        await client.query(`drop database if exists ${name}`);
        await client.end();
      },
    };
  } catch (error) {
    if (process.env.CI === 'true') throw error;
    console.warn(`skipping the ${url.split(':')[0]} run of the proxy example: ${error instanceof Error ? error.message : error}`);
    return null;
  }
}

const basic = { Authorization: `Basic ${Buffer.from('admin:demo-password').toString('base64')}` };

/** Starts the example on a store, reads the seeded stats, stops it with SIGTERM. */
async function statsOn(db: string) {
  const example = await startExample({ directory, env: { EVENTLOG_DB: db, EVENTLOG_SEED_EVENTS: '300' } });
  try {
    const stats = await (await fetch(`${example.url}/api/logs/stats`, { headers: basic })).json();
    const logs = await (await fetch(`${example.url}/api/logs?limit=3&sort=bytes&order=desc`, { headers: basic })).json();
    return { stats: stats.data, top: logs.data.map((row: { destination: string; bytes: number }) => [row.destination, row.bytes]) };
  } finally {
    const { code, output } = await example.stop('SIGTERM');
    expect(code, output).toBe(0);
  }
}

describe('examples/proxy on every store', () => {
  it('seeds the same data and answers the same on SQLite, PostgreSQL and MySQL (EVENTLOG_DB)', async () => {
    const reference = await statsOn(join(scratch.path, 'proxy.db'));
    expect(reference.stats.total_count).toBeGreaterThan(300);
    const { last_import: _ignored, ...counts } = reference.stats;
    for (const server of [PG_URL, MYSQL_URL]) {
      const database = await freshDatabase(server);
      if (!database) continue;
      try {
        const other = await statsOn(database.url);
        expect(other.stats, server).toMatchObject(counts);
        expect(other.top, server).toEqual(reference.top);
      } finally {
        await database.drop();
      }
    }
  }, 240_000);
});
