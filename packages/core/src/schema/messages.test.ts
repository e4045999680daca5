import { createSqliteStore } from '@eventlog/adapters/sqlite';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { isEventLogError, type ValidationError } from '../errors.js';
import { createEventLog, type EventLog } from '../event-log.js';
import { defineEventType } from './event-type.js';

// Every validation message names the field, what was expected and what was received, once. This
// table pins the exact text a user sees for each kind of bad input.

const order = defineEventType(
  'shop.order',
  z.object({ items: z.array(z.object({ sku: z.string(), qty: z.number().int().positive() })), note: z.string().max(10).optional() }),
);
const tick = defineEventType('app.tick', z.unknown());
const log: EventLog = createEventLog({
  store: createSqliteStore(),
  types: [order, tick],
  dimensions: [{ name: 'model' }, { name: 'channel', type: 'integer' }],
  metrics: [{ name: 'tokens' }, { name: 'cost', type: 'float' }],
});
afterAll(() => log.close());

const EVENT_FIELDS = 'type, time, category, action, outcome, severity, actorId, actorType, actorName, targetType, targetId, targetName, …';

const records: [string, unknown, string][] = [
  ['type as a number', { type: 5 }, 'type: expected a string, received number'],
  ['no type', { message: 'x' }, 'type: expected a string, received undefined'],
  [
    'type with a space',
    { type: 'a b' },
    'type: expected an event type name (a letter, then letters, digits, "_", ".", ":" or "-", at most 128 characters), received "a b"',
  ],
  ['unregistered type', { type: 'nope' }, 'type: expected a registered event type (shop.order, app.tick), received "nope"'],
  [
    'time as words',
    { type: 'app.tick', time: 'yesterday' },
    'time: expected epoch milliseconds, a Date or an ISO 8601 string, received "yesterday"',
  ],
  [
    'local time without a zone',
    { type: 'app.tick', time: '2024-01-01T10:00' },
    'time: expected epoch milliseconds, a Date or an ISO 8601 string, received "2024-01-01T10:00"',
  ],
  ['time as a boolean', { type: 'app.tick', time: true }, 'time: expected epoch milliseconds, a Date or an ISO 8601 string, received true'],
  ['time NaN', { type: 'app.tick', time: Number.NaN }, 'time: expected epoch milliseconds, a Date or an ISO 8601 string, received NaN'],
  [
    'time Infinity',
    { type: 'app.tick', time: Number.POSITIVE_INFINITY },
    'time: expected epoch milliseconds, a Date or an ISO 8601 string, received Infinity',
  ],
  [
    'invalid Date',
    { type: 'app.tick', time: new Date(Number.NaN) },
    'time: expected epoch milliseconds, a Date or an ISO 8601 string, received an invalid Date',
  ],
  ['time before 1970', { type: 'app.tick', time: -1 }, 'time: expected a time between 1970 and 9999, received -1'],
  [
    'time after 9999',
    { type: 'app.tick', time: Date.UTC(10000, 0, 1) },
    'time: expected a time between 1970 and 9999, received 253402300800000',
  ],
  ['object as tenantId', { type: 'app.tick', tenantId: {} }, 'tenantId: expected a string or a number, received object'],
  ['boolean as tenantId', { type: 'app.tick', tenantId: true }, 'tenantId: expected a string or a number, received boolean'],
  ['NaN as tenantId', { type: 'app.tick', tenantId: Number.NaN }, 'tenantId: expected a string or a number, received NaN'],
  ['severity too long', { type: 'app.tick', severity: 'x'.repeat(17) }, 'severity: expected at most 16 characters, received 17'],
  ['message as a number', { type: 'app.tick', message: 5 }, 'message: expected a string, received number'],
  ['message too long', { type: 'app.tick', message: 'x'.repeat(65_537) }, 'message: expected at most 65536 characters, received 65537'],
  ['actor as an array', { type: 'app.tick', actor: [] }, 'actor: expected an object, received array'],
  [
    'unknown actor field',
    { type: 'app.tick', actor: { id: 1, role: 'x' } },
    'actor: expected only known fields (id, type, name), received unknown field "role"',
  ],
  ['target as a string', { type: 'app.tick', target: 'x' }, 'target: expected an object, received string'],
  [
    'unknown event field',
    { type: 'app.tick', colour: 'red' },
    `expected only known fields (${EVENT_FIELDS}), received unknown field "colour"`,
  ],
  [
    'two unknown event fields',
    { type: 'app.tick', colour: 'red', size: 1 },
    `expected only known fields (${EVENT_FIELDS}), received unknown fields "colour", "size"`,
  ],
  ['negative duration', { type: 'app.tick', durationMs: -1 }, 'durationMs: expected at least 0, received -1'],
  ['duration as a string', { type: 'app.tick', durationMs: '5' }, 'durationMs: expected a number, received string'],
  [
    'undeclared dimension',
    { type: 'app.tick', dimensions: { other: 'x' } },
    'dimensions: expected only declared dimensions (model, channel), received unknown field "other"',
  ],
  [
    'boolean dimension',
    { type: 'app.tick', dimensions: { model: true } },
    'dimensions.model: expected a string or a number, received boolean',
  ],
  [
    'dimension too long',
    { type: 'app.tick', dimensions: { model: 'x'.repeat(256) } },
    'dimensions.model: expected at most 255 characters, received 256',
  ],
  [
    'fraction for an integer dimension',
    { type: 'app.tick', dimensions: { channel: 1.5 } },
    'dimensions.channel: expected an integer, received 1.5',
  ],
  [
    'unsafe integer dimension (reported once)',
    { type: 'app.tick', dimensions: { channel: 2 ** 53 } },
    'dimensions.channel: expected at most 9007199254740991, received 9007199254740992',
  ],
  [
    'string for an integer dimension',
    { type: 'app.tick', dimensions: { channel: '3' } },
    'dimensions.channel: expected a number, received string',
  ],
  ['dimensions null', { type: 'app.tick', dimensions: null }, 'dimensions: expected an object, received null'],
  ['fraction for an integer metric', { type: 'app.tick', metrics: { tokens: 0.5 } }, 'metrics.tokens: expected an integer, received 0.5'],
  [
    'infinite metric',
    { type: 'app.tick', metrics: { cost: Number.POSITIVE_INFINITY } },
    'metrics.cost: expected a number, received Infinity',
  ],
  ['string metric', { type: 'app.tick', metrics: { cost: '1' } }, 'metrics.cost: expected a number, received string'],
  [
    'undeclared metric',
    { type: 'app.tick', metrics: { bytes: 1 } },
    'metrics: expected only declared metrics (tokens, cost), received unknown field "bytes"',
  ],
  [
    'payload against its schema',
    { type: 'shop.order', data: { items: [{ sku: 1, qty: 0 }] } },
    'data.items[0].sku: expected a string, received number; data.items[0].qty: expected more than 0, received 0',
  ],
  ['missing payload', { type: 'shop.order' }, 'data: expected an object, received undefined'],
  [
    'payload string too long',
    { type: 'shop.order', data: { items: [], note: 'x'.repeat(11) } },
    'data.note: expected at most 10 characters, received 11',
  ],
  [
    'BigInt in the payload',
    { type: 'app.tick', data: { n: 10n } },
    'data.n: expected a JSON value, received bigint 10n (convert it to a number or a string)',
  ],
  [
    'payload too large',
    { type: 'app.tick', data: { s: 'x'.repeat(70_000) } },
    'data: expected at most 65536 bytes of JSON, received 70008',
  ],
  ['null instead of an event', null, 'expected an object, received null'],
  ['array instead of an event', [{ type: 'a' }], 'expected an object, received array'],
  ['string instead of an event', 'app.tick', 'expected an object, received string'],
];

const filters: [string, unknown, string][] = [
  [
    'since as words',
    { since: 'yesterday' },
    'filter.since: expected epoch milliseconds, a Date or an ISO 8601 string, received "yesterday"',
  ],
  [
    'undeclared dimension',
    { dimensions: { nope: 'x' } },
    'filter.dimensions.nope: expected a declared dimension (model, channel), received "nope"',
  ],
  [
    'undeclared metric',
    { metrics: { nope: { gte: 1 } } },
    'filter.metrics.nope: expected a declared metric (tokens, cost), received "nope"',
  ],
  ['object as tenantId', { tenantId: {} }, 'filter.tenantId: expected a string, a number or an array, received object'],
  ['too many values', { tenantId: Array.from({ length: 501 }, () => 'a') }, 'filter.tenantId: expected at most 500 items, received 501'],
  ['search too long', { search: 'x'.repeat(201) }, 'filter.search: expected at most 200 characters, received 201'],
  ['range bound as a string', { durationMs: { gte: 'a' } }, 'filter.durationMs.gte: expected a number, received string'],
];

async function messageOf(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isEventLogError(error, 'VALIDATION_FAILED'), 'a ValidationError').toBe(true);
  return (error as ValidationError).message;
}

describe('validation messages', () => {
  it('pins at least 30 bad events to their messages', () => {
    expect(records.length).toBeGreaterThanOrEqual(30);
  });

  it.each(records)('record(): %s', async (_name, input, message) => {
    expect(await messageOf(log.record(input as never))).toBe(message);
  });

  it.each(filters)('query() filter: %s', async (_name, filter, message) => {
    expect(await messageOf(log.query({ filter: filter as never }))).toBe(message);
  });

  it('names the event index in recordMany() and validate()', async () => {
    expect(await messageOf(log.recordMany([{ type: 'app.tick' }, { type: 5 } as never]))).toBe(
      'events[1].type: expected a string, received number',
    );
    expect(log.validate([{ type: 'app.tick' }, { type: 'app.tick', time: 'soon' }])).toEqual([
      {
        index: 1,
        issues: [{ path: ['events', 1, 'time'], message: 'expected epoch milliseconds, a Date or an ISO 8601 string, received "soon"' }],
      },
    ]);
  });

  it('never repeats a prefix', async () => {
    for (const [, input] of records) {
      const message = await messageOf(log.record(input as never));
      expect(message).not.toMatch(/Invalid input/);
      expect(message.match(/expected/g)?.length).toBe(message.split('; ').length);
    }
  });

  it('accepts ISO 8601 times with a zone, and dates', async () => {
    const stored = await log.record({ type: 'app.tick', time: '2024-03-01T10:00:00.250+02:00' });
    expect(stored.time).toBe(Date.UTC(2024, 2, 1, 8, 0, 0, 250));
    expect((await log.record({ type: 'app.tick', time: '2024-03-01' })).time).toBe(Date.UTC(2024, 2, 1));
  });
});
