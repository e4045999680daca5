import { createSqliteStore } from '@eventlog/adapters/sqlite';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { isEventLogError, type ValidationError } from '../errors.js';
import { createEventLog, type EventLog, type EventLogOptions } from '../event-log.js';
import { defineEventType } from './event-type.js';

const logs: EventLog[] = [];
afterEach(async () => {
  await Promise.all(logs.splice(0).map((l) => l.close()));
});

function open(options: Partial<EventLogOptions> = {}): EventLog {
  const log = createEventLog({ store: createSqliteStore(), dimensions: [{ name: 'model' }], ...options });
  logs.push(log);
  return log;
}

/** `levels` nested objects: `{ a: { a: … {} } }`. */
function nested(levels: number): Record<string, unknown> {
  let value: Record<string, unknown> = {};
  for (let i = 1; i < levels; i++) value = { a: value };
  return value;
}

async function rejection(promise: Promise<unknown>): Promise<ValidationError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isEventLogError(error, 'VALIDATION_FAILED'), String(error)).toBe(true);
  return error as ValidationError;
}

const depthPath = (prefix: (string | number)[], levels: number) => [...prefix, 'data', ...Array.from({ length: levels - 1 }, () => 'a')];

describe('payload limits', () => {
  it('rejects 10,000-deep nesting from record, recordMany and validate with the event index and path, without overflowing the stack', async () => {
    const log = open();
    const deep = nested(10_000);
    const single = await rejection(log.record({ type: 'a', data: deep }));
    expect(single.issues).toEqual([
      { path: depthPath([], 21), message: 'expected at most 20 levels of nested objects and arrays, received more' },
    ]);
    const many = await rejection(log.recordMany([{ type: 'a' }, { type: 'a', data: [deep] }]));
    expect(many.eventIndex).toBe(1);
    expect(many.issues[0]?.path.slice(0, 4)).toEqual(['events', 1, 'data', 0]);
    expect(log.validate([{ type: 'a', data: deep }])).toEqual([
      {
        index: 0,
        issues: [{ path: depthPath(['events', 0], 21), message: 'expected at most 20 levels of nested objects and arrays, received more' }],
      },
    ]);
    expect(await log.count()).toBe(0);
  });

  it('bounds the nesting before a recursive type schema walks it', async () => {
    type Tree = { children: Tree[] };
    const tree: z.ZodType<Tree> = z.lazy(() => z.object({ children: z.array(tree) }));
    const log = open({ types: [defineEventType('tree', tree)] });
    let value: Tree = { children: [] };
    for (let i = 0; i < 10_000; i++) value = { children: [value] };
    const error = await rejection(log.record({ type: 'tree', data: value }));
    expect(error.issues[0]?.message).toBe('expected at most 20 levels of nested objects and arrays, received more');
  });

  it('accepts exactly maxDataDepth levels and rejects one more, for objects and arrays', async () => {
    const log = open();
    const stored = await log.record({ type: 'a', data: nested(20) });
    expect(await log.get(stored.id)).toMatchObject({ data: nested(20) });
    await rejection(log.record({ type: 'a', data: nested(21) }));
    let arrays: unknown = [];
    for (let i = 1; i < 20; i++) arrays = [arrays];
    await expect(log.record({ type: 'a', data: arrays })).resolves.toBeDefined();
    await rejection(log.record({ type: 'a', data: [arrays] }));
  });

  it('takes the limits from the options, and refuses a depth no engine can store', async () => {
    const log = open({ limits: { maxDataDepth: 3, maxDataBytes: 20 } });
    await expect(log.record({ type: 'a', data: { b: { c: 1 } } })).resolves.toBeDefined();
    await expect(log.record({ type: 'a', data: { b: { c: [1] } } })).resolves.toBeDefined();
    await rejection(log.record({ type: 'a', data: { b: { c: [[1]] } } }));
    // {"s":"…"} is 8 bytes of JSON around the string: 12 characters make exactly 20 bytes.
    await expect(log.record({ type: 'a', data: { s: 'x'.repeat(12) } })).resolves.toBeDefined();
    const over = await rejection(log.record({ type: 'a', data: { s: 'x'.repeat(13) } }));
    expect(over.message).toBe('data: expected at most 20 bytes of JSON, received 21');
    // Size counts UTF-8 bytes: "é" is one UTF-16 unit but two bytes.
    expect((await rejection(log.record({ type: 'a', data: { s: 'é'.repeat(7) } }))).message).toBe(
      'data: expected at most 20 bytes of JSON, received 22',
    );
    expect(() => createEventLog({ store: createSqliteStore(), limits: { maxDataDepth: 31 } })).toThrow(
      /maxDataDepth must be a whole number from 1 to 30/,
    );
  });

  it('rejects an oversized string at the default limit of 64 KiB', async () => {
    const log = open();
    // {"s":"…"} around 65,528 characters is exactly 65,536 bytes.
    await expect(log.record({ type: 'a', data: { s: 'x'.repeat(65_528) } })).resolves.toBeDefined();
    const error = await rejection(log.record({ type: 'a', data: { s: 'x'.repeat(65_529) } }));
    expect(error.message).toBe('data: expected at most 65536 bytes of JSON, received 65537');
    await rejection(log.record({ type: 'a', data: 'x'.repeat(40 * 1024 * 1024) }));
  });

  it('rejects BigInt and circular values as validation errors', async () => {
    const log = open();
    const big = await rejection(log.record({ type: 'a', data: { list: [1, 2n] } }));
    expect(big.issues).toEqual([
      { path: ['data', 'list', 1], message: 'expected a JSON value, received bigint 2n (convert it to a number or a string)' },
    ]);
    const loop: Record<string, unknown> = { name: 'x', child: {} };
    (loop.child as Record<string, unknown>).parent = loop;
    const circular = await rejection(log.recordMany([{ type: 'a' }, { type: 'a', data: loop }]));
    expect(circular.eventIndex).toBe(1);
    expect(circular.issues).toEqual([
      { path: ['events', 1, 'data', 'child', 'parent'], message: 'expected a JSON value, received a circular reference to events[1].data' },
    ]);
    expect(log.validate([{ type: 'a', data: 5n }])[0]?.issues[0]?.path).toEqual(['events', 0, 'data']);
    expect(await log.count()).toBe(0);
  });

  it('counts nesting by structure, not by brackets and quotes inside strings', async () => {
    const log = open({ limits: { maxDataDepth: 2 } });
    const data = { s: '[[[[{{{{"\\', t: ['a"]]]]}}', '\\"[[[['], 'k[{': { '"{[': '\\' } };
    const stored = await log.record({ type: 'a', data });
    expect((await log.get(stored.id))?.data).toEqual(data);
    const deep = await rejection(log.record({ type: 'a', data: { s: '{{{{', t: [{ u: '}}}}' }] } }));
    expect(deep.issues).toEqual([
      { path: ['data', 't', 0], message: 'expected at most 2 levels of nested objects and arrays, received more' },
    ]);
    // A string ending in a backslash must not swallow the structure after it.
    const after = await rejection(log.record({ type: 'a', data: { a: 'x\\', b: [[1]] } }));
    expect(after.issues[0]?.path).toEqual(['data', 'b', 0]);
  });

  it('stores text that only looks like a surrogate escape unchanged', async () => {
    const log = open();
    // A backslash followed by "ud800" (six characters), not a lone surrogate.
    const data = { path: 'C:\\ud800\\x', list: ['\\udfff'] };
    const stored = await log.record({ type: 'a', data });
    expect(stored.data).toEqual(data);
    expect((await log.get(stored.id))?.data).toEqual(data);
  });

  it('reads only own keys of data, as JSON does: an inherited getter is never called', async () => {
    const log = open();
    let called = 0;
    const data = Object.create({
      get inherited() {
        called++;
        throw new Error('an inherited getter was read');
      },
    }) as Record<string, unknown>;
    data.own = 1;
    const event = await log.record({ type: 'x', data });
    expect(called).toBe(0);
    expect((await log.get(event.id))?.data).toEqual({ own: 1 });
  });

  it('accepts the same object reached twice (not a cycle), Dates and other toJSON values', async () => {
    const log = open();
    const shared = { n: 1 };
    const stored = await log.record({ type: 'a', data: { a: shared, b: [shared, shared], at: new Date(0) } });
    expect((await log.get(stored.id))?.data).toEqual({ a: { n: 1 }, b: [{ n: 1 }, { n: 1 }], at: '1970-01-01T00:00:00.000Z' });
  });
});

describe('keys and text that engines treat differently', () => {
  it('keeps __proto__, constructor and prototype keys in data exactly', async () => {
    const log = open();
    const data = JSON.parse('{"__proto__":{"polluted":true},"constructor":"c","prototype":{"x":1},"inner":{"__proto__":[1]}}');
    const stored = await log.record({ type: 'a', data });
    const read = (await log.get(stored.id))?.data as Record<string, unknown>;
    expect(Object.keys(read)).toEqual(['__proto__', 'constructor', 'prototype', 'inner']);
    expect(JSON.stringify(read)).toBe(JSON.stringify(data));
    expect(Object.getPrototypeOf(read)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('keeps __proto__ keys when lone surrogates force a repaired copy, and through a schema that passes data through', async () => {
    const log = open({ types: [defineEventType('any', z.any()), defineEventType('a', z.unknown())] });
    const data = JSON.parse('{"__proto__":{"bad":"\\ud800"},"constructor":"\\udc00x"}');
    const stored = await log.record({ type: 'a', data });
    expect(JSON.stringify(stored.data)).toBe('{"__proto__":{"bad":"\\ufffd"},"constructor":"\\ufffdx"}'.replace(/\\ufffd/g, '\uFFFD'));
    const read = (await log.get(stored.id))?.data as Record<string, unknown>;
    expect(Object.keys(read)).toEqual(['__proto__', 'constructor']);
    expect(Object.getOwnPropertyDescriptor(read, '__proto__')?.value).toEqual({ bad: '\uFFFD' });
    const viaSchema = await log.record({ type: 'any', data: JSON.parse('{"__proto__":1,"prototype":2}') });
    expect(Object.keys((await log.get(viaSchema.id))?.data as object)).toEqual(['__proto__', 'prototype']);
  });

  it('replaces every lone UTF-16 surrogate with U+FFFD in every text field, data values and data keys', async () => {
    const log = open();
    const stored = await log.record({
      type: 'a',
      message: 'a\uD800b\uDC00c😀',
      tenantId: 't\uDBFF',
      actor: { name: '\uDC00' },
      dimensions: { model: 'm\uD83D' },
      data: { 'k\uD800': ['v\uDFFF', '😀'] },
    });
    const read = await log.get(stored.id);
    expect(read?.message).toBe('a\uFFFDb\uFFFDc😀');
    expect(read?.tenantId).toBe('t\uFFFD');
    expect(read?.actor.name).toBe('\uFFFD');
    expect(read?.dimensions.model).toBe('m\uFFFD');
    expect(read?.data).toEqual({ 'k\uFFFD': ['v\uFFFD', '😀'] });
    // What record() resolves with is what was stored.
    expect(stored.message).toBe(read?.message);
    expect(stored.data).toEqual(read?.data);
  });
});
