import { createEventLog, type EventInput, isEventLogError } from '@eventlog/core';
import { describe, expect } from 'vitest';
import type { SuiteContext } from '../context.js';
import { conformancePreset, NOW } from '../fixtures.js';

/** Migrations and writes through the core API: idempotent and additive migrations, every field stored and read back, batches, validation, back-pressure, closing. */
export function writesSuite(ctx: SuiteContext): void {
  const { test, setup, usage } = ctx;
  describe('migrations', () => {
    test('migrate is idempotent', async () => {
      const { log, store } = await setup();
      await store.migrate(log.registry.storeSchema);
      await store.migrate(log.registry.storeSchema);
      await log.record(usage(1));
      expect(await log.count()).toBe(1);
    });

    test('a later schema adds dimension and metric columns without losing rows', async () => {
      const { log, store } = await setup();
      await log.record(usage(1));
      const wider = createEventLog({
        store,
        presets: [conformancePreset],
        dimensions: [{ name: 'region', indexed: true }],
        metrics: [{ name: 'bytes' }],
        clock: () => NOW,
        closeStore: false,
      });
      await wider.ready();
      await wider.record({ ...usage(2), dimensions: { region: 'eu-west' }, metrics: { bytes: 4096 } });
      const page = await wider.query({ filter: { dimensions: { region: 'eu-west' } } });
      expect(page.total).toBe(1);
      expect(page.items[0]?.metrics.bytes).toBe(4096);
      expect(await wider.count()).toBe(2);
      await wider.close();
    });
  });

  describe('writes', () => {
    test('record stores every field and returns it as read back', async () => {
      const { log, store } = await setup();
      const input: EventInput = {
        type: 'llm.consumption',
        time: NOW - 1234,
        category: 'consumption',
        action: 'chat.completions',
        outcome: 'success',
        severity: 'notice',
        message: 'Ünïcödé "quotes", commas, \\backslash\\, tab\tand\nnewline — 日本語 🚀',
        actor: { id: 42, type: 'user', name: "O'Brien" },
        target: { type: 'token', id: 'tok-1', name: 'my token' },
        tenantId: 7,
        ip: '2001:db8:85a3::8a2e:370:7334',
        userAgent: 'curl/8.5.0',
        sessionId: 'sess-1',
        durationMs: 1532.5,
        dimensions: { model_name: 'gpt-4', token_name: 'api_token', channel: 2 },
        metrics: { quota: 2 ** 40, prompt_tokens: 50, completion_tokens: 100, amount: 0.125 },
        data: { other: { model_ratio: 15, nested: { list: [1, 'two', null] } } },
      };
      const stored = await log.record(input);
      const [read] = (await log.query({ pageSize: 1 })).items;
      expect(read).toBeDefined();
      if (store.capabilities.returnsIds) {
        expect(stored.id).toBeGreaterThan(0);
        expect(read?.id).toBe(stored.id);
      }
      expect({ ...read, id: 0 }).toEqual({ ...stored, id: 0 });
      expect(read).toMatchObject({
        time: NOW - 1234,
        actor: { id: '42', type: 'user', name: "O'Brien" },
        tenantId: '7',
        message: input.message,
        durationMs: 1532.5,
        dimensions: { model_name: 'gpt-4', token_name: 'api_token', channel: 2 },
        metrics: { quota: 2 ** 40, prompt_tokens: 50, completion_tokens: 100, amount: 0.125 },
        data: { other: { model_ratio: 15, nested: { list: [1, 'two', null] } } },
      });
      expect(typeof read?.id).toBe('number');
      expect(typeof read?.time).toBe('number');
      expect(typeof read?.metrics.quota).toBe('number');
      expect(typeof read?.dimensions.channel).toBe('number');
    });

    test('unset fields read back as null and defaults come from the event type', async () => {
      const { log } = await setup();
      await log.record({ type: 'auth.login' });
      const [read] = (await log.query()).items;
      expect(read).toMatchObject({
        type: 'auth.login',
        category: 'login',
        severity: 'info',
        action: null,
        message: null,
        actor: { id: null, type: null, name: null },
        tenantId: null,
        dimensions: { model_name: null, channel: null },
        metrics: { quota: null },
        time: NOW,
      });
    });

    test('recordMany stores a batch larger than one statement, in order, with unique ids', async () => {
      const { log, store } = await setup();
      const events = Array.from({ length: 5000 }, (_, i) => usage(i % 600, { message: `row ${i}` }));
      const stored = await log.recordMany(events);
      expect(stored).toHaveLength(5000);
      expect(await log.count()).toBe(5000);
      if (store.capabilities.returnsIds) {
        const ids = stored.map((e) => e.id);
        expect(new Set(ids).size).toBe(5000);
        expect(ids).toEqual([...ids].sort((a, b) => a - b));
      }
    });

    test('recordMany with one invalid event stores nothing and names the event and field', async () => {
      const { log } = await setup();
      const events = [usage(1), usage(2), { ...usage(3), metrics: { quota: 'lots' as unknown as number } }, usage(4)];
      const error = await log.recordMany(events).catch((e: unknown) => e);
      expect(isEventLogError(error, 'VALIDATION_FAILED')).toBe(true);
      expect((error as { eventIndex: number }).eventIndex).toBe(2);
      expect((error as Error).message).toBe('events[2].metrics.quota: expected a number, received string');
      expect(await log.count()).toBe(0);
    });

    test('invalid events are rejected with a ValidationError and nothing is stored', async () => {
      const { log } = await setup();
      const bad: unknown[] = [
        { type: 'no.such.type' },
        { type: 'stream.state', data: { bitrate: 4500 } },
        { type: 'llm.consumption', time: 'yesterday' },
        { type: 'llm.consumption', dimensions: { unknown_dimension: 'x' } },
        { type: 'llm.consumption', tenantId: 'x'.repeat(200) },
        { type: 'llm.consumption', metrics: { quota: 1.5 } },
        { type: 'llm.consumption', metrics: { amount: Number.NaN } },
        { type: 'llm.consumption', extra: true },
        null,
      ];
      for (const event of bad) {
        const error = await log.record(event as EventInput).catch((e: unknown) => e);
        expect(isEventLogError(error, 'VALIDATION_FAILED'), JSON.stringify(event)).toBe(true);
      }
      expect(await log.count()).toBe(0);
    });

    test('concurrent record calls are grouped into few inserts and all resolve stored', async () => {
      const { log } = await setup();
      let inserts = 0;
      log.on('flushed', () => {
        inserts++;
      });
      const stored = await Promise.all(Array.from({ length: 500 }, (_, i) => log.record(usage(i))));
      expect(stored).toHaveLength(500);
      expect(await log.count()).toBe(500);
      expect(inserts).toBeLessThan(10);
    });

    test('back-pressure bounds pending writes and still stores everything', async () => {
      const { log } = await setup({ buffer: { maxPending: 50, maxBatchSize: 20 } });
      const results = await Promise.all(Array.from({ length: 400 }, (_, i) => log.record(usage(i))));
      expect(results).toHaveLength(400);
      expect(await log.count()).toBe(400);
    });

    test('a closed log rejects writes', async () => {
      const { log } = await setup({ closeStore: false });
      await log.close();
      const error = await log.record(usage(1)).catch((e: unknown) => e);
      expect(isEventLogError(error, 'CLOSED')).toBe(true);
    });

    test('close drains buffered writes', async () => {
      const { log, store } = await setup({ closeStore: false, buffer: { lingerMs: 10_000 } });
      const pending = Array.from({ length: 30 }, (_, i) => log.record(usage(i)));
      await log.close();
      await Promise.all(pending);
      const check = createEventLog({ store, presets: [conformancePreset], clock: () => NOW });
      ctx.track(check);
      expect(await check.count()).toBe(30);
    });
  });
}
