import { createSqliteStore } from '@eventlog/adapters/sqlite';
import { afterEach, describe, expect, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { dynamic } from './dynamic.js';
import { isEventLogError } from './errors.js';
import { createEventLog } from './event-log.js';
import type { StoredEvent } from './schema/event.js';
import { defineEventType } from './schema/event-type.js';
import { definePreset } from './schema/preset.js';
import type { EventLog, EventLogReader } from './types.js';

// These tests are checked twice: by `tsc` (the `expectTypeOf` and `@ts-expect-error` lines fail the
// typecheck when the typing regresses) and by vitest against a real SQLite store (the same calls
// behave as the types promise).

const NOW = Date.UTC(2026, 2, 29, 12, 0, 0);

const consumption = defineEventType('llm.consumption', z.object({ model: z.string(), tokens: z.number().int() }));
const failure = defineEventType('llm.error', z.object({ code: z.number(), at: z.string().transform((s) => new Date(s)) }));
const gateway = definePreset({
  name: 'gateway',
  types: [consumption, failure],
  dimensions: [
    { name: 'model_name', indexed: true },
    { name: 'channel_id', type: 'integer' },
  ],
  metrics: [{ name: 'quota' }, { name: 'prompt_tokens', tokens: true }],
});

type Consumption = StoredEvent<'llm.consumption', { model: string; tokens: number }>;
// Reads return `data` as stored, as JSON: the Date the schema's transform made comes back as its ISO string.
type Failure = StoredEvent<'llm.error', { code: number; at: string }>;

const logs: EventLog[] = [];
afterEach(async () => {
  await Promise.all(logs.splice(0).map((log) => log.close()));
});

async function seeded() {
  const log = createEventLog({ store: createSqliteStore(), clock: () => NOW, presets: [gateway] });
  logs.push(log);
  await log.record({
    type: 'llm.consumption',
    time: NOW - 1000,
    dimensions: { model_name: 'gpt-4o', channel_id: 3 },
    metrics: { quota: 10, prompt_tokens: 7 },
    data: { model: 'gpt-4o', tokens: 7 },
  });
  const recorded = await log.record({
    type: 'llm.error',
    time: NOW - 500,
    dimensions: { model_name: 'gpt-4o' },
    data: { code: 429, at: '2026-03-29T11:59:59Z' },
  });
  // record() hands back the validated payload itself, before any JSON round trip.
  expectTypeOf(recorded.data.at).toEqualTypeOf<Date>();
  expect(recorded.data.at).toBeInstanceOf(Date);
  return log;
}

describe('typed reads: data narrows by the type filter', () => {
  it('query on one type returns that payload', async () => {
    const log = await seeded();
    const page = await log.query({ filter: { type: 'llm.consumption' } });
    expectTypeOf(page.items).toEqualTypeOf<Consumption[]>();
    expect(page.items.map((e) => e.data.tokens)).toEqual([7]);
  });

  it('a list of types narrows to the union, and the union discriminates on type', async () => {
    const log = await seeded();
    const page = await log.query({ filter: { type: ['llm.consumption', 'llm.error'] }, sort: { field: 'time', direction: 'asc' } });
    expectTypeOf(page.items).toEqualTypeOf<(Consumption | Failure)[]>();
    const [first, second] = page.items;
    if (first?.type !== 'llm.consumption' || second?.type !== 'llm.error') throw new Error('expected both events in time order');
    expectTypeOf(first.data).toEqualTypeOf<{ model: string; tokens: number }>();
    expectTypeOf(second.data.at).toEqualTypeOf<string>();
    expect(first.data.model).toBe('gpt-4o');
    expect(second.data.at).toBe('2026-03-29T11:59:59.000Z');
  });

  it('no type filter gives the union of every registered payload, on every paging kind', async () => {
    const log = await seeded();
    expectTypeOf((await log.query()).items).toEqualTypeOf<(Consumption | Failure)[]>();
    const cursor = await log.query({ limit: 1 });
    expectTypeOf(cursor.items).toEqualTypeOf<(Consumption | Failure)[]>();
    expectTypeOf(cursor.nextCursor).toEqualTypeOf<string | null>();
    const window = await log.query({ offset: 0, limit: 5, filter: { type: 'llm.error' } });
    expectTypeOf(window.items).toEqualTypeOf<Failure[]>();
    expect(window.total).toBe(1);
    expect(cursor.items).toHaveLength(1);
  });

  it('get, latest, subscribe and views keep the typing', async () => {
    const log = await seeded();
    const one = await log.get(1);
    expectTypeOf(one).toEqualTypeOf<Consumption | Failure | null>();
    expect(one?.type).toBe('llm.consumption');

    const latest = await log.latest({ type: 'llm.error' });
    expectTypeOf(latest).toEqualTypeOf<Failure | null>();
    expect(latest?.data.code).toBe(429);

    const seen: number[] = [];
    const stop = log.subscribe({ type: 'llm.consumption' }, (event) => {
      expectTypeOf(event).toEqualTypeOf<Consumption>();
      seen.push(event.data.tokens);
    });
    await log.record({ type: 'llm.consumption', data: { model: 'o3', tokens: 11 } });
    stop();
    expect(seen).toEqual([11]);

    const view = log.view({ principal: { role: 'admin' } });
    const page = await view.query({ filter: { type: 'llm.consumption' }, sort: { field: 'quota' } });
    expectTypeOf(page.items).toEqualTypeOf<Consumption[]>();
    expect(page.total).toBe(2);
    // @ts-expect-error: the view checks dimension names like the log.
    await expect(view.count({ dimensions: { model: 'x' } })).rejects.toSatisfy((e) => isEventLogError(e, 'VALIDATION_FAILED'));
  });

  it('a log whose types carry no presets reads unknown data', async () => {
    const log = createEventLog({ store: createSqliteStore(), clock: () => NOW });
    logs.push(log);
    await log.record({ type: 'anything', data: { free: true } });
    const page = await log.query({ filter: { type: 'anything' } });
    expectTypeOf(page.items).toEqualTypeOf<StoredEvent<string, unknown>[]>();
    expect(page.items[0]?.data).toEqual({ free: true });
  });
});

describe('typed reads: names are checked at compile time', () => {
  it('rejects misspelt dimensions, metrics, sort fields and top() names', async () => {
    const log = await seeded();
    const validation = (e: unknown) => isEventLogError(e, 'VALIDATION_FAILED');
    // Each line below is a compile error, and the run-time check rejects the same call.
    // @ts-expect-error: `model` is not a declared dimension (`model_name` is).
    await expect(log.query({ filter: { dimensions: { model: 'gpt-4o' } } })).rejects.toSatisfy(validation);
    // @ts-expect-error: `quotas` is not a declared metric.
    await expect(log.count({ metrics: { quotas: { gte: 1 } } })).rejects.toSatisfy(validation);
    // @ts-expect-error: `tokens` is neither a sortable field nor a dimension or metric.
    await expect(log.query({ sort: { field: 'tokens' } })).rejects.toSatisfy(validation);
    // @ts-expect-error: `model` is not a field or dimension.
    await expect(log.top({ by: 'model' })).rejects.toSatisfy(validation);
    // @ts-expect-error: `quotas` is not a metric.
    await expect(log.top({ by: 'model_name', orderBy: 'quotas' })).rejects.toSatisfy(validation);
    // @ts-expect-error: `quotas` is not a metric.
    await expect(log.timeline({ metrics: ['quotas'] })).rejects.toSatisfy(validation);
    // @ts-expect-error: `llm.consumed` is not a registered type.
    await expect(log.query({ filter: { type: 'llm.consumed' } })).resolves.toMatchObject({ total: 0 });
    // @ts-expect-error: `modelname` is not an export column.
    expect(() => log.exportCsv({ columns: ['id', 'modelname'] })).toThrow();
  });

  it('accepts canonical fields, declared names and run-time names through dynamic()', async () => {
    const log = await seeded();
    const page = await log.query({
      filter: { dimensions: { model_name: 'gpt-4o', channel_id: 3 }, metrics: { quota: { gte: 1 } }, search: 'consumption' },
      sort: { field: 'channel_id', direction: 'asc' },
    });
    expect(page.total).toBe(1);
    const top = await log.top({ by: 'model_name', orderBy: 'quota' });
    expect(top).toEqual([{ value: 'gpt-4o', count: 2, sums: { quota: 10, prompt_tokens: 7 } }]);
    expect((await log.top({ by: 'ip' })).length).toBe(0);
    const timeline = await log.timeline({ metrics: ['quota', 'prompt_tokens'], bucket: 'hour', filter: { since: NOW - 3_600_000 } });
    expect(timeline.points.reduce((n, p) => n + p.count, 0)).toBe(2);

    // Names known only at run time: dynamic() opts out of the compile-time check, not the run-time one.
    const fromRequest: string = ['model_name'][0] ?? '';
    expect(await log.top({ by: dynamic(fromRequest), orderBy: dynamic('quota') })).toEqual(top);
    expect((await log.query({ sort: { field: dynamic(fromRequest) }, filter: { dimensions: { [fromRequest]: 'gpt-4o' } } })).total).toBe(2);
    expect((await log.timeline({ metrics: [dynamic('quota')] })).points.length).toBeGreaterThan(0);
    await expect(log.top({ by: dynamic('nope') })).rejects.toSatisfy((e) => isEventLogError(e, 'VALIDATION_FAILED'));

    let csv = '';
    for await (const chunk of log.exportCsv({
      columns: ['id', 'type', 'model_name', 'quota', 'data', dynamic('channel_id')],
      order: 'asc',
    }))
      csv += chunk;
    expect(csv.split('\r\n')[0]).toBe('id,type,model_name,quota,data,channel_id');
  });

  it('a plain EventLog or EventLogReader (as the http package uses) accepts any name and holds a typed log', async () => {
    const typed = await seeded();
    const plain: EventLog = typed;
    const reader: EventLogReader = typed.view();
    expectTypeOf((await plain.query({ filter: { type: 'whatever' } })).items).toEqualTypeOf<StoredEvent[]>();
    await expect(plain.top({ by: 'not_declared' })).rejects.toSatisfy((e) => isEventLogError(e, 'VALIDATION_FAILED'));
    expect(await reader.count({ dimensions: { model_name: 'gpt-4o' }, type: ['llm.error'] })).toBe(1);
  });

  it('a log without presets accepts any name, as before', async () => {
    const log = createEventLog({
      store: createSqliteStore(),
      clock: () => NOW,
      dimensions: [{ name: 'host' }],
      metrics: [{ name: 'bytes' }],
    });
    logs.push(log);
    await log.record({ type: 'proxy.request', dimensions: { host: 'a.example' }, metrics: { bytes: 5 } });
    const anyName: string = 'host';
    expect((await log.top({ by: anyName, orderBy: 'bytes' }))[0]?.sums).toEqual({ bytes: 5 });
    expect(await log.count({ dimensions: { [anyName]: 'a.example' } })).toBe(1);
  });

  it('extra dimensions and metrics given beside presets are accepted too', async () => {
    const log = createEventLog({
      store: createSqliteStore(),
      clock: () => NOW,
      presets: [gateway],
      dimensions: [{ name: 'region' }],
      metrics: [{ name: 'cost_cents' }],
    });
    logs.push(log);
    await log.record({
      type: 'llm.consumption',
      dimensions: { region: 'eu' },
      metrics: { cost_cents: 3 },
      data: { model: 'm', tokens: 1 },
    });
    expect(await log.count({ dimensions: { region: 'eu', model_name: ['a', 'b'] } })).toBe(0);
    expect(await log.count({ dimensions: { region: 'eu' }, metrics: { cost_cents: { gte: 3 } } })).toBe(1);
    expect((await log.top({ by: 'region', orderBy: 'cost_cents' }))[0]).toMatchObject({ value: 'eu', count: 1 });
    // @ts-expect-error: `regions` is declared nowhere.
    await expect(log.top({ by: 'regions' })).rejects.toSatisfy((e) => isEventLogError(e, 'VALIDATION_FAILED'));
  });
});
