import { createSqliteStore } from '@eventlog/adapters/sqlite';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { isEventLogError } from './errors.js';
import { createEventLog, type EventLog } from './event-log.js';
import { defineEventType } from './schema/event-type.js';
import { definePreset } from './schema/preset.js';

describe('createEventLog options', () => {
  it('needs a store', () => {
    expect(() => createEventLog({} as never)).toThrow(/needs a store/);
  });

  it('rejects conflicting declarations with a clear message', () => {
    const store = createSqliteStore();
    const a = defineEventType('x.y', z.object({}));
    const b = defineEventType('x.y', z.object({ other: z.string() }));
    expect(() => createEventLog({ store, types: [a, b] })).toThrow(/defined twice/);
    expect(() => createEventLog({ store, dimensions: [{ name: 'quota' }], metrics: [{ name: 'quota' }] })).toThrow(
      /both as a dimension and a metric/,
    );
    expect(() => createEventLog({ store, dimensions: [{ name: 'tenant_id' }] })).toThrow(/canonical field/);
    expect(() => createEventLog({ store, dimensions: [{ name: 'Bad Name' }] })).toThrow(/must match/);
    expect(() =>
      createEventLog({
        store,
        presets: [definePreset({ name: 'p', types: [], dimensions: [{ name: 'd', type: 'integer' }] })],
        dimensions: [{ name: 'd' }],
      }),
    ).toThrow(/declared as integer and as string/);
    expect(() => defineEventType('1bad', z.unknown())).toThrow(/must start with a letter/);
  });

  it('accepts any type without registered types, and only registered ones otherwise', async () => {
    const free = createEventLog({ store: createSqliteStore() });
    await free.record({ type: 'anything.goes' });
    expect(await free.count()).toBe(1);
    await free.close();

    const strict = createEventLog({ store: createSqliteStore(), types: [defineEventType('known', z.unknown())] });
    const error = await strict.record({ type: 'unknown' as 'known' }).catch((e: unknown) => e);
    expect(isEventLogError(error, 'VALIDATION_FAILED')).toBe(true);
    expect((error as Error).message).toBe('type: expected a registered event type (known), received "unknown"');
    await strict.close();
  });

  it('infers the payload type from the event type name', async () => {
    const door = defineEventType('access.door.unlock', z.object({ credential: z.enum(['NFC', 'PIN']) }));
    const log = createEventLog({ store: createSqliteStore(), presets: [definePreset({ name: 'access', types: [door] })] });
    const stored = await log.record({ type: 'access.door.unlock', data: { credential: 'NFC' } });
    const credential: 'NFC' | 'PIN' = stored.data.credential;
    expect(credential).toBe('NFC');
    // @ts-expect-error: the payload of this type has no "pin" field
    await log.record({ type: 'access.door.unlock', data: { pin: 1 } }).catch(() => undefined);
    await log.close();
  });

  it('validates events without storing them and refuses malformed type names', async () => {
    const log = createEventLog({ store: createSqliteStore() });
    const invalid = log.validate([{ type: 'ok.type' }, { type: '' }, { type: 'bad type!' }, { type: 'x', time: 'soon' }, 'nope']);
    expect(invalid.map((i) => i.index)).toEqual([1, 2, 3, 4]);
    expect(invalid[0]?.issues[0]?.path).toEqual(['events', 1, 'type']);
    const error = await log.record({ type: '' }).catch((e: unknown) => e);
    expect(isEventLogError(error, 'VALIDATION_FAILED')).toBe(true);
    expect(await log.count()).toBe(0);
    expect(log.now()).toBeGreaterThan(0);
    await log.close();
  });

  it('a log typed by presets is usable where a plain EventLog is expected', async () => {
    const door = defineEventType('access.door.unlock', z.object({ credential: z.string() }));
    const log = createEventLog({ store: createSqliteStore(), presets: [definePreset({ name: 'access', types: [door] })] });
    const count = async (plain: EventLog) => plain.count();
    expect(await count(log)).toBe(0);
    await log.close();
  });

  it('startMaintenance needs a retention policy and its timer does not hold the process', async () => {
    const log = createEventLog({ store: createSqliteStore() });
    expect(() => log.startMaintenance()).toThrow(/retention option/);
    await log.close();
    expect(() => createEventLog({ store: createSqliteStore(), retention: { maxAgeDays: 0 } })).toThrow(/maxAgeDays/);
  });

  it('emits recorded events to listeners and errors from subscribers as error events', async () => {
    const log = createEventLog({ store: createSqliteStore() });
    const recorded: number[] = [];
    const errors: unknown[] = [];
    log.on('recorded', (events) => recorded.push(events.length));
    log.on('error', (e) => errors.push(e));
    log.subscribe(undefined, () => {
      throw new Error('listener bug');
    });
    await log.recordMany([{ type: 'a' }, { type: 'b' }]);
    expect(recorded).toEqual([2]);
    expect(errors).toHaveLength(2);
    expect(await log.count()).toBe(2);
    await log.close();
  });

  it('wraps store failures on reads in a StoreError naming engine and operation', async () => {
    const store = createSqliteStore();
    const log = createEventLog({ store, closeStore: false });
    await log.ready();
    await store.close();
    const error = await log.count().catch((e: unknown) => e);
    expect(isEventLogError(error, 'STORE_FAILED')).toBe(true);
    expect((error as Error).message).toMatch(/^sqlite store failed during count/);
  });
});

describe('what record and recordMany return', () => {
  it('is the event as stored: data as the schema output it, the same as a later query', async () => {
    const order = defineEventType(
      'shop.order',
      z
        .object({ total: z.coerce.number(), note: z.string().default('none') })
        .transform((d) => ({ ...d, cents: Math.round(d.total * 100) })),
    );
    const log = createEventLog({ store: createSqliteStore(), types: [order] });
    const one = await log.record({ type: 'shop.order', tenantId: 7, data: { total: '1.5' } });
    expect(one.data).toEqual({ total: 1.5, note: 'none', cents: 150 });
    expect(one.tenantId).toBe('7');
    const many = await log.recordMany([
      { type: 'shop.order', data: { total: 2 } },
      { type: 'shop.order', time: new Date(5), data: { total: '3', note: 'gift' } },
    ]);
    expect(many.map((e) => e.data)).toEqual([
      { total: 2, note: 'none', cents: 200 },
      { total: 3, note: 'gift', cents: 300 },
    ]);
    expect(many[1]?.time).toBe(5);
    const stored = await log.query({ sort: { field: 'id', direction: 'asc' } });
    expect(stored.items).toEqual([one, ...many]);
    await log.close();
  });

  it("with { returning: 'ids' } is the stored ids in input order, and the same write (scoped, validated)", async () => {
    const log = createEventLog({ store: createSqliteStore() });
    await log.record({ type: 'a' });
    const ids = await log.recordMany([{ type: 'b', tenantId: 't1' }, { type: 'c' }], { returning: 'ids' });
    const stored = await log.query({ sort: { field: 'id', direction: 'asc' } });
    expect(ids).toEqual(stored.items.slice(1).map((e) => e.id));
    expect(stored.items.map((e) => [e.type, e.tenantId])).toEqual([
      ['a', null],
      ['b', 't1'],
      ['c', null],
    ]);
    const user = log.view({ principal: { role: 'user', id: 'u1' } });
    const userIds = await user.recordMany([{ type: 'd', tenantId: 'someone-else' }], { returning: 'ids' });
    expect((await log.get(userIds[0]!))?.tenantId).toBe('u1');
    const bad = await log.recordMany([{ type: 'e' }, { type: '' }], { returning: 'ids' }).catch((e: unknown) => e);
    expect(isEventLogError(bad, 'VALIDATION_FAILED')).toBe(true);
    expect(await log.count()).toBe(4);
    expect(await log.recordMany([], { returning: 'ids' })).toEqual([]);
    await log.close();
  });
});
