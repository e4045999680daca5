import { createEventLog, type StorageAdapter } from '@eventlog/core';
import { describe, expect } from 'vitest';
import type { ConformanceHooks } from '../conformance.js';
import type { SuiteContext } from '../context.js';
import { recordWhileKilling } from '../faults.js';
import { conformancePreset, NOW } from '../fixtures.js';

/**
 * The contract rules that need more than one store, a host's client, a damaged schema or killed
 * connections; each runs only when the store's test file gives its hook (the suite's first test
 * checks that every missing hook is named with a reason).
 */
export function hooksSuite(ctx: SuiteContext, hooks: ConformanceHooks): void {
  const { test, setup, usage } = ctx;
  /** The core's table layout, without migrating anything. */
  const schemaOf = (store: StorageAdapter) => createEventLog({ store, presets: [conformancePreset] }).registry.storeSchema;

  const { openSecondStore, hostClient, structure, killConnections } = hooks;
  if (!openSecondStore && !hostClient && !structure && !killConnections) return;
  describe('hooks', () => {
    if (openSecondStore) {
      const second = async (store: StorageAdapter) => {
        const other = await openSecondStore(store);
        ctx.track(other);
        return other;
      };

      test('several stores migrating the same tables at once all succeed, and share the rows', async () => {
        const first = await ctx.freshStore();
        const [b, c] = [await second(first), await second(first)];
        const schema = schemaOf(first);
        await Promise.all([first.migrate(schema), b.migrate(schema), c.migrate(schema), first.migrate(schema)]);
        if (structure) {
          for (const spec of schema.indexes) expect(await structure.indexColumns(first, spec.name), spec.name).toEqual(spec.columns);
        }
        const writer = createEventLog({ store: b, presets: [conformancePreset], clock: () => NOW, closeStore: false });
        const reader = createEventLog({ store: c, presets: [conformancePreset], clock: () => NOW, closeStore: false });
        await writer.record(usage(1));
        expect(await reader.count()).toBe(1);
        await Promise.all([writer.close(), reader.close()]);
      });

      test('tryLock excludes a second store until released; releasing twice is harmless', async () => {
        const { store } = await setup();
        const other = await second(store);
        await other.migrate(schemaOf(other));
        const held = await store.tryLock('retention', 60_000);
        expect(held).not.toBeNull();
        expect(await store.tryLock('retention', 60_000)).toBeNull();
        // Only a cross-process lock is promised to exclude another process.
        if (store.capabilities.crossProcessLock) expect(await other.tryLock('retention', 60_000)).toBeNull();
        const unrelated = await other.tryLock(`another-${'x'.repeat(80)}`, 60_000);
        expect(unrelated).not.toBeNull();
        await held?.();
        await held?.();
        const again = await other.tryLock('retention', 60_000);
        expect(again).not.toBeNull();
        expect(await store.tryLock('retention', 60_000)).toBeNull();
        await again?.();
        await unrelated?.();
      });

      test('a session closed through two stores at once is returned once', async () => {
        const { log, store } = await setup();
        const other = await second(store);
        await other.migrate(schemaOf(other));
        await log.sessions.open({ type: 'connection.open', sessionId: 'both', tenantId: 't' });
        const results = await Promise.all([store.closeSession('both'), other.closeSession('both'), store.closeSession('both')]);
        expect(results.filter((r) => r !== null)).toHaveLength(1);
      });
    }

    if (hostClient) {
      test('close() never closes a client the host passed in', async () => {
        const host = await hostClient();
        try {
          const log = createEventLog({ store: host.store, presets: [conformancePreset] });
          await log.record({ type: 'auth.login' });
          expect(await log.count()).toBe(1);
          await log.close();
          await host.store.close();
          expect(await host.isOpen()).toBe(true);
        } finally {
          await host.release();
        }
      });
    }

    if (structure) {
      test('migrate rebuilds an index whose columns are out of order and re-adds a dropped column', async () => {
        const { log, store } = await setup();
        await log.record(usage(1));
        const schema = log.registry.storeSchema;
        const spec = schema.indexes.find((i) => i.columns.length >= 3) ?? schema.indexes[0];
        if (!spec) throw new Error('The core schema has no index to damage.');
        const shuffled = [...spec.columns.slice(1), spec.columns[0] as string];
        await structure.replaceIndex(store, spec.name, shuffled);
        expect(await structure.indexColumns(store, spec.name)).toEqual(shuffled);
        await structure.dropColumn(store, 'token_name');
        await store.migrate(schema);
        expect(await structure.indexColumns(store, spec.name)).toEqual(spec.columns);
        const again = createEventLog({ store, presets: [conformancePreset], clock: () => NOW, closeStore: false });
        await again.record(usage(2, { dimensions: { token_name: 'back' } }));
        expect(await again.count({ dimensions: { token_name: 'back' } })).toBe(1);
        expect(await again.count()).toBe(2);
        await again.close();
      });
    }

    if (killConnections) {
      test('every acknowledged event survives connections killed mid-ingest, stored once', async () => {
        const { log, store } = await setup({ buffer: { maxBatchSize: 200, retries: 10, retryDelayMs: 10, maxRetryDelayMs: 200 } });
        const report = await recordWhileKilling(log, store, () => killConnections(store));
        expect(report.killed).toBeGreaterThan(0);
        expect(report.failedInserts).toBeGreaterThan(0);
      }, 120_000);

      test('a read right after its pooled connections were killed is answered, not failed', async () => {
        const { log, store } = await setup();
        await log.record(usage(1));
        await log.flush();
        let killed = 0;
        for (let round = 0; round < 20; round++) {
          // Several reads at once hold several pooled connections, so every round kills idle ones.
          await Promise.all([log.count(), log.query({ pageSize: 5 }), log.get(1)]);
          killed += await killConnections(store);
          // Sent before the pool can notice the connections are gone.
          const [count, page] = await Promise.all([log.count(), log.query({ pageSize: 5 })]);
          expect(count).toBe(1);
          expect(page.items).toHaveLength(1);
        }
        expect(killed).toBeGreaterThan(0);
      }, 60_000);
    }
  });
}
