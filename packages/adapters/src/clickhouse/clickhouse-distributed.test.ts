/**
 * The ClickHouse store over two shards: two server processes on loopback (scripts/clickhouse.sh
 * starts them, with the cluster `eventlog_two_shards` in their `remote_servers`), one local table
 * per shard and a `Distributed` table sharded by tenant. The whole conformance suite runs through
 * it, and a side-by-side test shows every read answering exactly as on a single server.
 */
import { randomBytes } from 'node:crypto';
import { createClient } from '@clickhouse/client';
import { createEventLog, type EventInput, type StoredEvent } from '@eventlog/core';
import { afterAll, describe, expect, it } from 'vitest';
import { conformancePreset, DAY, HOUR, MINUTE, NOW, runStoreConformance, seeded } from '../testing/index.js';
import { createClickhouseStore } from './clickhouse-store.js';

const SHARDS = (process.env.EVENTLOG_TEST_CLICKHOUSE_SHARD_URLS || 'http://127.0.0.1:18123,http://127.0.0.1:18124').split(',');
const CLUSTER = process.env.EVENTLOG_TEST_CLICKHOUSE_CLUSTER || 'eventlog_two_shards';
const DROP_TIMEOUT_MS = 600_000;

/** Null when both shards answer and know the cluster; else why not (failing under CI, skipping locally). */
async function problem(): Promise<string | null> {
  for (const url of SHARDS) {
    const client = createClient({ url, request_timeout: 3000 });
    try {
      const [row] = await (
        await client.query({ query: `SELECT count() AS n FROM system.clusters WHERE cluster = '${CLUSTER}'`, format: 'JSONEachRow' })
      ).json<{ n: string }>();
      if (Number(row?.n) < 2) return `${url} has no cluster "${CLUSTER}" with two shards`;
    } catch (error) {
      return `no server at ${url} (${error instanceof Error ? error.message : String(error)})`;
    } finally {
      await client.close().catch(() => undefined);
    }
  }
  return null;
}

const why = process.env.EVENTLOG_TEST_CLICKHOUSE_SKIPPED || (await problem());
if (why && process.env.CI) {
  throw new Error(`ClickHouse shards unreachable: ${why}; CI requires them. Run scripts/clickhouse.sh start 2.`);
}
// The vitest global setup already said, once, that ClickHouse is not installed.
if (why && !process.env.EVENTLOG_TEST_CLICKHOUSE_SKIPPED) {
  console.warn(
    `[eventlog] skipping ClickHouse two-shard tests: ${why}. Run scripts/clickhouse.sh start 2 or set EVENTLOG_TEST_CLICKHOUSE_SHARD_URLS.`,
  );
}

const database = `eventlog_test_${randomBytes(4).toString('hex')}`;
let n = 0;
const [main = '', ...others] = SHARDS;
const distributed = () =>
  createClickhouseStore({
    url: main,
    database,
    tablePrefix: `d${n++}_`,
    cluster: { name: CLUSTER, distributed: true, nodes: [main, ...others] },
  });

const createLog = (store: ReturnType<typeof createClickhouseStore>) =>
  createEventLog({ store, presets: [conformancePreset], clock: () => NOW });
type Log = ReturnType<typeof createLog>;

if (!why) {
  const single = 'clickhouse.conformance.test.ts runs this rule on one server; sharding does not change it';
  runStoreConformance({
    name: 'clickhouse (2 shards, Distributed)',
    createStore: distributed,
    hookGaps: { openSecondStore: single, hostClient: single, structure: single, killConnections: single, childStore: single },
    integrity: { gap: 'as on one server (clickhouse.conformance.test.ts): no transactions and no row locks, so no hash chains' },
  });

  describe('clickhouse two shards answer like one server', () => {
    const logs: Log[] = [];
    afterAll(async () => {
      await Promise.all(logs.map((l) => l.close()));
      // Dropping a few hundred tables takes 18.16 a while on a busy machine.
      for (const url of SHARDS) {
        const client = createClient({ url, request_timeout: DROP_TIMEOUT_MS });
        await client.command({ query: `DROP DATABASE IF EXISTS ${database}` });
        await client.close();
      }
    }, DROP_TIMEOUT_MS);

    const dataset = (): EventInput<'llm.consumption' | 'auth.login'>[] => {
      const random = seeded(42);
      const types = ['llm.consumption', 'auth.login'] as const;
      return Array.from({ length: 3000 }, (_, i) => {
        const type = types[i % 7 === 0 ? 1 : 0]!;
        return {
          type,
          time: NOW - Math.floor(random() * 3 * DAY),
          tenantId: `tenant-${Math.floor(random() * 12)}`,
          actor: { id: `user-${Math.floor(random() * 40)}` },
          ip: `198.51.100.${Math.floor(random() * 50)}`,
          message: `${type} ${i} ${random() < 0.1 ? 'Upstream ERROR 502' : 'ok'}`,
          ...(type === 'llm.consumption'
            ? {
                dimensions: { model_name: `model-${Math.floor(random() * 5)}`, channel: Math.floor(random() * 4) },
                metrics: { quota: Math.floor(random() * 1000), prompt_tokens: Math.floor(random() * 500), amount: random() },
              }
            : {}),
        };
      });
    };
    const strip = (events: StoredEvent[]) => events.map(({ id: _id, ...rest }) => rest);

    it('every read gives the same answer, and the rows really are spread by tenant', async () => {
      const single = createLog(createClickhouseStore({ url: main, database, tablePrefix: `single${n++}_` }));
      const store = distributed();
      const sharded = createLog(store);
      logs.push(single, sharded);
      const events = dataset();
      await Promise.all([single.recordMany(events), sharded.recordMany(events)]);
      for (let i = 0; i < 6; i++) {
        for (const log of [single, sharded])
          await log.sessions.open({ type: 'connection.open', sessionId: `s${i}`, tenantId: `tenant-${i}`, time: NOW - i * MINUTE });
      }
      for (const log of [single, sharded]) await log.sessions.close('s2', { type: 'connection.close' });

      const filters = [
        {},
        { tenantId: 'tenant-3' },
        { tenantId: ['tenant-1', 'tenant-7', 'tenant-11'] },
        { type: 'auth.login' as const, since: NOW - DAY },
        { search: 'error' },
        { dimensions: { model_name: 'model-2' }, metrics: { quota: { gte: 500 } } },
      ];
      const same = async <T>(read: (log: Log) => Promise<T>, label: string) => {
        const [a, b] = await Promise.all([read(single), read(sharded)]);
        expect(b, label).toEqual(a);
      };
      for (const filter of filters) {
        const label = JSON.stringify(filter);
        await same((l) => l.count(filter), `count ${label}`);
        await same(async (l) => strip((await l.query({ filter, page: 2, pageSize: 25 })).items), `page ${label}`);
        await same(async (l) => (await l.query({ filter, pageSize: 25 })).total, `total ${label}`);
        await same((l) => l.stats(filter), `stats ${label}`);
        await same(
          (l) => l.timeline({ filter: { ...filter, since: NOW - 3 * DAY, until: NOW + 1 }, bucket: 'hour', metrics: ['quota'] }),
          `timeline ${label}`,
        );
        await same(
          (l) => l.timeline({ filter: { ...filter, since: NOW - 3 * DAY, until: NOW + 1 }, bucket: 'day', timeZone: 'Europe/Berlin' }),
          `days ${label}`,
        );
        await same((l) => l.top({ by: 'model_name', filter, orderBy: 'quota' }), `top model ${label}`);
        await same((l) => l.top({ by: 'tenantId', filter, limit: 5 }), `top tenant ${label}`);
        await same((l) => l.top({ by: 'ip', filter, limit: 3 }), `top ip ${label}`);
        await same(async (l) => {
          const latest = await l.latest({ filter });
          return latest && { ...latest, id: 0 };
        }, `latest ${label}`);
        await same(async (l) => {
          let csv = '';
          for await (const chunk of l.exportCsv({ filter, batchSize: 400, columns: ['time', 'tenantId', 'message', 'quota'] }))
            csv += chunk;
          return csv;
        }, `export ${label}`);
      }
      await same(async (l) => {
        const seen: StoredEvent[] = [];
        let cursor: string | null = null;
        do {
          const page: { items: StoredEvent[]; nextCursor: string | null } = await l.query({
            filter: { tenantId: ['tenant-4', 'tenant-5'] },
            limit: 97,
            cursor,
          });
          seen.push(...page.items);
          cursor = page.nextCursor;
        } while (cursor);
        return strip(seen);
      }, 'cursor walk');
      await same(async (l) => (await l.sessions.list()).map((s) => [s.sessionId, s.startedAt, s.event.tenantId]), 'sessions');
      await same((l) => l.prune({ before: NOW - 2 * DAY - 5 * HOUR, pauseMs: 0 }), 'prune');
      await same((l) => l.count(), 'count after prune');

      // The rows are on both shards, and each tenant's rows on exactly one.
      const perShard: Map<string, number>[] = [];
      for (const url of SHARDS) {
        const client = createClient({ url });
        const rows = await (
          await client.query({
            query: `SELECT tenant_id AS t, count() AS n FROM ${database}.${store.tables.eventsStorage} GROUP BY t`,
            format: 'JSONEachRow',
          })
        ).json<{ t: string; n: string }>();
        perShard.push(new Map(rows.map((r) => [r.t, Number(r.n)])));
        await client.close();
      }
      expect(perShard.every((m) => m.size > 0)).toBe(true);
      const tenants = perShard.flatMap((m) => [...m.keys()]);
      expect(new Set(tenants).size).toBe(tenants.length);
      expect(perShard.reduce((sum, m) => sum + [...m.values()].reduce((a, b) => a + b, 0), 0)).toBe(await sharded.count());
    }, 240_000);
  });
} else {
  // A file must always register a suite: without one vitest fails it ("No test suite found").
  // Reached only off CI (under CI a missing server throws above), and skipped for the reason printed.
  describe.skipIf(Boolean(why))(`clickhouse two shards (not reachable: ${why})`, () => {
    it('needs two ClickHouse servers', () => {
      expect(why).toBeNull();
    });
  });
}
