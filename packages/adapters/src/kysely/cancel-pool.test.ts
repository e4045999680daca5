// Cancelling a read must not need a free pool connection: with every pooled connection busy (here
// the pool has one, and the read being cancelled holds it), the cancel still reaches the server.
// The read waits on a table lock another connection holds, so it can only leave the server's list
// of running statements because it was cancelled.
import { randomBytes } from 'node:crypto';
import { createEventLog, isEventLogError } from '@eventlog/core';
import { describe, expect, it } from 'vitest';
import { createMysqlStore } from '../mysql/mysql-store.js';
import { createPostgresStore } from '../postgres/postgres-store.js';
import { conformancePreset, NOW } from '../testing/fixtures.js';
import { blockReads, runningReads } from '../testing/read-blockers.js';
import { requireServer } from '../testing/servers.js';
import type { KyselyStore } from './kysely-store.js';

interface Engine {
  name: 'postgres' | 'mysql';
  open(url: string, tablePrefix: string): KyselyStore;
  /** Takes a lock that makes every read of `table` wait; resolves the function that releases it. */
  lock(url: string, table: string): Promise<() => Promise<void>>;
  /** How many reads (SELECTs) of `table` the server is running now, the probe's own excluded. */
  running(url: string, table: string): Promise<number>;
}

const ENGINES: Engine[] = [
  {
    name: 'postgres',
    open: (url, tablePrefix) => createPostgresStore({ connectionString: url, tablePrefix, maxConnections: 1 }),
    lock: (url, table) => blockReads('postgres', url, table),
    running: (url, table) => runningReads('postgres', url, table),
  },
  {
    name: 'mysql',
    open: (url, tablePrefix) => createMysqlStore({ connectionString: url, tablePrefix, maxConnections: 1 }),
    lock: (url, table) => blockReads('mysql', url, table),
    running: (url, table) => runningReads('mysql', url, table),
  },
];

async function until(what: string, condition: () => Promise<boolean>, withinMs: number): Promise<void> {
  const started = performance.now();
  while (!(await condition())) {
    if (performance.now() - started > withinMs) throw new Error(`${what} (waited ${withinMs} ms)`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

for (const engine of ENGINES) {
  const url = await requireServer(engine.name);
  describe.skipIf(!url)(`${engine.name}: cancelling with every pool connection busy`, () => {
    it('a read holding the only pooled connection is gone from the server within 1 s of the abort', async () => {
      const store = engine.open(url!, `cp${randomBytes(3).toString('hex')}_`);
      const log = createEventLog({ store, presets: [conformancePreset], clock: () => NOW });
      let release: (() => Promise<void>) | undefined;
      try {
        await log.recordMany([{ type: 'auth.login', time: NOW, tenantId: 't1' }]);
        const table = store.tables.events;
        release = await engine.lock(url!, table);
        const controller = new AbortController();
        const read = log.count(undefined, { signal: controller.signal }).then(
          () => 'resolved',
          (error: unknown) => (isEventLogError(error, 'ABORTED') ? 'aborted' : error),
        );
        await until('the read never showed up as running', async () => (await engine.running(url!, table)) > 0, 10_000);
        controller.abort();
        expect(await read).toBe('aborted');
        await until(
          'the read still runs on the server a second after the abort',
          async () => (await engine.running(url!, table)) === 0,
          1000,
        );
      } finally {
        await release?.();
        await log.close();
      }
    }, 30_000);
  });
}
